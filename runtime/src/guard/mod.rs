//! The application-wide guard configuration and the per-request authentication it drives.

pub(crate) mod check;
pub(crate) mod extract;
mod resolve;
pub(crate) mod scope;

pub(crate) use resolve::{Resolution, resolve};

use std::fmt;
use std::sync::Arc;

use actix_web::http::header::HeaderValue;
use actix_web::web::Data;
use actix_web::{HttpMessage as _, HttpRequest};
use sha2::{Digest as _, Sha256};

use crate::auth::Authenticator;
use crate::auth::chain::{Chain, Enrich};
use crate::client::geo::CountryResolver;
use crate::client::{NetworkConfig, TrustedProxies};
use crate::config::ConfigError;
use crate::identity::hierarchy::RoleHierarchy;
use crate::observe::{Observer, OnDecision, scheme_label};
use crate::refusal::render::{Cause, Panicked, Refusal, RenderRefusal, Rendered};
use crate::refusal::{Denial, GuardError, Misconfiguration};

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
}

/// Configures a [`RouteGuard`]; see [`RouteGuard::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct RouteGuardBuilder {
    authenticators: Vec<Box<dyn Authenticator>>,
    enricher: Option<Box<dyn Enrich>>,
    realm: String,
    hierarchy: RoleHierarchy,
    network: NetworkConfig,
    renderer: Option<Box<dyn RenderRefusal>>,
    on_decision: Option<Box<dyn OnDecision>>,
    report_grants: bool,
    pseudonym_key: Option<Vec<u8>>,
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
        RouteGuard {
            inner: Arc::new(Inner {
                chain: Arc::new(Chain {
                    authenticators: Box::new([Box::new(authenticator) as Box<dyn Authenticator>]),
                    enricher: None,
                }),
                realm: DEFAULT_REALM.into(),
                hierarchy: RoleHierarchy::default(),
                network: NetworkConfig::default(),
                renderer: None,
                observer: Observer::new(None, false, None, schemes),
            }),
        }
    }

    /// Starts a configuration with more settings than [`RouteGuard::new`] takes.
    pub fn builder(authenticator: impl Authenticator) -> RouteGuardBuilder {
        RouteGuardBuilder {
            authenticators: vec![Box::new(authenticator)],
            enricher: None,
            realm: DEFAULT_REALM.to_owned(),
            hierarchy: RoleHierarchy::default(),
            network: NetworkConfig::default(),
            renderer: None,
            on_decision: None,
            report_grants: false,
            pseudonym_key: None,
        }
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
        self.reject_by(by, denial, req, None)
    }

    /// [`reject`](Self::reject) for a refusal by an address or country rule.
    pub(crate) fn reject_by_address(&self, req: &HttpRequest, denial: Denial) -> GuardError {
        self.reject_by(0, denial, req, Some(Cause::Address))
    }

    /// The error response for `denial` decided by authenticator `by` (`usize::MAX`: by none).
    ///
    /// A 401 lists every accepted scheme: `by`'s challenge for the denial, the others' bare
    /// ones (RFC 9110 §11.6.1). A 400 or an `insufficient_scope` 403 carries `by`'s only.
    pub(crate) fn reject_by(
        &self,
        by: usize,
        denial: Denial,
        req: &HttpRequest,
        cause: Option<Cause>,
    ) -> GuardError {
        let realm = &self.inner.realm;
        let challenge = |authenticator: &dyn Authenticator, denial| {
            HeaderValue::try_from(authenticator.challenge(realm, denial)).ok()
        };
        let challenges = match denial {
            Denial::MissingCredentials | Denial::UnsupportedScheme | Denial::InvalidToken(_) => {
                let all = self.inner.chain.authenticators.iter().enumerate();
                all.filter_map(|(index, authenticator)| {
                    let own = if index == by {
                        denial
                    } else {
                        Denial::MissingCredentials
                    };
                    challenge(&**authenticator, own)
                })
                .collect()
            }
            Denial::InvalidRequest(_) | Denial::InsufficientScope(_) => {
                let authenticators = &self.inner.chain.authenticators;
                let decider = authenticators.get(by).or(authenticators.first());
                decider
                    .and_then(|a| challenge(&**a, denial))
                    .into_iter()
                    .collect()
            }
            Denial::Forbidden
            | Denial::NotFound
            | Denial::Misconfigured(_)
            | Denial::PolicyFailed
            | Denial::Unavailable { .. } => Vec::new(),
        };
        let Some(renderer) = self.inner.renderer.as_deref() else {
            return GuardError::with_challenges(denial, challenges);
        };
        let cause = cause.unwrap_or(match denial {
            Denial::MissingCredentials
            | Denial::UnsupportedScheme
            | Denial::InvalidToken(_)
            | Denial::InvalidRequest(_) => Cause::Credentials,
            Denial::Forbidden | Denial::NotFound | Denial::InsufficientScope(_) => Cause::Rule,
            Denial::Misconfigured(_) | Denial::PolicyFailed | Denial::Unavailable { .. } => {
                Cause::Server
            }
        });
        match Rendered::of(renderer, &Refusal::new(denial, cause, req)) {
            Ok(rendered) => GuardError::with_challenges(denial, challenges).rendered(rendered),
            Err(Panicked) => {
                tracing::error!(%denial, path = req.path(), "route-guard: the error renderer panicked; answering 500");
                GuardError::new(Denial::PolicyFailed, None)
            }
        }
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

impl fmt::Debug for RouteGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteGuard")
            .field("realm", &self.inner.realm)
            .finish_non_exhaustive()
    }
}

