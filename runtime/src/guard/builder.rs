//! [`RouteGuardBuilder`]: every setting of a [`RouteGuard`], checked when it is built.

use std::sync::Arc;

use actix_web::http::header::HeaderValue;
use sha2::{Digest as _, Sha256};

use super::{DEFAULT_REALM, Inner, RouteGuard};
use crate::auth::Authenticator;
use crate::auth::chain::{Chain, Enrich};
use crate::client::geo::CountryResolver;
use crate::client::{NetworkConfig, TrustedProxies};
use crate::config::ConfigError;
use crate::identity::hierarchy::RoleHierarchy;
use crate::metadata::ResourceMetadata;
use crate::observe::{Observer, OnDecision, scheme_label};
use crate::refusal::Denial;
use crate::refusal::render::RenderRefusal;
use crate::store::{Lockout, MemoryStore, SharedStore, WhenStoreDown};

/// Configures a [`RouteGuard`]; see [`RouteGuard::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct RouteGuardBuilder {
    authenticators: Vec<Box<dyn Authenticator>>,
    /// A name given with `named`, by authenticator.
    names: Vec<Option<String>>,
    enricher: Option<Box<dyn Enrich>>,
    realm: String,
    hierarchy: RoleHierarchy,
    network: NetworkConfig,
    renderer: Option<Box<dyn RenderRefusal>>,
    on_decision: Option<Box<dyn OnDecision>>,
    report_grants: bool,
    pseudonym_key: Option<Vec<u8>>,
    metadata: Option<ResourceMetadata>,
    store: Option<Arc<dyn SharedStore>>,
    when_store_down: WhenStoreDown,
    lockout: Option<Lockout>,
}

impl RouteGuardBuilder {
    /// A builder over `authenticator` with the defaults.
    pub(super) fn new(authenticator: impl Authenticator) -> Self {
        RouteGuardBuilder {
            authenticators: vec![Box::new(authenticator)],
            names: vec![None],
            enricher: None,
            realm: DEFAULT_REALM.to_owned(),
            hierarchy: RoleHierarchy::default(),
            network: NetworkConfig::default(),
            renderer: None,
            on_decision: None,
            report_grants: false,
            pseudonym_key: None,
            metadata: None,
            store: None,
            when_store_down: WhenStoreDown::default(),
            lockout: None,
        }
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
        self.names.push(None);
        self
    }

    /// Names the authenticator added last (the one given to [`RouteGuard::builder`] until
    /// [`or`](Self::or) adds another), for rules that accept only some schemes
    /// (`#[require(all(scheme("scraper"), role("metrics")))]`) and for
    /// [`Identity::scheme`](crate::Identity::scheme). Without it an authenticator goes by
    /// [`Authenticator::name`]: `"bearer"`, `"basic"`, `"api_key"`.
    ///
    /// A route whose rule names schemes asks only the authenticators that can satisfy it, and
    /// its 401 carries only their challenges.
    ///
    /// ```
    /// use route_guard::{
    ///     Argon2Users, BasicAuthenticator, JwtAuthenticator, JwtKey, RouteGuard, hash_password,
    /// };
    ///
    /// let jwt = JwtAuthenticator::builder()
    ///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
    ///     .build()?;
    /// let hash = hash_password("a long scraper password")?;
    /// let users = Argon2Users::new().user("prometheus", &hash, ["metrics"])?;
    /// let guard = RouteGuard::builder(jwt)
    ///     .or(BasicAuthenticator::new(users)?)
    ///     .named("scraper")
    ///     .build()?;
    /// # Ok::<(), route_guard::ConfigError>(())
    /// ```
    pub fn named(mut self, name: impl Into<String>) -> Self {
        if let Some(last) = self.names.last_mut() {
            *last = Some(name.into());
        }
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

    /// Publishes protected-resource metadata (RFC 9728): serve it with
    /// [`RouteGuard::resource_metadata_service`], and every 401 challenge names its URL in
    /// `resource_metadata="…"`, so that a client finds from a refusal alone which
    /// authorization server to ask.
    pub fn resource_metadata(mut self, metadata: ResourceMetadata) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Shares revocations and replay checks with the application's other instances through
    /// `store`, such as a `RedisStore` (feature `redis`); by
    /// default a [`MemoryStore`], for one instance. Every token is checked against the
    /// revocations after it is verified, from memory, without a round trip.
    ///
    /// Build the guard once and clone it into every worker: each build subscribes anew.
    pub fn shared_store(mut self, store: impl SharedStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// What revocation checks do while the shared store is down; by default tokens are
    /// refused with 503 and `Retry-After: 5`. See [`WhenStoreDown`].
    pub fn when_store_down(mut self, when: WhenStoreDown) -> Self {
        self.when_store_down = when;
        self
    }

    /// Throttles failed logins of the Basic and API-key authenticators: past
    /// `lockout`'s limit, a user name or client address gets 429 with `Retry-After` before any
    /// password is checked, on every instance sharing the [`shared_store`](Self::shared_store).
    /// Off by default; see [`Lockout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use route_guard::store::Lockout;
    /// use route_guard::{Argon2Users, BasicAuthenticator, RouteGuard, hash_password};
    ///
    /// let users = Argon2Users::new().user("ops", &hash_password("a long ops password")?, ["ops"])?;
    /// let guard = RouteGuard::builder(BasicAuthenticator::new(users)?)
    ///     .lockout(Lockout::after(5).within(Duration::from_secs(600)))
    ///     .build()?;
    /// # Ok::<(), route_guard::ConfigError>(())
    /// ```
    pub fn lockout(mut self, lockout: Lockout) -> Self {
        self.lockout = Some(lockout);
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
        let chain = Chain::new(self.authenticators, self.names, self.enricher)?;
        let metadata = match self.metadata {
            Some(metadata) => {
                metadata.validate()?;
                let url = metadata.url().into_boxed_str();
                Some((metadata, url))
            }
            None => None,
        };
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::new()) as Arc<dyn SharedStore>);
        let (revocations, store) = super::attach(store, self.when_store_down);
        let lockout = self
            .lockout
            .map(|lockout| super::Throttle::new(lockout, &chain));
        Ok(RouteGuard {
            inner: Arc::new(Inner {
                chain: Arc::new(chain),
                realm: self.realm.into_boxed_str(),
                hierarchy: self.hierarchy,
                network: self.network,
                renderer: self.renderer,
                observer,
                metadata,
                revocations,
                store,
                lockout,
            }),
        })
    }
}
