//! Configuring an [`IntrospectionAuthenticator`]: where the endpoint is, how the resource
//! server authenticates to it, what the answer must say, how long answers are remembered.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderValue;

use super::cache::Answers;
use super::call::Endpoint;
use super::{Inner, IntrospectionAuthenticator, Mapping, Settings};
use crate::auth::bearer::TokenSource;
use crate::auth::fetch;
use crate::auth::jwt::registered::RegisteredClaims;
use crate::auth::jwt::requirements::Requirement;
use crate::auth::jwt::{DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LEN, Preset};
use crate::config::ConfigError;
use crate::identity::claims::ClaimPath;

/// How long an active answer is remembered at most (its `exp` may end it sooner).
pub const DEFAULT_INTROSPECTION_TTL: Duration = Duration::from_secs(60);
/// How long an answer that refuses a token (inactive, or for another audience) is remembered.
pub const DEFAULT_INACTIVE_TTL: Duration = Duration::from_secs(5);
/// How long one request to the endpoint may take, connection included.
pub const DEFAULT_INTROSPECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest introspection answer read, in bytes.
pub const DEFAULT_INTROSPECTION_MAX_BODY: usize = 64 * 1024;
/// How many answers are remembered by default (4 KiB of memory budget each).
pub const DEFAULT_INTROSPECTION_ENTRIES: usize = 10_000;

/// The resource server's credentials at the introspection endpoint (RFC 7662 §2.1 requires
/// the caller to authenticate), by the method the provider registered for it.
#[derive(Clone)]
pub(crate) enum ClientAuth {
    /// `client_secret_basic`: `Authorization: Basic` of the form-encoded id and secret
    /// (RFC 6749 §2.3.1). The header is made once and marked sensitive.
    Basic { id: Box<str>, header: HeaderValue },
    /// `client_secret_post`: `client_id` and `client_secret` in the form.
    Post { id: Box<str>, secret: Secret },
}

/// A client secret: never printed, in `Debug` or anywhere else.
#[derive(Clone)]
pub(crate) struct Secret(pub(crate) Box<str>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientAuth::Basic { id, .. } => f
                .debug_struct("client_secret_basic")
                .field("client_id", id)
                .finish_non_exhaustive(),
            ClientAuth::Post { id, .. } => f
                .debug_struct("client_secret_post")
                .field("client_id", id)
                .finish_non_exhaustive(),
        }
    }
}

impl ClientAuth {
    pub(crate) fn client_id(&self) -> &str {
        match self {
            ClientAuth::Basic { id, .. } | ClientAuth::Post { id, .. } => id,
        }
    }
}

/// Where the endpoint comes from.
#[derive(Debug, Clone)]
enum EndpointChoice {
    None,
    Url(String),
    Discover(String),
}

/// Configures an [`IntrospectionAuthenticator`]; see [`IntrospectionAuthenticator::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct IntrospectionAuthenticatorBuilder {
    endpoint: EndpointChoice,
    client: Option<(String, Secret, bool)>,
    issuer: Option<String>,
    audiences: Vec<String>,
    leeway: Duration,
    roles: ClaimPath,
    more_roles: Vec<ClaimPath>,
    scopes: ClaimPath,
    permissions: ClaimPath,
    requirements: Vec<Requirement>,
    audience_required: bool,
    max_token_len: usize,
    settings: Settings,
    cache: Option<(usize, u64)>,
    name: Option<String>,
    dpop: Option<crate::auth::jwt::Dpop>,
}

impl fmt::Debug for IntrospectionAuthenticatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionAuthenticatorBuilder")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client.as_ref().map(|(id, ..)| id))
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .finish_non_exhaustive()
    }
}

impl IntrospectionAuthenticatorBuilder {
    pub(super) fn new() -> Self {
        IntrospectionAuthenticatorBuilder {
            endpoint: EndpointChoice::None,
            client: None,
            issuer: None,
            audiences: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            roles: ClaimPath::from("roles"),
            more_roles: Vec::new(),
            scopes: ClaimPath::key("scope"),
            permissions: ClaimPath::from("permissions"),
            requirements: Vec::new(),
            audience_required: false,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            settings: Settings {
                ttl: DEFAULT_INTROSPECTION_TTL,
                inactive_ttl: DEFAULT_INACTIVE_TTL,
                timeout: DEFAULT_INTROSPECTION_TIMEOUT,
                max_body: DEFAULT_INTROSPECTION_MAX_BODY,
                retry_after_secs: 5,
            },
            cache: Some((
                DEFAULT_INTROSPECTION_ENTRIES,
                DEFAULT_INTROSPECTION_ENTRIES as u64 * 4096,
            )),
            name: None,
            dpop: None,
        }
    }