impl RouteGuardBuilder {
    /// The protection space named in every challenge (RFC 9110 §11.5); default `api`.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Also accepts credentials `authenticator` understands, e.g. Basic or an API key beside
    /// bearer tokens. Authenticators are asked in order; one that finds none of its
    /// credentials defers to the next, and a 401 lists every scheme's challenge.
    ///
    /// ```
    /// use route_guard::{ApiKeyAuthenticator, JwtAuthenticator, JwtKey, RouteGuard};
    ///
    /// let jwt = JwtAuthenticator::builder()
    ///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
    ///     .build()?;
    /// let keys = ApiKeyAuthenticator::builder()
    ///     .key("a long random key for the nightly export job", "export-job", ["exporter"])
    ///     .build()?;
    /// let guard = RouteGuard::builder(jwt).or(keys).build()?;
    /// # Ok::<(), route_guard::ConfigError>(())
    /// ```
    pub fn or(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticators.push(Box::new(authenticator));
        self
    }

    /// Runs `hook` after authentication to load or add roles from the application's own
    /// store; see [`Enrich`].
    pub fn enrich(mut self, hook: impl Enrich) -> Self {
        self.enricher = Some(Box::new(hook));
        self
    }

    /// Which roles include which, honoured by every role check; see [`RoleHierarchy`].
    pub fn role_hierarchy(mut self, hierarchy: RoleHierarchy) -> Self {
        self.hierarchy = hierarchy;
        self
    }

