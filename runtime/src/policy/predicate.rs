//! Application functions as rules: `#[require(policy(crate::owns_document))]`.

use std::error::Error;
use std::future::Future;

use actix_web::HttpRequest;

use crate::identity::Identity;
use crate::policy::{PredicateFuture, PredicateOutcome};

/// An async function that can decide a request: `async fn(&Identity, &HttpRequest) -> bool`,
/// or one returning `Result<bool, E>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a route-guard policy",
    label = "expected an `async fn(&Identity, &HttpRequest) -> bool`",
    note = "a policy is `async fn name(identity: &route_guard::Identity, req: &actix_web::HttpRequest) -> bool`, \
            or returns `Result<bool, E>` where `E: std::error::Error + 'static`"
)]
pub trait PolicyFn<'a> {
    /// What the function's future resolves to.
    type Output: PolicyOutput;
    /// The function's future.
    type Future: Future<Output = Self::Output> + 'a;
    /// Calls the function.
    fn call(self, identity: &'a Identity, req: &'a HttpRequest) -> Self::Future;
}

impl<'a, F, Fut> PolicyFn<'a> for F
where
    F: FnOnce(&'a Identity, &'a HttpRequest) -> Fut,
    Fut: Future + 'a,
    Fut::Output: PolicyOutput,
{
    type Output = Fut::Output;
    type Future = Fut;

    fn call(self, identity: &'a Identity, req: &'a HttpRequest) -> Fut {
        self(identity, req)
    }
}

/// What a policy function may return.
#[diagnostic::on_unimplemented(
    message = "a route-guard policy must return `bool` or `Result<bool, E>`, not `{Self}`",
    note = "for `Result<bool, E>`, `E` must implement `std::error::Error + 'static`"
)]
pub trait PolicyOutput {
    /// The answer as the guard consumes it.
    fn into_outcome(self) -> PredicateOutcome;
}

impl PolicyOutput for bool {
    fn into_outcome(self) -> PredicateOutcome {
        Ok(self)
    }
}

impl<E: Error + 'static> PolicyOutput for Result<bool, E> {
    fn into_outcome(self) -> PredicateOutcome {
        self.map_err(|error| Box::new(error) as Box<dyn Error>)
    }
}

/// Calls `policy` and boxes its answer: the adapter the guard attributes generate for each
/// `policy(path)` leaf.
#[doc(hidden)]
pub fn call_predicate<'a, F: PolicyFn<'a>>(
    policy: F,
    identity: &'a Identity,
    req: &'a HttpRequest,
) -> PredicateFuture<'a> {
    let future = policy.call(identity, req);
    Box::pin(async move { future.await.into_outcome() })
}
