//! Verifying JWT bearer tokens (RFC 7519, with the RFC 8725 best practices).

mod backend;
mod cache;
mod extras;
#[cfg(feature = "jwks")]
mod fetch;
mod header;
mod jwk;
mod key;
mod preset;
#[cfg(feature = "testing")]
pub(crate) use backend::install as install_backend;
mod registered;
#[cfg(feature = "jwks")]
mod remote;
mod strict_json;

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use serde_json::{Map, Value};

use self::cache::{BoundCache, CacheChoice};
pub use self::cache::{DEFAULT_CACHE_ENTRIES, TokenCache};
use self::header::{Header, Jws, read_jws};
pub use self::key::JwtKey;
pub use self::preset::Preset;
use self::registered::RegisteredClaims;
#[cfg(feature = "jwks")]
pub use self::remote::{DEFAULT_JWKS_COOLDOWN, DEFAULT_JWKS_REFRESH, Jwks};
use crate::auth::bearer::TokenSource;
use crate::auth::{AuthFuture, Authenticator};
use crate::config::ConfigError;
use crate::identity::Identity;
use crate::identity::claims::{ClaimPath, string_list};
use crate::refusal::{Denial, TokenProblem, bearer_challenge};

/// The default cap on a bearer token's length, checked before any decoding.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// The default clock leeway for `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// Which `typ` header values a token may carry (RFC 8725 §3.11, RFC 9068 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenType {
    /// No `typ`, `JWT`, or the access-token type `at+jwt`: what Keycloak, Entra ID, Okta and
    /// RFC 9068 issuers send. Other explicit types (`dpop+jwt`, `logout+jwt`, …) are refused,
    /// since they mark tokens minted for another purpose.
    Default,
    /// Exactly `at+jwt` (or `application/at+jwt`), as RFC 9068 requires of access tokens.
    AccessToken,
    /// Any of these values, compared case-insensitively; include `""` to allow no `typ`.
    OneOf(Vec<String>),
}

impl TokenType {
    fn accepts(&self, typ: Option<&str>) -> bool {
        let typ = typ.map(|t| t.strip_prefix("application/").unwrap_or(t));
        match (self, typ) {
            (TokenType::Default, None) => true,
            (TokenType::Default, Some(t)) => {
                t.eq_ignore_ascii_case("JWT") || t.eq_ignore_ascii_case("at+jwt")
            }
            (TokenType::AccessToken, t) => t.is_some_and(|t| t.eq_ignore_ascii_case("at+jwt")),
            (TokenType::OneOf(allowed), t) => {
                let t = t.unwrap_or("");
                allowed.iter().any(|a| a.eq_ignore_ascii_case(t))
            }
        }
    }
}

/// Verifies JWT bearer tokens against configured keys and turns them into an [`Identity`].
///
/// ```
/// use route_guard::{JwtAuthenticator, JwtKey, RouteGuard};
///
/// let jwt = JwtAuthenticator::builder()
///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
///     .issuer("https://issuer.example")
///     .audience("my-api")
///     .roles_claim("realm_access.roles")
///     .build()?;
/// let guard = RouteGuard::new(jwt);
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct JwtAuthenticator {
    keys: Vec<JwtKey>,
    registered: RegisteredClaims,
    token_type: TokenType,
    roles_claim: ClaimPath,
    scopes_claim: ScopesClaim,
    permissions_claim: ClaimPath,
    source: TokenSource,
    cache: Option<BoundCache>,
    extras: extras::Extras,
}

/// Configures a [`JwtAuthenticator`]; see [`JwtAuthenticator::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct JwtAuthenticatorBuilder {
    keys: Vec<JwtKey>,
    issuers: Vec<String>,
    audiences: Vec<String>,
    leeway: Duration,
    token_type: TokenType,
    roles_claim: ClaimPath,
    scopes_claim: ScopesClaim,
    permissions_claim: ClaimPath,
    source: TokenSource,
    cache: CacheChoice,
    extras: extras::ExtrasBuilder,
}

impl JwtAuthenticator {
    /// Starts a configuration: add at least one [`JwtKey`], then [`build`](JwtAuthenticatorBuilder::build).
    pub fn builder() -> JwtAuthenticatorBuilder {
        backend::install();
        JwtAuthenticatorBuilder {
            keys: Vec::new(),
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            token_type: TokenType::Default,
            roles_claim: ClaimPath::from("roles"),
            scopes_claim: ScopesClaim::Standard,
            permissions_claim: ClaimPath::from("permissions"),
            source: TokenSource {
                query: false,
                max_len: DEFAULT_MAX_TOKEN_LEN,
            },
            cache: CacheChoice::Default,
            extras: extras::ExtrasBuilder::default(),
        }
    }

    /// [`verify`](Self::verify), answered from the verified-token cache when it holds the token.
    fn verify_cached(&self, token: &str) -> Result<Arc<Identity>, TokenProblem> {
        match &self.cache {
            Some(cache) => {
                // One clock reading for the cache's exp/nbf and the verification's.
                let now = jsonwebtoken::get_current_timestamp();
                cache.get_or_verify(token, now, || self.verify_at(token, now))
            }
            None => self.verify(token).map(Arc::new),
        }
    }

