//! Several credential schemes on one guard, and the application's hook that enriches an
//! identity after authentication.
//!
//! Authenticators are asked in the order they were registered. One that finds none of its
//! credentials (no header, another scheme) defers to the next; the first that finds its
//! credentials decides, whether it accepts or refuses them. When every one defers, the 401
//! carries one challenge per scheme (RFC 9110 §11.6.1).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use actix_web::{HttpMessage as _, HttpRequest};
use futures_util::FutureExt as _;
use futures_util::future::LocalBoxFuture;

use crate::authenticator::{AuthFuture, AuthResult};
use crate::error::{Denial, GuardError};
use crate::guard::RouteGuard;
use crate::identity::Identity;

/// The outcome a route's extractors share.
pub(crate) type Outcome = Result<Arc<Identity>, GuardError>;

/// An outcome known now, or one that needs I/O first.
pub(crate) enum Started {
    Now(Outcome),
    Later(LocalBoxFuture<'static, Outcome>),
}

/// Loads or adds to an identity after authentication, from the application's own store.
///
/// Runs once per request, after an authenticator accepted the credentials and before any rule
/// is checked. Any `Fn(Arc<Identity>) -> impl Future<Output = AuthResult>` closure implements
/// it. Return [`Denial::Forbidden`] to refuse a known caller (a disabled account) and
/// [`Denial::Unavailable`] when the store is down: the guard then answers 503 rather than guess.
///
/// ```
/// use std::sync::Arc;
/// use route_guard::{AuthResult, Identity, JwtAuthenticator, JwtKey, RouteGuard};
///
/// async fn roles_from_db(subject: &str) -> Vec<String> {
///     if subject == "alice" { vec!["admin".into()] } else { vec![] }
/// }
///
/// let jwt = JwtAuthenticator::builder()
///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
///     .build()?;
/// let guard = RouteGuard::builder(jwt)
///     .enrich(|identity: Arc<Identity>| async move {
///         let extra = roles_from_db(identity.subject()).await;
///         AuthResult::Ok(Arc::new(identity.with_extra_roles(extra)))
///     })
///     .build()?;
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[diagnostic::on_unimplemented(
    note = "pass a closure `|identity: Arc<Identity>| async move {{ .. Ok(identity) }}` \
            returning `route_guard::AuthResult`"
)]
pub trait Enrich: Send + Sync + 'static {
    /// The identity the route's rules will see.
    fn enrich(&self, identity: Arc<Identity>) -> AuthFuture;
}

impl<F, Fut> Enrich for F
where
    F: Fn(Arc<Identity>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = AuthResult> + 'static,
{
    fn enrich(&self, identity: Arc<Identity>) -> AuthFuture {
        AuthFuture::new(self(identity))
    }
}

/// What one authenticator's answer means for the chain.
enum Step {
    Next,
    Accepted(Arc<Identity>),
    Refused(Denial),
}

/// Whether some authenticator saw credentials in a scheme it does not take.
#[derive(Default, Clone, Copy)]
struct Deferred {
    unsupported: bool,
}

impl Deferred {
    fn judge(&mut self, result: AuthResult) -> Step {
        match result {
            Ok(identity) => Step::Accepted(identity),
            Err(Denial::MissingCredentials) => Step::Next,
            Err(Denial::UnsupportedScheme) => {
                self.unsupported = true;
                Step::Next
            }
            Err(denial) => Step::Refused(denial),
        }
    }

    fn denial(self) -> Denial {
        if self.unsupported {
            Denial::UnsupportedScheme
        } else {
            Denial::MissingCredentials
        }
    }
}

/// Authenticates `req` with the guard's authenticators, then enriches the identity.
pub(crate) fn authenticate(guard: &RouteGuard, req: &HttpRequest) -> Started {
    let mut deferred = Deferred::default();
    for (index, authenticator) in guard.authenticators().iter().enumerate() {
        match authenticator.authenticate(req).into_ready() {
            Ok(result) => match deferred.judge(result) {
                Step::Next => {}
                Step::Accepted(identity) => return enrich(guard, req, index, identity),
                Step::Refused(denial) => {
                    return Started::Now(Err(refuse(guard, req, index, denial)));
                }
            },
            Err(pending) => {
                let rest = rest(guard.clone(), req.clone(), index, pending, deferred);
                return Started::Later(Box::pin(rest));
            }
        }
    }
    Started::Now(Err(refuse(guard, req, usize::MAX, deferred.denial())))
}

/// The chain from an authenticator that answers later.
async fn rest(
    guard: RouteGuard,
    req: HttpRequest,
    mut index: usize,
    pending: AuthFuture,
    mut deferred: Deferred,
) -> Outcome {
    let mut result = pending.await;
    loop {
        match deferred.judge(result) {
            Step::Next => {}
            Step::Accepted(identity) => {
                return match enrich(&guard, &req, index, identity) {
                    Started::Now(outcome) => outcome,
                    Started::Later(future) => future.await,
                };
            }
            Step::Refused(denial) => return Err(refuse(&guard, &req, index, denial)),
        }
        index += 1;
        let Some(next) = guard.authenticators().get(index) else {
            return Err(refuse(&guard, &req, usize::MAX, deferred.denial()));
        };
        result = next.authenticate(&req).await;
    }
}

/// Which authenticator accepted the request's credentials, so that a later refusal (a missing
/// scope, claims that do not fit) is rendered in that authenticator's scheme.
#[derive(Clone, Copy)]
pub(crate) struct AuthenticatedBy {
    /// [`RouteGuard::key`] of the guard whose authenticators `index` counts.
    pub(crate) guard: usize,
    pub(crate) index: usize,
}

/// Runs the enrichment hook, if any, on an accepted identity.
fn enrich(guard: &RouteGuard, req: &HttpRequest, by: usize, identity: Arc<Identity>) -> Started {
    if by > 0 {
        req.extensions_mut().insert(AuthenticatedBy {
            guard: guard.key(),
            index: by,
        });
    }
    let Some(hook) = guard.enricher() else {
        return Started::Now(Ok(identity));
    };
    // A hook that panics, now or while it runs, answers 500 instead of resetting the
    // connection.
    let started = std::panic::catch_unwind(AssertUnwindSafe(|| hook.enrich(identity)));
    match started.map(AuthFuture::into_ready) {
        Ok(Ok(result)) => Started::Now(result.map_err(|denial| refuse(guard, req, by, denial))),
        Ok(Err(pending)) => {
            let (guard, req) = (guard.clone(), req.clone());
            Started::Later(Box::pin(async move {
                let result = AssertUnwindSafe(pending)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| Err(panicked()));
                result.map_err(|denial| refuse(&guard, &req, by, denial))
            }))
        }
        Err(_) => Started::Now(Err(refuse(guard, req, by, panicked()))),
    }
}

/// What a panicking enrichment hook answers: 500, logged.
fn panicked() -> Denial {
    tracing::error!("route-guard: the enrichment hook panicked");
    Denial::PolicyFailed
}

/// The response for `denial`, decided by authenticator `by` (`usize::MAX`: by none).
fn refuse(guard: &RouteGuard, req: &HttpRequest, by: usize, denial: Denial) -> GuardError {
    match denial {
        Denial::Unavailable { .. } | Denial::Misconfigured(_) | Denial::PolicyFailed => {
            tracing::warn!(%denial, path = req.path(), "route-guard: cannot authenticate");
        }
        _ => tracing::debug!(%denial, path = req.path(), "route-guard: credentials refused"),
    }
    guard.reject_by(by, denial, req, None)
}
