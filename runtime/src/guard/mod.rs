//! The application-wide guard configuration and the per-request authentication it drives.

mod builder;
pub(crate) mod check;
pub(crate) mod extract;
mod resolve;
pub(crate) mod scope;

pub use builder::RouteGuardBuilder;
pub(crate) use resolve::{Resolution, resolve};

use std::fmt;
use std::sync::Arc;

use actix_web::http::header::HeaderValue;
use actix_web::web::Data;
use actix_web::{HttpMessage as _, HttpRequest};

use crate::auth::Authenticator;
use crate::auth::CredentialScheme;
use crate::auth::chain::{Accepted, Chain};
use crate::client::NetworkConfig;
use crate::identity::hierarchy::RoleHierarchy;
use crate::metadata::{self, ResourceMetadata};
use crate::observe::{Observer, scheme_label};
use crate::refusal::render::{Cause, Panicked, Refusal, RenderRefusal, Rendered};
use crate::refusal::{Denial, GuardError, Misconfiguration};
use crate::store::{
    EntryDigest, Lockout, MemoryStore, Replays, Revocation, RevocationView, Revocations,
    SharedStore, WhenStoreDown, now_secs,
};

/// The default protection space named in challenges.
pub const DEFAULT_REALM: &str = "api";

/// The authenticator and settings every guard of an application uses.
///
/// Register it once with `App::app_data`; it is cheap to clone.
///
/// ```
/// use actix_web::App;
/// use route_guard::{JwtAuthenticator, JwtKey, RouteGuard};
///
/// let jwt = JwtAuthenticator::builder()
///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
///     .build()?;
/// let guard = RouteGuard::builder(jwt).realm("my-api").build()?;
/// let app = App::new().app_data(guard);
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct RouteGuard {
    inner: Arc<Inner>,
}

struct Inner {
    chain: Arc<Chain>,
    realm: Box<str>,
    hierarchy: RoleHierarchy,
    network: NetworkConfig,
    renderer: Option<Box<dyn RenderRefusal>>,
    observer: Observer,
    /// Protected-resource metadata, and its URL, which every 401 challenge names.
    metadata: Option<(ResourceMetadata, Box<str>)>,
    /// Revocations this instance knows, read by every request.
    revocations: Arc<RevocationView>,
    /// Where revocations and replay checks are shared.
    store: Arc<dyn SharedStore>,
    /// Failed-login throttling, if configured.
    lockout: Option<Throttle>,
}

/// [`Lockout`] and the authenticators it counts the failures of.
pub(crate) struct Throttle {
    lockout: Lockout,
    /// Basic and API-key authenticators: their index, name, and the header an API key is in.
    counted: Box<[(usize, Arc<str>, Counted)]>,
}

enum Counted {
    Basic,
    ApiKey(actix_web::http::header::HeaderName),
}

impl Throttle {
    /// The throttle over `chain`'s Basic and API-key authenticators.
    pub(crate) fn new(lockout: Lockout, chain: &Chain) -> Self {
        let all = chain.authenticators.iter().zip(chain.names.iter());
        let counted = all
            .enumerate()
            .filter_map(|(index, (authenticator, name))| {
                let kind = match authenticator.scheme() {
                    CredentialScheme::Basic => Counted::Basic,
                    CredentialScheme::ApiKeyHeader(header) => {
                        Counted::ApiKey(actix_web::http::header::HeaderName::try_from(header).ok()?)
                    }
                    _ => return None,
                };
                Some((index, Arc::clone(name), kind))
            })
            .collect();
        Throttle { lockout, counted }
    }
}