    /// Verifies one token, as the guard does for a request's bearer token.
    ///
    /// Keys fetched from a [`Jwks`] are used as cached; this call never waits for a fetch
    /// (the guard does, for a token naming an unknown key).
    ///
    /// The token is split, and its header and payload decoded and parsed, once: jsonwebtoken
    /// checks the signature ([`jsonwebtoken::crypto::verify`]) and the registered claims are
    /// checked here, with jsonwebtoken's rules, tightened for `iss` and `aud`.
    pub fn verify(&self, token: &str) -> Result<Identity, TokenProblem> {
        self.verify_at(token, jsonwebtoken::get_current_timestamp())
    }

    /// [`verify`](Self::verify) at `now`, in seconds since the epoch.
    fn verify_at(&self, token: &str, now: u64) -> Result<Identity, TokenProblem> {
        let jws = read_jws(token)?;
        if !self.token_type.accepts(jws.header.typ.as_deref()) {
            return Err(TokenProblem::WrongType);
        }
        let fetched = self.fetched_keys();
        let fetched = fetched.as_deref().map_or(&[][..], |set| &set.keys);
        let mut outcome = Err(TokenProblem::UnknownKey);
        for key in candidates(&self.keys, fetched, &jws.header)? {
            outcome = signed_by(&jws, key);
            // Only a signature mismatch lets another key of the same algorithm try.
            if outcome != Err(TokenProblem::BadSignature) {
                break;
            }
        }
        outcome?;
        let claims = jws.claims.ok_or(TokenProblem::Malformed)?;
        self.registered.check(&claims, now)?;
        self.identity(claims)
    }

    /// The keys fetched from the JWKS, if one is configured.
    fn fetched_keys(&self) -> Option<Arc<jwk::KeySet>> {
        #[cfg(feature = "jwks")]
        if let Some(remote) = &self.extras.remote {
            return Some(remote.current());
        }
        None
    }

    fn identity(&self, claims: Map<String, Value>) -> Result<Identity, TokenProblem> {
        let Some(Value::String(subject)) = claims.get("sub") else {
            return Err(TokenProblem::MissingClaim);
        };
        let subject = subject.clone();
        self.extras.check(&claims)?;
        let roles = extras::all_roles(&self.roles_claim, &self.extras.more_roles, &claims);
        let scopes = match &self.scopes_claim {
            // RFC 8693 §4.2 / RFC 9068 name it `scope`; Okta and Entra ID send `scp`.
            ScopesClaim::Standard => match claims.get("scope") {
                Some(_) => names(&ClaimPath::key("scope"), &claims),
                None => names(&ClaimPath::key("scp"), &claims),
            },
            ScopesClaim::At(path) => names(path, &claims),
        };
        let permissions = names(&self.permissions_claim, &claims);
        Ok(Identity::new(subject, roles, claims)
            .with_scopes(scopes)
            .with_permissions(permissions))
    }
}

/// Whether `key` made the token's signature: jsonwebtoken's verification of the signed text,
/// or, for an HMAC secret, the MAC keyed once when the key was made.
fn signed_by(jws: &Jws<'_>, key: &JwtKey) -> Result<(), TokenProblem> {
    if let Some(hmac) = &key.hmac {
        // Decoded as jsonwebtoken decodes signatures: base64url without padding.
        let signature = URL_SAFE_NO_PAD
            .decode(jws.signature)
            .map_err(|_| TokenProblem::Malformed)?;
        return if hmac.verify(jws.message.as_bytes(), &signature) {
            Ok(())
        } else {
            Err(TokenProblem::BadSignature)
        };
    }
    match jsonwebtoken::crypto::verify(
        jws.signature,
        jws.message.as_bytes(),
        &key.key,
        jws.header.alg,
    ) {
        Ok(true) => Ok(()),
        Ok(false) => Err(TokenProblem::BadSignature),
        Err(error) => Err(token_problem(error.kind())),
    }
}

/// The keys that may verify a token with this header, configured ones first: those whose
/// `kid` matches (keys without one match any `kid`) and whose algorithm is the header's.
fn candidates<'a>(
    configured: &'a [JwtKey],
    fetched: &'a [JwtKey],
    header: &'a Header,
) -> Result<impl Iterator<Item = &'a JwtKey>, TokenProblem> {
    let named = |key: &&JwtKey| match (&key.kid, &header.kid) {
        (Some(kid), Some(wanted)) => kid == wanted,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let all = || configured.iter().chain(fetched);
    if !all().any(|entry| named(&entry)) {
        return Err(TokenProblem::UnknownKey);
    }
    let usable = move |key: &&JwtKey| named(key) && key.algorithm == header.alg;
    if !all().any(|entry| usable(&entry)) {
        return Err(TokenProblem::DisallowedAlgorithm);
    }
    Ok(all().filter(usable))
}

/// Where scopes are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ScopesClaim {
    /// `scope`, or `scp` when there is no `scope`.
    Standard,
    At(ClaimPath),
}

