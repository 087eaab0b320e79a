//! Verifying JWT bearer tokens (RFC 7519, with the RFC 8725 best practices).

mod backend;
mod builder;
pub(crate) mod cache;
pub(crate) mod dpop;
mod header;
mod jwk;
#[cfg(feature = "jwks")]
mod jwks;
mod key;
pub(crate) mod preset;
#[cfg(feature = "testing")]
pub(crate) use backend::install as install_backend;
pub(crate) mod registered;
#[cfg(feature = "jwks")]
mod remote;
pub(crate) mod requirements;
mod rotation;
mod source;
mod strict_json;

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use serde_json::{Map, Value};

pub use self::builder::JwtAuthenticatorBuilder;
use self::cache::BoundCache;
pub use self::cache::{DEFAULT_CACHE_ENTRIES, TokenCache};
#[cfg(feature = "introspection")]
pub(crate) use self::dpop::bound;
pub use self::dpop::{DEFAULT_PROOF_WINDOW, Dpop, DpopMode, NONCE_PERIOD};
use self::header::Header;
pub(crate) use self::header::{Jws, read_jws};
#[cfg(feature = "jwks")]
pub use self::jwks::{DEFAULT_JWKS_COOLDOWN, DEFAULT_JWKS_REFRESH, Jwks};
pub use self::key::JwtKey;
pub use self::preset::Preset;
use self::registered::RegisteredClaims;
use crate::auth::bearer::{Presented, TokenSource};
use crate::auth::{AuthFuture, Authenticator, CredentialScheme};
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
    /// The issuer's name for rules (`issuer("sso")`), if it has one.
    name: Option<Arc<str>>,
    /// `"bearer"`, shared by every identity this authenticator makes.
    scheme: Arc<str>,
    extras: requirements::Extras,
}

/// The name of the bearer-token authenticators, as rules and identities use it.
pub(crate) fn scheme_name() -> Arc<str> {
    static BEARER: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    Arc::clone(BEARER.get_or_init(|| Arc::from("bearer")))
}

impl JwtAuthenticator {
    /// The issuer this authenticator requires in `iss`, when it requires exactly one.
    pub(crate) fn sole_issuer(&self) -> Option<&str> {
        match self.registered.issuers.as_slice() {
            [issuer] => Some(issuer),
            _ => None,
        }
    }

    /// Which cache entries this authenticator made, if it caches.
    pub(crate) fn cache_owner(&self) -> Option<u64> {
        self.cache.as_ref().map(BoundCache::owner)
    }

    /// The answer for `token` from `hit`, its entry in a cache this authenticator shares, if
    /// this authenticator made the entry and it is still current.
    pub(crate) fn answer_cached(
        &self,
        token: &str,
        hit: cache::CachedToken,
    ) -> Option<Result<Arc<Identity>, TokenProblem>> {
        let cache = self.cache.as_ref()?;
        // As `authenticate_token` does: a request after the keys expire starts their refresh.
        #[cfg(feature = "jwks")]
        if let Some(remote) = &self.extras.remote {
            remote.touch();
        }
        cache.answer_hit(token, hit, jsonwebtoken::get_current_timestamp())
    }

    /// Starts a configuration: add at least one [`JwtKey`], then [`build`](JwtAuthenticatorBuilder::build).
    pub fn builder() -> JwtAuthenticatorBuilder {
        JwtAuthenticatorBuilder::new()
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
        self.verify_jws(read_jws(token)?, now)
    }