impl RouteGuard {
    /// A guard over `authenticator` with the default realm, `api`.
    ///
    /// Unlike [`RouteGuardBuilder::build`], it cannot refuse a custom authenticator whose
    /// challenge is not a valid header value; it logs the error instead.
    pub fn new(authenticator: impl Authenticator) -> Self {
        let challenge = authenticator.challenge(DEFAULT_REALM, Denial::MissingCredentials);
        if HeaderValue::try_from(challenge.as_str()).is_err() {
            tracing::error!(
                challenge,
                "route-guard: the authenticator's challenge is not a valid header value; 401s will carry none"
            );
        }
        let schemes = Box::new([scheme_label(&challenge)]);
        let name = authenticator.name().into();
        let (revocations, store) = attach(Arc::new(MemoryStore::new()), WhenStoreDown::default());
        RouteGuard {
            inner: Arc::new(Inner {
                chain: Arc::new(Chain {
                    authenticators: Box::new([Box::new(authenticator) as Box<dyn Authenticator>]),
                    names: Box::new([name]),
                    enricher: None,
                }),
                realm: DEFAULT_REALM.into(),
                hierarchy: RoleHierarchy::default(),
                network: NetworkConfig::default(),
                renderer: None,
                observer: Observer::new(None, false, None, schemes),
                metadata: None,
                revocations,
                store,
                lockout: None,
            }),
        }
    }

    /// Starts a configuration with more settings than [`RouteGuard::new`] takes.
    pub fn builder(authenticator: impl Authenticator) -> RouteGuardBuilder {
        RouteGuardBuilder::new(authenticator)
    }

    /// The realm named in challenges.
    #[must_use]
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// The role hierarchy every role check honours.
    #[must_use]
    pub fn role_hierarchy(&self) -> &RoleHierarchy {
        &self.inner.hierarchy
    }

    pub(crate) fn network(&self) -> &NetworkConfig {
        &self.inner.network
    }

    /// The guard registered for `req`: with `App::app_data(guard)`, or, the common actix habit,
    /// as `web::Data<RouteGuard>`.
    pub(crate) fn registered(req: &HttpRequest) -> Option<&RouteGuard> {
        req.app_data::<RouteGuard>().or_else(|| {
            req.app_data::<Data<RouteGuard>>()
                .map(|data| data.get_ref())
        })
    }

    /// The 500 for a guarded route without a registered guard, logged.
    pub(crate) fn missing(req: &HttpRequest) -> GuardError {
        let denial = Denial::Misconfigured(Misconfiguration::NoRouteGuard);
        tracing::error!(path = req.path(), "route-guard: {denial}");
        GuardError::new(denial, None)
    }