/// The list of names at `path`. A claim of the wrong shape grants nothing: checks on it then
/// answer 403, and the token remains good for routes that only need authentication.
fn names(path: &ClaimPath, claims: &Map<String, Value>) -> Vec<String> {
    string_list(path.find(claims)).unwrap_or_else(|_| {
        tracing::debug!(claim = %path, "route-guard: claim has the wrong type; nothing granted from it");
        Vec::new()
    })
}

/// Maps jsonwebtoken's signature-check errors onto the problem a client is told about. Claims
/// are checked by [`RegisteredClaims`], so only key, algorithm and encoding errors arrive here.
fn token_problem(kind: &ErrorKind) -> TokenProblem {
    match kind {
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_) => TokenProblem::BadSignature,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm => TokenProblem::DisallowedAlgorithm,
        _ => TokenProblem::Malformed,
    }
}

impl JwtAuthenticatorBuilder {
    /// Adds a verification key. Several keys allow rotation; see [`JwtKey::with_kid`].
    pub fn key(mut self, key: JwtKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Requires `iss` to be present and equal to `issuer` (call again to allow several).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Requires `aud` to be present and to name `audience` (call again to allow several).
    ///
    /// Without an audience, a token that carries `aud` is refused, as RFC 7519 §4.1.3 requires
    /// of a recipient that does not identify itself with a value in it.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Clock skew allowed on `exp` and `nbf`; default 30 seconds.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Which `typ` header values are accepted; default [`TokenType::Default`].
    pub fn token_type(mut self, token_type: TokenType) -> Self {
        self.token_type = token_type;
        self
    }

    /// Where the caller's roles are: default `roles`. A string claim is split on spaces; an
    /// array must hold only strings. Use [`ClaimPath::key`] for keys that contain dots.
    pub fn roles_claim(mut self, path: impl Into<ClaimPath>) -> Self {
        self.roles_claim = path.into();
        self
    }

    /// Where the token's OAuth scopes are: by default `scope` (a space-separated string), or
    /// `scp` (a string or an array, as Okta and Entra ID send) when `scope` is absent.
    pub fn scopes_claim(mut self, path: impl Into<ClaimPath>) -> Self {
        self.scopes_claim = ScopesClaim::At(path.into());
        self
    }

    /// Where the caller's permissions are: default `permissions` (Auth0's RBAC claim).
    pub fn permissions_claim(mut self, path: impl Into<ClaimPath>) -> Self {
        self.permissions_claim = path.into();
        self
    }

    /// Also accepts a token in the `access_token` query parameter (RFC 6750 §2.3). Off by
    /// default: URLs end up in logs and browser history.
    pub fn allow_query_token(mut self, allow: bool) -> Self {
        self.source.query = allow;
        self
    }

    /// Caps a token's length in bytes; longer tokens are refused before decoding. Default 8 KiB.
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.source.max_len = max;
        self
    }

    /// Remembers verified tokens in `cache` rather than the default one
    /// ([`DEFAULT_CACHE_ENTRIES`] tokens, 4 KiB of memory budget each). Keep a clone of `cache`
    /// to call [`TokenCache::invalidate_all`] when keys rotate (which makes every token verify
    /// again on its next use; it does not revoke any).
    pub fn cache(mut self, cache: TokenCache) -> Self {
        self.cache = CacheChoice::Use(cache);
        self
    }

    /// Verifies every token's signature on every request: no verified-token cache.
    pub fn no_cache(mut self) -> Self {
        self.cache = CacheChoice::Off;
        self
    }

    /// Checks the configuration and builds the authenticator.
    pub fn build(self) -> Result<JwtAuthenticator, ConfigError> {
        #[allow(unused_mut)] // the fetched keys are added with the `jwks` feature only
        let mut extras = self.build_extras()?;
        if self.source.max_len == 0 {
            return Err(ConfigError::new("max_token_len must be greater than zero"));
        }
        #[cfg(feature = "jwks")]
        let plan = self.extras.jwks.clone();
        let cache = self.cache.bind(self.leeway.as_secs())?;
        key::warn_of_test_keys(&self.keys, "a JwtAuthenticator");
        #[cfg(feature = "jwks")]
        {
            let token_cache = cache.as_ref().map(|bound| bound.token_cache().clone());
            extras.remote = extras::start_remote(plan, token_cache)?;
        }
        Ok(JwtAuthenticator {
            registered: RegisteredClaims::new(self.leeway, self.issuers, self.audiences),
            keys: self.keys,
            token_type: self.token_type,
            roles_claim: self.roles_claim,
            scopes_claim: self.scopes_claim,
            permissions_claim: self.permissions_claim,
            source: self.source,
            cache,
            extras,
        })
    }
}

impl Authenticator for JwtAuthenticator {
    fn authenticate(&self, req: &HttpRequest) -> AuthFuture {
        match self.token(req) {
            Ok(token) => self.authenticate_token(token),
            Err(denial) => AuthFuture::ready(Err(denial)),
        }
    }

    fn challenge(&self, realm: &str, denial: Denial) -> String {
        bearer_challenge(realm, denial)
    }
}
