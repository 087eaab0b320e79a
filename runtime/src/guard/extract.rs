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
use pin_project_lite::pin_project;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::guard::check::{CheckFuture, check};
use crate::guard::{Resolution, RouteGuard, resolve};
use crate::identity::hierarchy::RoleHierarchy;
use crate::identity::{Identity, Roles};
use crate::policy::{Policies, Policy, Rule, Subject};
use crate::refusal::{Denial, GuardError, TokenProblem};

type ExtractFuture<T> =
    Either<Ready<Result<T, GuardError>>, LocalBoxFuture<'static, Result<T, GuardError>>>;

/// Runs `then` on the request's identity, now if it is known, later if it is being fetched.
fn with_identity<T: 'static>(
    req: &HttpRequest,
    then: impl FnOnce(&RouteGuard, Arc<Identity>) -> Result<T, GuardError> + 'static,
) -> ExtractFuture<T> {
    let Some(guard) = RouteGuard::registered(req) else {
        return Either::Left(future::ready(Err(RouteGuard::missing(req))));
    };
    match resolve(guard, req, None) {
        Resolution::Done(result) => Either::Left(future::ready(
            result.and_then(|identity| then(guard, identity)),
        )),
        pending => {
            let guard = guard.clone();
            Either::Right(
                pending
                    .finish()
                    .map(move |result| result.and_then(|identity| then(&guard, identity)))
                    .boxed_local(),
            )
        }
    }
}

/// Proof that the request passed policies `P`: the parameter the guard attributes inject.
///
/// Extracting it authenticates the caller (401 on bad credentials) and then evaluates the
/// rules of `P` (403 if one does not hold). Only then are the extractors `T` run, so nothing
/// of the handler's own (a body read, a query parsed, an upload written) happens for a caller
/// who is refused: the guard attributes move the handler's parameters into `T`. Write it by
/// hand to guard a handler with a policy of your own:
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
///
/// Written by hand beside other parameters, as `Guarded<P>` above, the guard decides first
/// only when it can decide at once: actix-web starts every parameter's extraction before
/// awaiting any. Put those parameters into `T` (`Guarded<P, (web::Json<Item>,)>`) to have them
/// extracted after the guard passed, as the attributes do.
pub struct Guarded<P, T = ()> {
    identity: Option<Arc<Identity>>,
    /// The handler's own extractors, run after the guard passed. Not public API: the
    /// attributes destructure it in the handler's parameter list.
    #[doc(hidden)]
    pub extracted: T,
    policy: PhantomData<fn() -> P>,
}

impl<P, T> Guarded<P, T> {
    /// The identity that passed the policy; `None` when address rules alone admitted the
    /// request, without authentication.
    #[must_use]
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_deref()
    }
}

impl<P, T> fmt::Debug for Guarded<P, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guarded")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// The extractors a [`Guarded`] runs once it has passed: none (`()`), or a tuple of up to 16,
/// which actix-web extracts in order.
#[doc(hidden)]
pub trait Deferred: FromRequest {
    /// Whether the extractors may read the body: the guard then takes the payload over from
    /// actix-web and hands it on after it passed.
    const TAKES_PAYLOAD: bool;
}

impl Deferred for () {
    const TAKES_PAYLOAD: bool = false;
}

macro_rules! deferred_tuples {
    ($($T:ident),+) => {
        impl<$($T: FromRequest + 'static),+> Deferred for ($($T,)+) {
            const TAKES_PAYLOAD: bool = true;
        }
    };
}

deferred_tuples!(A);
deferred_tuples!(A, B);
deferred_tuples!(A, B, C);
deferred_tuples!(A, B, C, D);
deferred_tuples!(A, B, C, D, E);
deferred_tuples!(A, B, C, D, E, F);
deferred_tuples!(A, B, C, D, E, F, G);
deferred_tuples!(A, B, C, D, E, F, G, H);
deferred_tuples!(A, B, C, D, E, F, G, H, I);
deferred_tuples!(A, B, C, D, E, F, G, H, I, J);
deferred_tuples!(A, B, C, D, E, F, G, H, I, J, K);
deferred_tuples!(A, B, C, D, E, F, G, H, I, J, K, L);
deferred_tuples!(A, B, C, D, E, F, G, H, I, J, K, L, M);
deferred_tuples!(A, B, C, D, E, F, G, H, I, J, K, L, M, N);
deferred_tuples!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O);
deferred_tuples!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P);