    /// Verifies a token already split and parsed ([`read_jws`]): its type, its signature,
    /// then its claims.
    pub(crate) fn verify_jws(&self, jws: Jws<'_>, now: u64) -> Result<Identity, TokenProblem> {
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
        let roles = requirements::all_roles(&self.roles_claim, &self.extras.more_roles, &claims);
        let scopes = match &self.scopes_claim {
            // RFC 8693 §4.2 / RFC 9068 name it `scope`; Okta and Entra ID send `scp`.
            ScopesClaim::Standard => match claims.get("scope") {
                Some(_) => names(&ClaimPath::key("scope"), &claims),
                None => names(&ClaimPath::key("scp"), &claims),
            },
            ScopesClaim::At(path) => names(path, &claims),
        };
        let permissions = names(&self.permissions_claim, &claims);
        let identity = Identity::new(subject, roles, claims)
            .with_scopes(scopes)
            .with_permissions(permissions)
            .with_scheme(Arc::clone(&self.scheme));
        Ok(match &self.name {
            Some(name) => identity.with_issuer(Arc::clone(name)),
            None => identity,
        })
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
pub(crate) fn names(path: &ClaimPath, claims: &Map<String, Value>) -> Vec<String> {
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

impl JwtAuthenticator {
    /// `verified`, the identity of a token presented as `presented`, as far as that may go: a
    /// bound token only with a proof of its key (`token` is the access token, kept for the
    /// proof's `ath`), never as a bearer token.
    pub(crate) fn bound(
        &self,
        req: &HttpRequest,
        presented: Presented,
        token: Option<String>,
        verified: AuthFuture,
    ) -> AuthFuture {
        dpop::bound(self.extras.dpop.as_ref(), req, presented, token, verified)
    }

    /// The DPoP settings, if this issuer accepts DPoP.
    pub(crate) fn dpop(&self) -> Option<&dpop::Dpop> {
        self.extras.dpop.as_deref()
    }
}

/// The challenges of an issuer with `dpop` for `denial` on `req`: `Bearer` unless DPoP is
/// required, `DPoP` when accepted (RFC 9449 §7.1), the error on the scheme the request used
/// (a proof's always on `DPoP`).
pub(crate) fn challenges_with(
    realm: &str,
    denial: Denial,
    req: &HttpRequest,
    dpop: Option<(&str, bool)>,
) -> Vec<String> {
    let Some((algs, bearer_too)) = dpop else {
        return vec![bearer_challenge(realm, denial)];
    };
    let on_dpop = matches!(denial, Denial::InvalidProof(_)) || crate::auth::bearer::uses_dpop(req);
    let (for_bearer, for_dpop) = if on_dpop {
        (Denial::MissingCredentials, denial)
    } else {
        (denial, Denial::MissingCredentials)
    };
    let mut challenges = Vec::with_capacity(2);
    if bearer_too {
        challenges.push(bearer_challenge(realm, for_bearer));
    }
    challenges.push(crate::refusal::dpop_challenge(algs, for_dpop));
    challenges
}

impl Authenticator for JwtAuthenticator {
    fn authenticate(&self, req: &HttpRequest) -> AuthFuture {
        let (presented, token) = match self.token(req) {
            Ok(found) => found,
            Err(denial) => return AuthFuture::ready(Err(denial)),
        };
        let for_proof = (presented == Presented::Dpop).then(|| token.clone());
        let verified = self.authenticate_token(token);
        self.bound(req, presented, for_proof, verified)
    }

    fn challenge(&self, realm: &str, denial: Denial) -> String {
        bearer_challenge(realm, denial)
    }

    fn challenges(&self, realm: &str, denial: Denial, req: &HttpRequest) -> Vec<String> {
        let dpop = self
            .dpop()
            .map(|dpop| (&*dpop.algs, dpop.mode == dpop::DpopMode::Allowed));
        challenges_with(realm, denial, req, dpop)
    }

    fn dpop_nonce(&self, denial: Denial, _req: &HttpRequest) -> Option<String> {
        self.dpop()?.nonce_for(denial)
    }

    fn dpop_algorithms(&self) -> Vec<String> {
        self.dpop()
            .map(|dpop| dpop.algs.split(' ').map(str::to_owned).collect())
            .unwrap_or_default()
    }

    fn scheme(&self) -> CredentialScheme {
        CredentialScheme::BearerJwt {
            openid_issuer: self.extras.openid_issuer().map(str::to_owned),
        }
    }

    fn name(&self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("bearer")
    }

    fn issuers(&self) -> Vec<String> {
        self.registered.issuers.clone()
    }

    /// Only keys fetched from a provider can be missing.
    fn may_be_unavailable(&self) -> bool {
        self.extras.fetches_keys()
    }
}
