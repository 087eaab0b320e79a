//! The extractors a guarded handler receives: [`Guarded`] (injected by the attributes) and
//! [`Authenticated`] (asked for by the handler).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{self, Either, FutureExt as _, LocalBoxFuture, Ready};
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::engine::{Applied, CheckFuture, check};
use crate::error::{Denial, GuardError, Misconfiguration, TokenProblem};
use crate::guard::{Resolution, RouteGuard, resolve};
use crate::hierarchy::RoleHierarchy;
use crate::identity::{Identity, Roles};
use crate::policy::{Policy, Rule, Subject};

type ExtractFuture<T> =
    Either<Ready<Result<T, GuardError>>, LocalBoxFuture<'static, Result<T, GuardError>>>;

/// Runs `then` on the request's identity, now if it is known, later if it is being fetched.
fn with_identity<T: 'static>(
    req: &HttpRequest,
    then: impl FnOnce(Arc<Identity>) -> Result<T, GuardError> + 'static,
) -> ExtractFuture<T> {
    match resolve(req) {
        Resolution::Done(result) => Either::Left(future::ready(result.and_then(then))),
        pending => Either::Right(
            pending
                .finish()
                .map(|result| result.and_then(then))
                .boxed_local(),
        ),
    }
}

/// Proof that the request passed policy `P`: the parameter the guard attributes inject.
///
/// Extracting it authenticates the caller (401 on bad credentials) and then evaluates
/// `P::RULE` (403 if it does not hold). Write it by hand to guard a handler with a policy of
/// your own:
///
/// ```
/// use route_guard::{Guarded, Policy, Rule};
///
/// struct Auditors;
/// impl Policy for Auditors {
///     const RULE: Rule = Rule::Any(&[Rule::Role("auditor"), Rule::Role("admin")]);
/// }
///
/// async fn reports(_: Guarded<Auditors>) -> &'static str {
///     "numbers"
/// }
/// ```
pub struct Guarded<P> {
    identity: Option<Arc<Identity>>,
    policy: PhantomData<fn() -> P>,
}

impl<P> Guarded<P> {
    /// The identity that passed the policy; `None` when address rules alone admitted the
    /// request, without authentication.
    #[must_use]
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_deref()
    }
}

impl<P> fmt::Debug for Guarded<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guarded")
            .field("identity", &self.identity)
            .finish()
    }
}

impl<P: Policy> FromRequest for Guarded<P> {
    type Error = GuardError;
    type Future = GuardedFuture<P>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        GuardedFuture {
            check: check(req, const { Applied::of::<P>() }),
            policy: PhantomData,
        }
    }
}

/// The policy of `#[require_auth]`. Every handler it guards names this one type, so they share
/// one instance of the extractor code (and of actix-web's extraction future around it) instead
/// of one each.
#[doc(hidden)]
#[derive(Debug)]
pub struct RequireAuth;

impl Policy for RequireAuth {
    const RULE: Rule = Rule::Authenticated;
}

/// The future of [`Guarded`]: the non-generic check, wrapped so that each policy adds only this
/// small `poll` to a build, not a boxed `Map` future and vtable of its own (500 guarded
/// handlers built 2.45x slower than unguarded ones with those, 1.8x without: BENCHMARKS.md).
#[doc(hidden)]
pub struct GuardedFuture<P> {
    check: CheckFuture,
    policy: PhantomData<fn() -> P>,
}

impl<P> Future for GuardedFuture<P> {
    type Output = Result<Guarded<P>, GuardError>;

    // A `match` rather than `Poll::map` and `Result::map` with closures: each of those is one
    // more generic function per policy, and this one is instantiated for every guarded handler.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.get_mut().check).poll(cx) {
            Poll::Ready(Ok(identity)) => Poll::Ready(Ok(Guarded {
                identity,
                policy: PhantomData,
            })),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The authenticated caller, with their claims deserialized into `C`.
///
/// As a handler parameter it requires authentication by itself (401 otherwise). With the
/// default `C`, claims are not deserialized; read them through [`identity`](Self::identity).
/// With an application's own `serde::Deserialize` type, a token whose claims do not fit it is
/// refused with 401 `invalid_token`.
///
/// ```
/// use route_guard::Authenticated;
///
/// #[derive(serde::Deserialize)]
/// struct Claims {
///     tenant: String,
/// }
///
/// async fn tenant(user: Authenticated<Claims>) -> String {
///     format!("{} of {}", user.subject(), user.claims().tenant)
/// }
/// ```
pub struct Authenticated<C = IgnoredAny> {
    identity: Arc<Identity>,
    guard: Option<RouteGuard>,
    claims: C,
}

impl<C> Authenticated<C> {
    /// The subject (`sub`) of the credential.
    #[must_use]
    pub fn subject(&self) -> &str {
        self.identity.subject()
    }

