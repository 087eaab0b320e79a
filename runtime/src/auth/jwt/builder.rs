//! Configuring a [`JwtAuthenticator`]: keys, claims, where tokens come from, and what a
//! provider's tokens add.

use std::time::Duration;

#[cfg(feature = "jwks")]
use std::sync::Arc;

use super::cache::CacheChoice;
#[cfg(feature = "jwks")]
use super::jwks::Jwks;
use super::registered::RegisteredClaims;
#[cfg(feature = "jwks")]
use super::remote::RemoteKeys;
use super::requirements::{Extras, ExtrasBuilder, Requirement};
use super::{
    DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LEN, JwtAuthenticator, JwtKey, ScopesClaim, TokenCache,
    TokenType,
};
use crate::auth::bearer::TokenSource;
use crate::config::ConfigError;
use crate::identity::claims::ClaimPath;
use crate::refusal::TokenProblem;

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
    name: Option<String>,
    share_keys: bool,
    pub(super) extras: ExtrasBuilder,
}

impl JwtAuthenticatorBuilder {
    /// A configuration with the defaults; see [`JwtAuthenticator::builder`].
    pub(super) fn new() -> JwtAuthenticatorBuilder {
        super::backend::install();
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
            name: None,
            share_keys: false,
            extras: ExtrasBuilder::default(),
        }
    }

    /// Adds a verification key. Several keys allow rotation; see [`JwtKey::with_kid`].
    pub fn key(mut self, key: JwtKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Requires `iss` to be present and equal to `issuer`.
    ///
    /// For tokens of several issuers, each with its own keys, use [`Issuers`](crate::Issuers):
    /// it verifies each token with the keys of the issuer it names, and only those. Calling
    /// this twice on one authenticator lets every one of its keys vouch for every one of its
    /// issuers, so [`build`](Self::build) refuses it unless
    /// [`issuers_share_keys`](Self::issuers_share_keys) says that is meant.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        if !self.issuers.contains(&issuer) {
            self.issuers.push(issuer);
        }
        self
    }

    /// Accepts several [`issuer`](Self::issuer)s that share this authenticator's keys: any of
    /// them may sign a token naming any other. Right only when one signer speaks for all of
    /// them (one Keycloak instance known under two host names); otherwise use
    /// [`Issuers`](crate::Issuers).
    pub fn issuers_share_keys(mut self) -> Self {
        self.share_keys = true;
        self
    }

    /// The name rules use for this issuer (`issuer("sso")`) and that its identities report
    /// ([`Identity::issuer`](crate::Identity::issuer)). Within [`Issuers`](crate::Issuers), the
    /// name given there.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
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
    /// ([`DEFAULT_CACHE_ENTRIES`](crate::jwt::DEFAULT_CACHE_ENTRIES) tokens, 4 KiB of memory budget each). Keep a clone of `cache`
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
        if self.issuers.len() > 1 && !self.share_keys {
            return Err(ConfigError::new(format!(
                "this JwtAuthenticator accepts the issuers {:?} with one set of keys, so each \
                 issuer's keys could sign tokens in the others' names: give each issuer its own \
                 keys with `route_guard::Issuers`, or call `.issuers_share_keys()` if one signer \
                 speaks for all of them",
                self.issuers
            )));
        }
        if let Some(name) = &self.name
            && (name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(ConfigError::new(format!(
                "the issuer name {name:?} must be non-empty, without whitespace"
            )));
        }
        #[cfg(feature = "jwks")]
        let plan = self.extras.jwks.clone();
        let cache = self.cache.bind(self.leeway.as_secs())?;
        super::key::warn_of_test_keys(&self.keys, "a JwtAuthenticator");
        #[cfg(feature = "jwks")]
        {
            let token_cache = cache.as_ref().map(|bound| bound.token_cache().clone());
            extras.openid_issuer = plan.as_ref().and_then(|jwks| match &jwks.source {
                super::jwks::Source::Discover(issuer) => Some(issuer.as_str().into()),
                super::jwks::Source::Url(_) => None,
            });
            extras.remote = start_remote(plan, token_cache)?;
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
            name: self.name.map(Into::into),
            scheme: super::scheme_name(),
            extras,
        })
    }
}

impl JwtAuthenticatorBuilder {
    /// Fetches verification keys from a JWKS, directly or through OpenID Connect discovery.
    ///
    /// With [`Jwks::discover`], the issuer is also required in `iss`. Configured keys
    /// ([`key`](Self::key)) stay in use beside the fetched ones.
    #[cfg(feature = "jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
    pub fn jwks(mut self, jwks: Jwks) -> Self {
        if let super::jwks::Source::Discover(issuer) = &jwks.source
            && !self.issuers.contains(issuer)
        {
            self.issuers.push(issuer.clone());
        }
        self.extras.jwks = Some(jwks);
        self
    }

    /// Accepts sender-constrained tokens (DPoP, RFC 9449) for this issuer, alongside bearer
    /// tokens ([`Dpop::allowed`](super::dpop::Dpop::allowed)) or instead of them
    /// ([`Dpop::required`](super::dpop::Dpop::required)). A token bound to a key (`cnf.jkt`)
    /// is refused as a bearer token whatever this says: it works only with a proof.
    pub fn dpop(mut self, dpop: super::dpop::Dpop) -> Self {
        self.extras.dpop = Some(dpop);
        self
    }

