//! The extractors a guarded handler receives: [`Guarded`] (injected by the attributes) and
//! [`Authenticated`] (asked for by the handler).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{self, Either, FutureExt as _, LocalBoxFuture, Ready};
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::error::{Denial, GuardError, Misconfiguration, TokenProblem};
use crate::guard::{Resolution, RouteGuard, resolve};
use crate::hierarchy::RoleHierarchy;
use crate::identity::{Identity, Roles};
use crate::policy::{Policy, Subject, Verdict, judge, judge_async};

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
    identity: Arc<Identity>,
    policy: PhantomData<fn() -> P>,
}

impl<P> Guarded<P> {
    /// The identity that passed the policy.
    #[must_use]
    pub fn identity(&self) -> &Identity {
        &self.identity
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
    type Future = ExtractFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if !const { P::RULE.has_predicate() } {
            let req = req.clone();
            return with_identity(&req.clone(), move |identity| {
                let verdict = judge(&P::RULE, &subject(&req, &identity));
                decide::<P>(&req, identity, verdict)
            });
        }
        let resolution = resolve(req);
        let req = req.clone();
        Either::Right(
            async move {
                let identity = resolution.finish().await?;
                match judge_async(&P::RULE, subject(&req, &identity), &req).await {
                    Ok(verdict) => decide::<P>(&req, identity, verdict),
                    Err(error) => {
                        tracing::error!(%error, rule = ?P::RULE, path = req.path(), "route-guard: a policy predicate failed");
                        Err(GuardError::new(Denial::PolicyFailed, None))
                    }
                }
            }
            .boxed_local(),
        )
    }
}

/// What `identity` is checked against: itself and the application's role hierarchy.
fn subject<'a>(req: &'a HttpRequest, identity: &'a Identity) -> Subject<'a> {
    let hierarchy = req
        .app_data::<RouteGuard>()
        .map_or(RoleHierarchy::none(), RouteGuard::role_hierarchy);
    Subject {
        identity,
        hierarchy,
    }
}

fn decide<P: Policy>(
    req: &HttpRequest,
    identity: Arc<Identity>,
    verdict: Verdict,
) -> Result<Guarded<P>, GuardError> {
    let denial = match verdict {
        Verdict::Allow => {
            return Ok(Guarded {
                identity,
                policy: PhantomData,
            });
        }
        Verdict::MissingScope => Denial::InsufficientScope(P::SCOPES),
        Verdict::Deny => Denial::Forbidden,
    };
    tracing::debug!(
        subject = identity.subject(),
        path = req.path(),
        rule = ?P::RULE,
        %denial,
        "route-guard: refused by the route's rule"
    );
    Err(match req.app_data::<RouteGuard>() {
        Some(guard) => guard.reject(denial),
        None => GuardError::new(denial, None),
    })
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
        Subject {
            identity: &self.identity,
            hierarchy,
        }
        .has_role(role)
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
        let guard = req.app_data::<RouteGuard>().cloned();
        with_identity(req, move |identity| {
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
                        Some(guard) => guard.reject(denial),
                        None => GuardError::new(
                            Denial::Misconfigured(Misconfiguration::NoRouteGuard),
                            None,
                        ),
                    })
                }
            }
        })
    }
}