    /// The caller's roles.
    #[must_use]
    pub fn roles(&self) -> &Roles {
        self.identity.roles()
    }

    /// Whether the caller holds `role`, directly or through the application's
    /// [`RoleHierarchy`], exactly as `#[require_role]` decides.
    #[must_use]
    pub fn has_role(&self, role: &str) -> bool {
        let hierarchy = self
            .guard
            .as_ref()
            .map_or(RoleHierarchy::none(), RouteGuard::role_hierarchy);
        Subject::new(Some(&self.identity), hierarchy, None).has_role(role) == Some(true)
    }

    /// The claims, as the application's type.
    #[must_use]
    pub fn claims(&self) -> &C {
        &self.claims
    }

    /// The claims, taken out.
    #[must_use]
    pub fn into_claims(self) -> C {
        self.claims
    }

    /// The whole verified identity, with every claim as JSON.
    #[must_use]
    pub fn identity(&self) -> &Identity {
        &self.identity
    }
}

impl<C: fmt::Debug> fmt::Debug for Authenticated<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticated")
            .field("identity", &self.identity)
            .field("claims", &self.claims)
            .finish()
    }
}

impl<C: DeserializeOwned + 'static> FromRequest for Authenticated<C> {
    type Error = GuardError;
    type Future = ExtractFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        with_identity(&req.clone(), move |identity| authenticated(&req, identity))
    }
}

/// The caller's claims as `C`, or 401 `invalid_token` when they do not fit it.
fn authenticated<C: DeserializeOwned>(
    req: &HttpRequest,
    identity: Arc<Identity>,
) -> Result<Authenticated<C>, GuardError> {
    let guard = req.app_data::<RouteGuard>().cloned();
    match C::deserialize(identity.claims_value()) {
        Ok(claims) => Ok(Authenticated {
            identity,
            guard,
            claims,
        }),
        Err(error) => {
            tracing::debug!(%error, "route-guard: claims do not fit the application's type");
            let denial = Denial::InvalidToken(TokenProblem::UnusableClaims);
            // Identity is only ever resolved through a registered guard.
            Err(match guard {
                Some(guard) => guard.reject(req, denial),
                None => {
                    GuardError::new(Denial::Misconfigured(Misconfiguration::NoRouteGuard), None)
                }
            })
        }
    }
}

/// The caller if they presented credentials, `None` for an anonymous request.
///
/// Unlike `Option<Authenticated>` (actix-web turns *any* extraction error into `None`),
/// credentials that are presented but do not verify still answer 401: an invalid token never
/// silently becomes an anonymous caller. Only a request that carries no credentials at all is
/// anonymous; credentials in a scheme the application does not accept get 401 with the
/// challenges it does accept.
///
/// ```
/// use route_guard::MaybeAuthenticated;
///
/// async fn greeting(user: MaybeAuthenticated) -> String {
///     match user.into_inner() {
///         Some(user) => format!("hello, {}", user.subject()),
///         None => "hello, stranger".to_owned(),
///     }
/// }
/// ```
pub struct MaybeAuthenticated<C = IgnoredAny>(Option<Authenticated<C>>);

impl<C> MaybeAuthenticated<C> {
    /// The caller, if authenticated.
    #[must_use]
    pub fn as_ref(&self) -> Option<&Authenticated<C>> {
        self.0.as_ref()
    }

    /// The caller, if authenticated, taken out.
    #[must_use]
    pub fn into_inner(self) -> Option<Authenticated<C>> {
        self.0
    }
}

impl<C: fmt::Debug> fmt::Debug for MaybeAuthenticated<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MaybeAuthenticated").field(&self.0).finish()
    }
}

impl<C: DeserializeOwned + 'static> FromRequest for MaybeAuthenticated<C> {
    type Error = GuardError;
    type Future = ExtractFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let anonymous = |result: Result<Authenticated<C>, GuardError>| match result {
            Ok(user) => Ok(MaybeAuthenticated(Some(user))),
            Err(error) if error.denial() == Denial::MissingCredentials => {
                Ok(MaybeAuthenticated(None))
            }
            Err(error) => Err(error),
        };
        match Authenticated::<C>::from_request(req, payload) {
            Either::Left(ready) => Either::Left(future::ready(anonymous(ready.into_inner()))),
            Either::Right(later) => Either::Right(later.map(anonymous).boxed_local()),
        }
    }
}