    /// Also reads the token from the cookie `name`, for browser applications. A request with
    /// both a `Bearer` header and the cookie is refused (400), as RFC 6750 §2 refuses a token
    /// in two places. Set the cookie `HttpOnly; Secure; SameSite=Strict` (or `Lax`) so other
    /// sites cannot ride on it (cross-site request forgery).
    pub fn cookie(mut self, name: impl Into<String>) -> Self {
        self.extras.cookie = Some(name.into());
        self
    }

    /// Reads roles from this claim too, besides [`roles_claim`](Self::roles_claim): Keycloak
    /// keeps realm roles and client roles apart, for example.
    pub fn also_roles_claim(mut self, path: impl Into<ClaimPath>) -> Self {
        self.extras.more_roles.push(path.into());
        self
    }

    /// Requires the claim at `path` to be a string equal to one of `allowed`; otherwise the
    /// token is refused with `invalid_token`.
    pub fn require_claim<I, S>(self, path: impl Into<ClaimPath>, allowed: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.requirement(path.into(), allowed, TokenProblem::MissingClaim)
    }

    pub(crate) fn requirement<I, S>(
        mut self,
        path: ClaimPath,
        allowed: I,
        problem: TokenProblem,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let allowed = allowed.into_iter().map(Into::into).collect();
        self.extras.requirements.push(Requirement {
            path,
            allowed,
            problem,
        });
        self
    }

    /// Checks the additions and builds them.
    pub(crate) fn build_extras(&self) -> Result<Extras, crate::ConfigError> {
        let has_source = !self.keys.is_empty();
        #[cfg(feature = "jwks")]
        let has_source = has_source || self.extras.jwks.is_some();
        if !has_source {
            return Err(crate::ConfigError::new(
                "a JwtAuthenticator needs keys: call `.key(JwtKey::...)` or `.jwks(Jwks::...)`",
            ));
        }
        if self.extras.audience_required && self.audiences.is_empty() {
            return Err(crate::ConfigError::new(
                "this preset's access tokens must be checked for their audience \
                 (RFC 9068 §4): call `.audience(..)`",
            ));
        }
        if let Some(requirement) = self
            .extras
            .requirements
            .iter()
            .find(|r| r.allowed.is_empty())
        {
            return Err(crate::ConfigError::new(format!(
                "the required claim `{}` allows no value",
                requirement.path
            )));
        }
        let cookie = self
            .extras
            .cookie
            .as_deref()
            .map(check_cookie_name)
            .transpose()?;
        Ok(Extras {
            #[cfg(feature = "jwks")]
            remote: None,
            #[cfg(feature = "jwks")]
            openid_issuer: None,
            more_roles: self.extras.more_roles.clone(),
            requirements: self.extras.requirements.clone(),
            cookie,
            dpop: self.extras.dpop.clone().map(std::sync::Arc::new),
        })
    }
}

impl JwtAuthenticatorBuilder {
    /// The issuers configured so far (for [`Issuers`](crate::Issuers), which needs exactly
    /// one per entry).
    pub(crate) fn configured_issuers(&self) -> &[String] {
        &self.issuers
    }

    /// Where tokens are read from, besides the `Authorization` header: for
    /// [`Issuers`](crate::Issuers), which reads them itself.
    pub(crate) fn reads_elsewhere(&self) -> bool {
        self.source.query || self.extras.cookie.is_some()
    }

    /// Why the key source cannot work at all (a JWKS or issuer URL that is not one, or plain
    /// HTTP to another host), for [`Issuers`](crate::Issuers), where such a typo must not stop
    /// the other issuers.
    pub(crate) fn unusable_key_source(&self) -> Option<String> {
        #[cfg(feature = "jwks")]
        if let Some(jwks) = &self.extras.jwks {
            let checked = match &jwks.source {
                super::jwks::Source::Url(url) => crate::auth::fetch::check_url(url),
                super::jwks::Source::Discover(issuer) => crate::auth::fetch::discovery_url(issuer),
            };
            return checked.err();
        }
        None
    }

    /// Whether a cache was chosen (or switched off) explicitly.
    pub(crate) fn cache_chosen(&self) -> bool {
        !matches!(self.cache, CacheChoice::Default)
    }
}

/// Starts the key fetcher, sharing the verified-token cache so withdrawn keys purge it.
#[cfg(feature = "jwks")]
pub(crate) fn start_remote(
    jwks: Option<Jwks>,
    cache: Option<super::TokenCache>,
) -> Result<Option<Arc<RemoteKeys>>, crate::ConfigError> {
    jwks.map(|jwks| RemoteKeys::new(jwks, cache).map(Arc::new))
        .transpose()
}

/// A cookie name must be an RFC 6265 token.
fn check_cookie_name(name: &str) -> Result<Box<str>, crate::ConfigError> {
    let separator = |c: char| "()<>@,;:\\\"/[]?={} \t".contains(c);
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_graphic() && !separator(c)) {
        return Err(crate::ConfigError::new(format!(
            "{name:?} is not a valid cookie name"
        )));
    }
    Ok(name.into())
}