impl<P: Policies, T: Deferred> FromRequest for Guarded<P, T> {
    type Error = actix_web::Error;
    type Future = GuardedFuture<P, T>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        GuardedFuture {
            state: State::Checking {
                check: check(req, P::RULES),
            },
            req: req.clone(),
            payload: if T::TAKES_PAYLOAD {
                payload.take()
            } else {
                Payload::None
            },
            identity: None,
            policy: PhantomData,
        }
    }
}

/// The policy of `#[require_auth]`. Every handler it guards names this one type, so they share
/// one instance of the guard's code instead of one each.
#[doc(hidden)]
#[derive(Debug)]
pub struct RequireAuth;

impl Policy for RequireAuth {
    const RULE: Rule = Rule::Authenticated;
    const NAME: &'static str = "route_guard::require_auth";
}

pin_project! {
    /// What a [`GuardedFuture`] is waiting for.
    #[project = StateProj]
    enum State<T: FromRequest> {
        Checking { check: CheckFuture },
        Extracting { #[pin] extracting: T::Future },
    }
}

pin_project! {
    /// The future of [`Guarded`]: the non-generic check, then the deferred extractors.
    #[doc(hidden)]
    pub struct GuardedFuture<P, T: FromRequest> {
        #[pin]
        state: State<T>,
        req: HttpRequest,
        payload: Payload,
        identity: Option<Arc<Identity>>,
        policy: PhantomData<fn() -> P>,
    }
}

impl<P, T: FromRequest> Future for GuardedFuture<P, T> {
    type Output = Result<Guarded<P, T>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Checking { check } => match Pin::new(check).poll(cx) {
                    Poll::Ready(Ok(identity)) => {
                        *this.identity = identity;
                        let extracting = T::from_request(this.req, this.payload);
                        this.state.set(State::Extracting { extracting });
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error.into())),
                    Poll::Pending => return Poll::Pending,
                },
                StateProj::Extracting { extracting } => {
                    return match extracting.poll(cx) {
                        Poll::Ready(Ok(extracted)) => Poll::Ready(Ok(Guarded {
                            identity: this.identity.take(),
                            extracted,
                            policy: PhantomData,
                        })),
                        Poll::Ready(Err(error)) => Poll::Ready(Err(error.into())),
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
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

    /// The name of the authenticator that accepted the credentials: `"bearer"`, `"basic"`,
    /// `"api_key"`, or one given with [`named`](crate::RouteGuardBuilder::named).
    #[must_use]
    pub fn scheme(&self) -> Option<&str> {
        self.identity.scheme()
    }

    /// The configured name of the issuer that vouched for the credentials, if any (see
    /// [`Identity::issuer`]).
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.identity.issuer()
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
        let request = req.clone();
        with_identity(req, move |guard, identity| {
            authenticated(&request, guard, identity)
        })
    }
}

/// The caller's claims as `C`, or 401 `invalid_token` when they do not fit it.
fn authenticated<C: DeserializeOwned>(
    req: &HttpRequest,
    guard: &RouteGuard,
    identity: Arc<Identity>,
) -> Result<Authenticated<C>, GuardError> {
    match C::deserialize(identity.claims_value()) {
        Ok(claims) => Ok(Authenticated {
            identity,
            guard: Some(guard.clone()),
            claims,
        }),
        Err(error) => {
            tracing::debug!(%error, "route-guard: claims do not fit the application's type");
            let denial = Denial::InvalidToken(TokenProblem::UnusableClaims);
            Err(guard.reject(req, denial))
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