    /// Tells this guard's configuration from another's (a scope may register its own).
    pub(crate) fn key(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// The error response for `denial` on `req`, with the challenges it calls for, in the
    /// scheme of the authenticator that accepted the request's credentials (the first
    /// registered one if none did).
    #[must_use]
    pub fn reject(&self, req: &HttpRequest, denial: Denial) -> GuardError {
        // The authenticator that accepted the credentials renders refusals that come after
        // authentication (`insufficient_scope` is a Bearer error, not an API-key one).
        let by = req
            .extensions()
            .get::<resolve::AuthenticatedBy>()
            .filter(|by| by.guard == self.key())
            .map_or(0, |by| by.index);
        self.reject_by(by, denial, req, None, Accepted::ALL)
    }

    /// [`reject`](Self::reject) for a refusal by an address or country rule.
    pub(crate) fn reject_by_address(&self, req: &HttpRequest, denial: Denial) -> GuardError {
        self.reject_by(0, denial, req, Some(Cause::Address), Accepted::ALL)
    }

    /// The error response for `denial` decided by authenticator `by` (`usize::MAX`: by none).
    ///
    /// A 401 lists every scheme the route accepts: `by`'s challenge for the denial, the
    /// others' bare ones (RFC 9110 §11.6.1). A 400 or an `insufficient_scope` 403 carries
    /// `by`'s only.
    pub(crate) fn reject_by(
        &self,
        by: usize,
        denial: Denial,
        req: &HttpRequest,
        cause: Option<Cause>,
        accepted: Accepted,
    ) -> GuardError {
        let realm = &self.inner.realm;
        let metadata = self.inner.metadata.as_ref().map(|(_, url)| &**url);
        let challenge = |authenticator: &dyn Authenticator, denial: Denial| {
            let texts = authenticator.challenges(realm, denial, req);
            texts.into_iter().filter_map(move |mut text| {
                // RFC 9728 §5.1: a 401 tells the client where the resource's metadata is.
                if let Some(url) = metadata
                    && denial.status() == actix_web::http::StatusCode::UNAUTHORIZED
                {
                    let separator = if text.contains(' ') { ", " } else { " " };
                    text.push_str(&format!("{separator}resource_metadata=\"{url}\""));
                }
                HeaderValue::try_from(text).ok()
            })
        };
        let challenges = match denial {
            Denial::MissingCredentials
            | Denial::UnsupportedScheme
            | Denial::InvalidToken(_)
            | Denial::InvalidProof(_) => {
                let all = self.inner.chain.authenticators.iter().enumerate();
                all.filter(|(index, _)| accepted.has(*index))
                    .flat_map(|(index, authenticator)| {
                        let own = if index == by {
                            denial
                        } else {
                            Denial::MissingCredentials
                        };
                        challenge(&**authenticator, own)
                    })
                    .collect()
            }
            Denial::InvalidRequest(_)
            | Denial::InsufficientScope(_)
            | Denial::InsufficientUserAuthentication(_) => {
                let authenticators = &self.inner.chain.authenticators;
                let decider = authenticators.get(by).or(authenticators.first());
                decider
                    .into_iter()
                    .flat_map(|a| challenge(&**a, denial))
                    .collect()
            }
            Denial::Forbidden
            | Denial::NotFound
            | Denial::Misconfigured(_)
            | Denial::PolicyFailed
            | Denial::Unavailable { .. }
            | Denial::TooManyAttempts { .. } => Vec::new(),
        };
        // A proof without the current nonce gets one (RFC 9449 §8).
        let nonce = match denial {
            Denial::InvalidProof(_) => self.inner.chain.authenticators.get(by),
            _ => None,
        }
        .and_then(|authenticator| authenticator.dpop_nonce(denial, req))
        .and_then(|nonce| HeaderValue::try_from(nonce).ok());
        let Some(renderer) = self.inner.renderer.as_deref() else {
            return GuardError::with_challenges(denial, challenges).with_dpop_nonce(nonce);
        };
        let cause = cause.unwrap_or(match denial {
            Denial::MissingCredentials
            | Denial::UnsupportedScheme
            | Denial::InvalidToken(_)
            | Denial::InvalidProof(_)
            | Denial::InvalidRequest(_)
            | Denial::TooManyAttempts { .. } => Cause::Credentials,
            Denial::Forbidden
            | Denial::NotFound
            | Denial::InsufficientScope(_)
            | Denial::InsufficientUserAuthentication(_) => Cause::Rule,
            Denial::Misconfigured(_) | Denial::PolicyFailed | Denial::Unavailable { .. } => {
                Cause::Server
            }
        });
        match Rendered::of(renderer, &Refusal::new(denial, cause, req)) {
            Ok(rendered) => GuardError::with_challenges(denial, challenges)
                .with_dpop_nonce(nonce)
                .rendered(rendered),
            Err(Panicked) => {
                tracing::error!(%denial, path = req.path(), "route-guard: the error renderer panicked; answering 500");
                GuardError::new(Denial::PolicyFailed, None)
            }
        }
    }

    /// The actix-web resource that serves the protected-resource metadata (RFC 9728) at its
    /// well-known path, if [`RouteGuardBuilder::resource_metadata`] configured it. Register it
    /// with `App::service`; it needs no credentials.
    #[must_use]
    pub fn resource_metadata_service(&self) -> Option<actix_web::Resource> {
        let (config, _) = self.inner.metadata.as_ref()?;
        let (mut issuers, mut dpop_algs): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        let add = |into: &mut Vec<String>, found: Vec<String>| {
            for item in found {
                if !into.contains(&item) {
                    into.push(item);
                }
            }
        };
        for authenticator in self.inner.chain.authenticators.iter() {
            add(&mut issuers, authenticator.issuers());
            add(&mut dpop_algs, authenticator.dpop_algorithms());
        }
        let document = config.document(&issuers, &["header"], &dpop_algs);
        Some(metadata::service(&config.path(), document))
    }

    /// Revokes tokens and subjects, here and on every instance sharing this guard's store
    /// ([`RouteGuardBuilder::shared_store`]); call it from the application's logout endpoint.
    #[must_use]
    pub fn revocations(&self) -> Revocations {
        Revocations::new(
            Arc::clone(&self.inner.revocations),
            Arc::clone(&self.inner.store),
        )
    }

    /// Replay checks (a proof's `jti` seen once per window) on this guard's store, shared
    /// with every instance that uses the same one.
    #[must_use]
    pub fn replays(&self) -> Replays {
        Replays::new(Arc::clone(&self.inner.store))
    }

    /// Whether the revocation check may answer 503: the store can be down and the guard
    /// refuses tokens meanwhile.
    #[cfg_attr(not(feature = "utoipa"), allow(dead_code))]
    pub(crate) fn revocations_may_be_unavailable(&self) -> bool {
        self.inner.store.may_be_unavailable()
            && matches!(
                self.inner.revocations.when_down(),
                WhenStoreDown::Refuse { .. }
            )
    }

    /// The user name and client address failed logins of `req` are counted by: empty unless a
    /// lockout is configured and the request carries Basic or API-key credentials the route
    /// accepts.
    pub(crate) fn lockout_keys(&self, req: &HttpRequest, accepted: Accepted) -> Vec<EntryDigest> {
        let Some(throttle) = &self.inner.lockout else {
            return Vec::new();
        };
        let mut keys = Vec::new();
        let mut presented = false;
        for (index, name, kind) in throttle.counted.iter() {
            if !accepted.has(*index) {
                continue;
            }
            match kind {
                Counted::Basic => {
                    if let Some(user) = crate::auth::basic::user_name(req) {
                        keys.push(EntryDigest::of("lockout-user", name, &user));
                        presented = true;
                    }
                }
                Counted::ApiKey(header) => presented |= req.headers().contains_key(header),
            }
        }
        if presented && let Ok(address) = self.inner.network.proxies.client(req) {
            keys.push(EntryDigest::of("lockout-address", "", &address.to_string()));
        }
        keys
    }

    /// Whether authenticator `index` is one whose failures are counted.
    pub(crate) fn counts_failures_of(&self, index: usize) -> bool {
        self.inner
            .lockout
            .as_ref()
            .is_some_and(|t| t.counted.iter().any(|(i, _, _)| *i == index))
    }

    /// Counts one failed login for each of `keys` in the background, and locks those that
    /// reach the limit, here at once and on every instance through the store.
    pub(crate) fn count_failures(&self, keys: Vec<EntryDigest>) {
        let Some(throttle) = &self.inner.lockout else {
            return;
        };
        let Lockout { failures, window } = throttle.lockout;
        let (store, view) = (
            Arc::clone(&self.inner.store),
            Arc::clone(&self.inner.revocations),
        );
        actix_web::rt::spawn(async move {
            for key in keys {
                match store.count_failure(key, window).await {
                    Ok((count, left)) if count >= failures => {
                        let lock = Revocation::Lock {
                            digest: key,
                            until: now_secs() + left.as_secs().max(1),
                        };
                        view.apply(lock);
                        tracing::warn!(count, "route-guard: too many failed logins; locked");
                        if let Err(error) = store.publish(lock).await {
                            tracing::warn!(%error, "route-guard: a login lock was not shared");
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "route-guard: a failed login was not counted");
                    }
                }
            }
        });
    }

    /// The revocation check of an authenticated identity.
    pub(crate) fn revocation_view(&self) -> &RevocationView {
        &self.inner.revocations
    }

    pub(crate) fn chain(&self) -> &Arc<Chain> {
        &self.inner.chain
    }

    pub(crate) fn observer(&self) -> &Observer {
        &self.inner.observer
    }

    /// The index of the authenticator that accepted (`authenticated`) or refused the request's
    /// credentials; `None` when none found any.
    pub(crate) fn decided_by(&self, req: &HttpRequest, authenticated: bool) -> Option<usize> {
        let recorded = req
            .extensions()
            .get::<resolve::AuthenticatedBy>()
            .filter(|by| by.guard == self.key())
            .map(|by| by.index);
        // The first authenticator's acceptance is not recorded: it is the common case.
        recorded.or(authenticated.then_some(0))
    }
}

/// A new view of revocations, kept fresh by `store` from now on.
pub(crate) fn attach(
    store: Arc<dyn SharedStore>,
    when_down: WhenStoreDown,
) -> (Arc<RevocationView>, Arc<dyn SharedStore>) {
    let view = Arc::new(RevocationView::new(when_down));
    store.attach(Arc::clone(&view));
    (view, store)
}

impl fmt::Debug for RouteGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteGuard")
            .field("realm", &self.inner.realm)
            .finish_non_exhaustive()
    }
}