    /// Believes `Forwarded` / `X-Forwarded-For` from these proxies when finding the client
    /// address for address and country rules; by default no proxy is trusted and the client is
    /// the socket peer.
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.network.proxies = proxies;
        self
    }

    /// Locates client addresses for `#[allow_countries]` and `#[block_countries]`.
    pub fn countries(mut self, resolver: impl CountryResolver) -> Self {
        self.network.countries = Some(Arc::new(resolver));
        self
    }

    /// What a country rule does when the resolver does not know the client's country. By
    /// default the address is in no country: allow-lists deny it and block-lists let it
    /// through. With `true`, no country rule counts an unknown location in the request's
    /// favour, so block-lists deny it too; other parts of a rule, such as
    /// `any(country("DE"), role("admin"))`'s role, still decide.
    pub fn deny_unknown_country(mut self, deny: bool) -> Self {
        self.network.deny_unknown_country = deny;
        self
    }

    /// Renders refusals the application's way; see [`RenderRefusal`]. Statuses and
    /// challenges stay the guard's.
    ///
    /// ```
    /// use actix_web::HttpResponse;
    /// use route_guard::{JwtAuthenticator, JwtKey, Refusal, RouteGuard};
    ///
    /// let jwt = JwtAuthenticator::builder()
    ///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
    ///     .build()?;
    /// let guard = RouteGuard::builder(jwt)
    ///     .render_errors(|refusal: &Refusal<'_>| {
    ///         Some(HttpResponse::build(refusal.status()).json(serde_json::json!({
    ///             "error": refusal.status().as_u16(),
    ///             "path": refusal.request().path(),
    ///         })))
    ///     })
    ///     .build()?;
    /// # Ok::<(), route_guard::ConfigError>(())
    /// ```
    pub fn render_errors(mut self, renderer: impl RenderRefusal) -> Self {
        self.renderer = Some(Box::new(renderer));
        self
    }

    /// Calls `hook` with every request this guard refuses (and, with
    /// [`report_grants`](Self::report_grants), every one it admits), for an audit log or a
    /// security alert; see [`Decision`](crate::observe::Decision) for what it receives.
    ///
    /// ```
    /// use route_guard::observe::Decision;
    /// use route_guard::{JwtAuthenticator, JwtKey, RouteGuard};
    ///
    /// let jwt = JwtAuthenticator::builder()
    ///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
    ///     .build()?;
    /// let guard = RouteGuard::builder(jwt)
    ///     .on_decision(|decision: &Decision<'_>| {
    ///         tracing::warn!(
    ///             target: "audit",
    ///             result = %decision.outcome(),
    ///             reason = decision.reason(),
    ///             policy = decision.policy(),
    ///             subject = decision.subject().map(tracing::field::display),
    ///             "access refused"
    ///         );
    ///     })
    ///     .build()?;
    /// # Ok::<(), route_guard::ConfigError>(())
    /// ```
    pub fn on_decision(mut self, hook: impl OnDecision) -> Self {
        self.on_decision = Some(Box::new(hook));
        self
    }

    /// Whether the [`on_decision`](Self::on_decision) hook also receives the requests this
    /// guard admits; by default it receives refusals only.
    pub fn report_grants(mut self, grants: bool) -> Self {
        self.report_grants = grants;
        self
    }

    /// The secret behind the [`Pseudonym`](crate::observe::Pseudonym)s of decision events, at
    /// least 32 bytes. Give every instance of an application the same key to correlate a
    /// caller's events across instances and restarts; by default each guard draws its own at
    /// random, so pseudonyms are stable only while the process runs.
    pub fn pseudonym_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.pseudonym_key = Some(key.as_ref().to_vec());
        self
    }

    /// Checks the configuration and builds the guard.
    pub fn build(self) -> Result<RouteGuard, ConfigError> {
        // The realm is sent inside a quoted-string: printable ASCII without `"` or `\`
        // keeps it valid without escaping, in every client's parser.
        let printable = |c: char| c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\';
        if self.realm.is_empty() || !self.realm.chars().all(printable) {
            return Err(ConfigError::new(format!(
                "the realm {:?} must be non-empty printable ASCII without quotes or backslashes",
                self.realm
            )));
        }
        // A challenge that is not a valid header value would be dropped from every 401, which
        // then tells the client nothing of how to authenticate: refuse it now.
        for authenticator in &self.authenticators {
            for denial in [
                Denial::MissingCredentials,
                Denial::InvalidToken(crate::refusal::TokenProblem::Malformed),
            ] {
                let challenge = authenticator.challenge(&self.realm, denial);
                if challenge.is_empty() || HeaderValue::try_from(challenge.as_str()).is_err() {
                    return Err(ConfigError::new(format!(
                        "an authenticator's challenge {challenge:?} is not a valid \
                         WWW-Authenticate value (printable ASCII, not empty)"
                    )));
                }
            }
        }
        let key = match self.pseudonym_key {
            Some(key) if key.len() < 32 => {
                return Err(ConfigError::new(format!(
                    "the pseudonym key is {} bytes; it must be at least 32 (a random secret)",
                    key.len()
                )));
            }
            Some(key) => Some(Sha256::digest(&key).into()),
            None => None,
        };
        let schemes = self
            .authenticators
            .iter()
            .map(|a| scheme_label(&a.challenge(&self.realm, Denial::MissingCredentials)))
            .collect();
        let observer = Observer::new(self.on_decision, self.report_grants, key, schemes);
        Ok(RouteGuard {
            inner: Arc::new(Inner {
                chain: Arc::new(Chain {
                    authenticators: self.authenticators.into_boxed_slice(),
                    enricher: self.enricher,
                }),
                realm: self.realm.into_boxed_str(),
                hierarchy: self.hierarchy,
                network: self.network,
                renderer: self.renderer,
                observer,
            }),
        })
    }
}