    /// Sends tokens to this introspection endpoint (`https`, or `http` on a loopback address).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = EndpointChoice::Url(url.into());
        self
    }

    /// Finds the endpoint in `issuer`'s metadata (`introspection_endpoint`): OpenID Connect
    /// discovery, then RFC 8414's `/.well-known/oauth-authorization-server`, each required to
    /// name `issuer` exactly. Also requires `iss`, when an answer carries it, to be `issuer`.
    /// The metadata is read on the first token, and again after a failure.
    pub fn discover(mut self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        self.issuer = Some(issuer.clone());
        self.endpoint = EndpointChoice::Discover(issuer);
        self
    }

    /// Authenticates to the endpoint with `client_secret_basic` (RFC 6749 §2.3.1): the
    /// resource server's own client id and secret in `Authorization: Basic`. The secret is
    /// never logged or printed.
    pub fn client_secret_basic(
        mut self,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.client = Some((client_id.into(), Secret(secret.into().into()), true));
        self
    }

    /// Authenticates to the endpoint with `client_secret_post`: `client_id` and
    /// `client_secret` in the request body. The secret is never logged or printed.
    pub fn client_secret_post(
        mut self,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.client = Some((client_id.into(), Secret(secret.into().into()), false));
        self
    }

    /// Requires an active answer's `iss` to be `issuer` (RFC 7662 §4 leaves the check to the
    /// resource server; an answer without `iss` is then refused).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Requires an active answer's `aud` to name `audience` (call again to allow several).
    /// Without an audience, an answer that names one is refused, as for JWTs.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Clock skew allowed on `exp` and `nbf`; default 30 seconds.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Accepts this issuer's tokens bound to a client key (DPoP, RFC 9449), with a proof on
    /// every request, as [`JwtAuthenticatorBuilder::dpop`](crate::jwt::JwtAuthenticatorBuilder::dpop)
    /// does for JWTs. Without it, a bound token (`cnf.jkt` in the answer) is refused.
    pub fn dpop(mut self, dpop: crate::auth::jwt::Dpop) -> Self {
        self.dpop = Some(dpop);
        self
    }

    /// The issuer this builder expects in answers, if any: for [`Issuers`](crate::Issuers).
    pub(crate) fn expected_issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The name rules use for this issuer (`issuer("sso")`) and that its identities report.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Where the caller's roles are in the answer: default `roles`.
    pub fn roles_claim(mut self, path: impl Into<ClaimPath>) -> Self {
        self.roles = path.into();
        self
    }

    /// Reads roles from this member too.
    pub fn also_roles_claim(mut self, path: impl Into<ClaimPath>) -> Self {
        self.more_roles.push(path.into());
        self
    }

    /// Where the token's scopes are: default `scope` (RFC 7662 §2.2).
    pub fn scopes_claim(mut self, path: impl Into<ClaimPath>) -> Self {
        self.scopes = path.into();
        self
    }

    /// Where the caller's permissions are: default `permissions`.
    pub fn permissions_claim(mut self, path: impl Into<ClaimPath>) -> Self {
        self.permissions = path.into();
        self
    }

    /// Reads roles and permissions where `preset`'s provider puts them, with its claim rules
    /// (Keycloak's introspection answers carry `realm_access` and `resource_access` as its
    /// tokens do). Scopes stay RFC 7662's `scope`, and a preset's `typ` rule has nothing to
    /// apply to.
    pub fn preset(mut self, preset: Preset) -> Self {
        let claims = preset.for_introspection();
        let mut roles = claims.roles.into_iter();
        if let Some(first) = roles.next() {
            self.roles = first;
        }
        self.more_roles = roles.collect();
        if let Some(permissions) = claims.permissions {
            self.permissions = permissions;
        }
        for (path, allowed, problem) in claims.requirements {
            self.requirements.push(Requirement {
                path,
                allowed,
                problem,
            });
        }
        self.audience_required |= claims.audience_required;
        self
    }

    /// Caps a token's length in bytes; longer tokens are refused without asking. Default 8 KiB.
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.max_token_len = max;
        self
    }

    /// The longest an active answer is remembered: default 60 seconds. The token's `exp`
    /// ends it sooner. A token revoked at the provider keeps working until its entry ends.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.settings.ttl = ttl;
        self
    }

    /// How long a refusing answer (not active, another audience) is remembered: default 5
    /// seconds, so that a client retrying a dead token does not make every retry a request.
    pub fn inactive_ttl(mut self, ttl: Duration) -> Self {
        self.settings.inactive_ttl = ttl;
        self
    }

    /// Remembers at most `max_entries` answers within an estimated `max_bytes` of memory.
    /// Default 10 000 answers, 4 KiB each.
    pub fn cache_limits(mut self, max_entries: usize, max_bytes: u64) -> Self {
        self.cache = Some((max_entries, max_bytes));
        self
    }

    /// Asks the endpoint on every request; requests carrying the same token at the same time
    /// still share one call.
    pub fn no_cache(mut self) -> Self {
        self.cache = None;
        self
    }

    /// How long one request to the endpoint (or its metadata) may take: default 5 seconds.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// The largest answer read, in bytes; a longer one is a fault (503). Default 64 KiB.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.settings.max_body = bytes;
        self
    }

    /// What a 503 tells clients in `Retry-After` when the endpoint fails: default 5 seconds.
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.settings.retry_after_secs = u32::try_from(wait.as_secs().max(1)).unwrap_or(u32::MAX);
        self
    }

    /// Checks the configuration and builds the authenticator.
    pub fn build(self) -> Result<IntrospectionAuthenticator, ConfigError> {
        let endpoint = match &self.endpoint {
            EndpointChoice::None => {
                return Err(ConfigError::new(
                    "an IntrospectionAuthenticator needs an endpoint: call `.endpoint(url)` or \
                     `.discover(issuer)`",
                ));
            }
            EndpointChoice::Url(url) => {
                Endpoint::Fixed(fetch::check_url(url).map_err(ConfigError::new)?)
            }
            EndpointChoice::Discover(issuer) => Endpoint::discover(issuer)?,
        };
        let Some((id, secret, basic)) = self.client else {
            return Err(ConfigError::new(
                "the introspection endpoint needs the resource server's own credentials: call \
                 `.client_secret_basic(id, secret)` or `.client_secret_post(id, secret)`",
            ));
        };
        let client = client_auth(id, secret, basic)?;
        let s = &self.settings;
        if s.timeout.is_zero() || s.max_body == 0 || self.max_token_len == 0 {
            return Err(ConfigError::new(
                "the introspection timeout, max_body and max_token_len must be greater than zero",
            ));
        }
        if self.audience_required && self.audiences.is_empty() {
            return Err(ConfigError::new(
                "this preset's access tokens must be checked for their audience: call \
                 `.audience(..)`",
            ));
        }
        if let Some(name) = &self.name
            && (name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(ConfigError::new(format!(
                "the issuer name {name:?} must be non-empty, without whitespace"
            )));
        }
        let cache = match self.cache {
            Some((entries, bytes)) if entries == 0 || bytes == 0 => {
                return Err(ConfigError::new(
                    "the introspection cache needs room for at least one answer; use \
                     `.no_cache()` to switch it off",
                ));
            }
            Some((entries, bytes)) => Answers::new(Some((entries, bytes))),
            None => Answers::new(None),
        };
        let connect = s.timeout.min(Duration::from_secs(5));
        let http = fetch::client(connect, s.timeout).map_err(ConfigError::new)?;
        let mut registered = RegisteredClaims::new(
            self.leeway,
            self.issuer.iter().cloned().collect(),
            self.audiences,
        );
        registered.require_exp = false;
        Ok(IntrospectionAuthenticator {
            inner: Arc::new(Inner {
                endpoint,
                http,
                client,
                registered,
                mapping: Mapping {
                    roles: self.roles,
                    more_roles: self.more_roles,
                    scopes: self.scopes,
                    permissions: self.permissions,
                    requirements: self.requirements,
                },
                source: TokenSource {
                    query: false,
                    max_len: self.max_token_len,
                },
                cache,
                settings: self.settings,
                name: self.name.map(Into::into),
                scheme: crate::auth::jwt::scheme_name(),
                issuer: self.issuer.map(Into::into),
                dpop: self.dpop.map(Arc::new),
            }),
        })
    }
}

/// The credentials, ready to send: for `client_secret_basic`, the header made once.
fn client_auth(id: String, secret: Secret, basic: bool) -> Result<ClientAuth, ConfigError> {
    if id.is_empty() || secret.0.is_empty() {
        return Err(ConfigError::new(
            "the introspection client id and secret must not be empty",
        ));
    }
    if !basic {
        return Ok(ClientAuth::Post {
            id: id.into(),
            secret,
        });
    }
    // RFC 6749 §2.3.1: each part form-encoded, then joined with `:` and base64-encoded.
    let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(&id), encode(&secret.0));
    let mut header = HeaderValue::try_from(format!("Basic {}", STANDARD.encode(pair)))
        .map_err(|_| ConfigError::new("the introspection client credentials are not usable"))?;
    header.set_sensitive(true);
    Ok(ClientAuth::Basic {
        id: id.into(),
        header,
    })
}
