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

use actix_web::HttpRequest;
use futures_util::FutureExt as _;
use futures_util::future::LocalBoxFuture;

use crate::auth::{AuthFuture, AuthResult, Authenticator};
use crate::identity::Identity;
use crate::refusal::Denial;

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

/// The schemes one guard accepts, in order, and the hook that enriches what they accept.
pub(crate) struct Chain {
    pub(crate) authenticators: Box<[Box<dyn Authenticator>]>,
    /// Each authenticator's name, as rules (`scheme("basic")`) and identities use it.
    pub(crate) names: Box<[Arc<str>]>,
    pub(crate) enricher: Option<Box<dyn Enrich>>,
}

/// Which of a guard's authenticators a route accepts, one bit per authenticator in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accepted(pub(crate) u64);

impl Accepted {
    /// Every authenticator: a route whose rules name no scheme.
    pub(crate) const ALL: Accepted = Accepted(u64::MAX);

    pub(crate) fn has(self, index: usize) -> bool {
        u32::try_from(index)
            .ok()
            .and_then(|index| 1u64.checked_shl(index))
            .is_some_and(|bit| self.0 & bit != 0)
    }
}

/// The most authenticators one guard may have, one bit each in [`Accepted`].
pub(crate) const MAX_AUTHENTICATORS: usize = 64;

/// The chain's answer: the identity and the index of the authenticator that accepted it, or
/// a refusal.
pub(crate) type Answer = Result<(Arc<Identity>, usize), Refused>;

/// A refusal, with the authenticator that decided it (`None`: no authenticator found its
/// credentials), whose scheme the challenge is rendered in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refused {
    pub(crate) by: Option<usize>,
    pub(crate) denial: Denial,
}

/// An answer known now, or one that needs I/O first.
pub(crate) enum Started {
    Now(Answer),
    Later(LocalBoxFuture<'static, Answer>),
}

impl Chain {
    /// Authenticates `req` with each authenticator the route accepts in turn, then enriches
    /// the identity.
    pub(crate) fn authenticate(self: &Arc<Self>, req: &HttpRequest, accepted: Accepted) -> Started {
        let mut deferred = Deferred::default();
        for (index, authenticator) in self.authenticators.iter().enumerate() {
            if !accepted.has(index) {
                continue;
            }
            match authenticator.authenticate(req).into_ready() {
                Ok(result) => match deferred.judge(result) {
                    Step::Next => {}
                    Step::Accepted(identity) => return self.enrich(index, identity),
                    Step::Refused(denial) => {
                        return Started::Now(Err(refused(Some(index), denial)));
                    }
                },
                Err(pending) => {
                    let rest = self
                        .clone()
                        .rest(req.clone(), index, pending, deferred, accepted);
                    return Started::Later(Box::pin(rest));
                }
            }
        }
        Started::Now(Err(refused(None, deferred.denial())))
    }

    /// The chain from an authenticator that answers later.
    async fn rest(
        self: Arc<Self>,
        req: HttpRequest,
        mut index: usize,
        pending: AuthFuture,
        mut deferred: Deferred,
        accepted: Accepted,
    ) -> Answer {
        let mut result = pending.await;
        loop {
            match deferred.judge(result) {
                Step::Next => {}
                Step::Accepted(identity) => {
                    return match self.enrich(index, identity) {
                        Started::Now(answer) => answer,
                        Started::Later(future) => future.await,
                    };
                }
                Step::Refused(denial) => return Err(refused(Some(index), denial)),
            }
            index += 1;
            while index < self.authenticators.len() && !accepted.has(index) {
                index += 1;
            }
            let Some(next) = self.authenticators.get(index) else {
                return Err(refused(None, deferred.denial()));
            };
            result = next.authenticate(&req).await;
        }
    }

    /// Runs the enrichment hook, if any, on the identity authenticator `by` accepted, which
    /// first carries that authenticator's name.
    fn enrich(&self, by: usize, identity: Arc<Identity>) -> Started {
        let identity = match self.names.get(by) {
            // The built-in authenticators name their identities themselves: no copy.
            Some(name) if identity.scheme() != Some(&**name) => {
                Arc::new(Identity::clone(&identity).with_scheme(Arc::clone(name)))
            }
            _ => identity,
        };
        let Some(hook) = &self.enricher else {
            return Started::Now(Ok((identity, by)));
        };
        let accepted = move |result: AuthResult| {
            result
                .map(|identity| (identity, by))
                .map_err(|denial| refused(Some(by), denial))
        };
        // A hook that panics, now or while it runs, answers 500 instead of resetting the
        // connection.
        let started = std::panic::catch_unwind(AssertUnwindSafe(|| hook.enrich(identity)));
        match started.map(AuthFuture::into_ready) {
            Ok(Ok(result)) => Started::Now(accepted(result)),
            Ok(Err(pending)) => Started::Later(Box::pin(async move {
                let result = AssertUnwindSafe(pending).catch_unwind().await;
                accepted(result.unwrap_or_else(|_| Err(panicked())))
            })),
            Err(_) => Started::Now(Err(refused(Some(by), panicked()))),
        }
    }
}

impl Chain {
    /// A chain of `authenticators` named `names` (`None`: the authenticator's own name).
    pub(crate) fn new(
        authenticators: Vec<Box<dyn Authenticator>>,
        names: Vec<Option<String>>,
        enricher: Option<Box<dyn Enrich>>,
    ) -> Result<Chain, crate::ConfigError> {
        if authenticators.len() > MAX_AUTHENTICATORS {
            return Err(crate::ConfigError::new(format!(
                "a RouteGuard takes at most {MAX_AUTHENTICATORS} authenticators"
            )));
        }
        let mut given = names.into_iter();
        let mut all: Vec<Arc<str>> = Vec::with_capacity(authenticators.len());
        for authenticator in &authenticators {
            let name: Arc<str> = match given.next().flatten() {
                Some(name) => name.into(),
                None => authenticator.name().into(),
            };
            if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(crate::ConfigError::new(format!(
                    "the authenticator name {name:?} must be non-empty, without whitespace"
                )));
            }
            if all.contains(&name) {
                return Err(crate::ConfigError::new(format!(
                    "two authenticators are named `{name}`, so `scheme(\"{name}\")` could \
                     not tell them apart: give one another name with `.named(..)` after adding it"
                )));
            }
            all.push(name);
        }
        Ok(Chain {
            authenticators: authenticators.into_boxed_slice(),
            names: all.into_boxed_slice(),
            enricher,
        })
    }
}

/// What a panicking enrichment hook answers: 500, logged.
fn panicked() -> Denial {
    tracing::error!("route-guard: the enrichment hook panicked");
    Denial::PolicyFailed
}

/// A refusal, logged: as a warning when the server cannot decide, else at debug level.
fn refused(by: Option<usize>, denial: Denial) -> Refused {
    match denial {
        Denial::Unavailable { .. } | Denial::Misconfigured(_) | Denial::PolicyFailed => {
            tracing::warn!(%denial, "route-guard: cannot authenticate");
        }
        _ => tracing::debug!(%denial, "route-guard: credentials refused"),
    }
    Refused { by, denial }
}
