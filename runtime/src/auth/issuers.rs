//! Several token issuers on one guard: each token is verified by the issuer its `iss` names,
//! with that issuer's keys and rules, and by no other.
//!
//! The token's `iss` is read before its signature is checked, but it only chooses which
//! issuer's verifier runs; that verifier then checks everything, the signature first and `iss`
//! again among the claims. A token naming an issuer nobody configured is refused without any
//! key being fetched, so a client inventing issuers cannot make the server fetch anything.

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::HttpRequest;

use crate::auth::bearer::{Presented, TokenSource, access_token};
#[cfg(feature = "introspection")]
use crate::auth::introspect::{IntrospectionAuthenticator, IntrospectionAuthenticatorBuilder};
use crate::auth::jwt::{
    DEFAULT_CACHE_ENTRIES, DEFAULT_MAX_TOKEN_LEN, DpopMode, Jws, JwtAuthenticator,
    JwtAuthenticatorBuilder, TokenCache, challenges_with, read_jws,
};
use crate::auth::{AuthFuture, Authenticator, CredentialScheme};
use crate::config::ConfigError;
use crate::identity::Identity;
use crate::refusal::{Denial, TokenProblem, bearer_challenge};

/// Bearer tokens from several issuers, each verified with its own keys, audience, token type,
/// leeway and claim mapping: a tenant per Keycloak realm, or the old and the new provider
/// during a migration.
///
/// Each issuer is a [`JwtAuthenticator`] configuration with exactly one
/// [`issuer`](JwtAuthenticatorBuilder::issuer) (or [`Jwks::discover`](crate::Jwks::discover),
/// which sets it) and a name that rules use (`issuer("partner")`) and identities report
/// ([`Identity::issuer`](crate::Identity::issuer)). A key configured for one issuer never
/// verifies a token that names another.
///
/// ```
/// use route_guard::{Issuers, JwtAuthenticator, JwtKey, RouteGuard};
///
/// let issuers = Issuers::builder()
///     .jwt(
///         "staff",
///         JwtAuthenticator::builder()
///             .key(JwtKey::hs256("the staff issuer's secret, 32 bytes or more")?)
///             .issuer("https://sso.example.com/realms/staff")
///             .audience("my-api"),
///     )
///     .jwt(
///         "partners",
///         JwtAuthenticator::builder()
///             .key(JwtKey::hs256("the partner issuer's secret, also long enough")?)
///             .issuer("https://partners.example.net")
///             .audience("my-api")
///             .roles_claim("groups"),
///     )
///     .build()?;
/// let guard = RouteGuard::new(issuers);
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
///
/// From configuration, with discovery for each issuer (a `jwks` feature):
///
/// ```
/// use route_guard::{Issuers, Jwks, JwtAuthenticator};
///
/// let urls = ["https://sso.example.com/realms/a", "https://sso.example.com/realms/b"];
/// let mut issuers = Issuers::builder();
/// for url in urls {
///     let issuer = JwtAuthenticator::builder().jwks(Jwks::discover(url)).audience("my-api");
///     issuers = issuers.jwt(url, issuer);
/// }
/// let issuers = issuers.build()?;
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
///
/// An issuer whose keys cannot be fetched (a typo in its host name, a provider that is down)
/// answers 503 for its own tokens, and logs why; the others go on working.
///
/// Tokens are read from the `Authorization: Bearer` header only. All issuers share one
/// verified-token cache ([`Issuers::builder`]'s [`cache`](IssuersBuilder::cache)), whose
/// entries remember which issuer verified them.
pub struct Issuers {
    entries: Box<[Entry]>,
    source: TokenSource,
    cache: Option<TokenCache>,
    /// When an issuer accepts DPoP: the algorithms any of them accepts, and whether one still
    /// takes bearer tokens.
    dpop: Option<(Box<str>, bool)>,
    /// The one issuer whose opaque tokens are introspected (RFC 7662): a token that is not a
    /// JWS goes there, since it cannot say which issuer it is from.
    #[cfg(feature = "introspection")]
    opaque: Option<IntrospectionAuthenticator>,
}

/// One issuer: its `iss`, and the verifier of its tokens.
struct Entry {
    iss: Box<str>,
    /// The verifier; `Err`: why this issuer's keys can never be fetched (a URL that is not
    /// one), so that its tokens answer 503 while the other issuers work.
    jwt: Result<JwtAuthenticator, Box<str>>,
    /// The [`TokenCache`] entries this issuer's verifier made.
    owner: Option<u64>,
}

/// Whether `token` is shaped as a JWS compact serialization (three segments): anything else
/// is an opaque token.
fn looks_like_jws(token: &str) -> bool {
    token.bytes().filter(|&b| b == b'.').count() == 2
}

/// The `iss` a JWS claims, unverified: for routing only.
fn claimed_iss<'j>(jws: &'j Jws<'_>) -> Option<&'j str> {
    jws.claims.as_ref()?.get("iss")?.as_str()
}

/// How long a client is told to wait when its issuer's configuration is broken.
const BROKEN_RETRY_AFTER_SECS: u32 = 300;

impl Issuers {
    /// Starts a configuration: add issuers with [`jwt`](IssuersBuilder::jwt).
    pub fn builder() -> IssuersBuilder {
        IssuersBuilder {
            entries: Vec::new(),
            max_len: DEFAULT_MAX_TOKEN_LEN,
            cache: Some(TokenCache::new(DEFAULT_CACHE_ENTRIES)),
            #[cfg(feature = "introspection")]
            opaque: Vec::new(),
        }
    }

    /// The answer the shared cache holds for `token`, from the issuer that verified it: one
    /// lookup, as for a single issuer.
    fn cached(
        &self,
        token: &str,
    ) -> Option<(&JwtAuthenticator, Result<Arc<Identity>, TokenProblem>)> {
        let hit = self.cache.as_ref()?.lookup(token)?;
        let owner = Some(hit.owner());
        let entry = self.entries.iter().find(|entry| entry.owner == owner)?;
        let jwt = entry.jwt.as_ref().ok()?;
        Some((jwt, jwt.answer_cached(token, hit)?))
    }

    /// The issuer whose verifier checks `jws`: the one its unverified `iss` names.
    fn verifier(&self, jws: &Jws<'_>) -> Result<&Entry, TokenProblem> {
        if jws.claims.is_none() {
            return Err(TokenProblem::Malformed);
        }
        let Some(iss) = claimed_iss(jws) else {
            return Err(TokenProblem::WrongIssuer);
        };
        self.entries
            .iter()
            .find(|entry| &*entry.iss == iss)
            .ok_or_else(|| {
                tracing::debug!(iss = %iss, "route-guard: a token names an issuer that is not configured");
                TokenProblem::WrongIssuer
            })
    }
}

impl Authenticator for Issuers {
    fn authenticate(&self, req: &HttpRequest) -> AuthFuture {
        let (presented, token) = match access_token(req, self.source, self.dpop.is_some()) {
            Ok(found) => found,
            Err(denial) => return AuthFuture::ready(Err(denial)),
        };
        let for_proof = (presented == Presented::Dpop).then(|| token.clone());
        if let Some((jwt, answer)) = self.cached(&token) {
            let answer = AuthFuture::ready(answer.map_err(Denial::InvalidToken));
            return jwt.bound(req, presented, for_proof, answer);
        }
        if !looks_like_jws(&token) {
            #[cfg(feature = "introspection")]
            if let Some(opaque) = &self.opaque {
                let answer = opaque.authenticate_token(&token);
                return crate::auth::jwt::bound(opaque.dpop(), req, presented, for_proof, answer);
            }
            return AuthFuture::ready(Err(Denial::InvalidToken(TokenProblem::Malformed)));
        }
        // Split and parsed once: the chosen verifier goes on from there.
        let jws = match read_jws(&token) {
            Ok(jws) => jws,
            Err(problem) => return AuthFuture::ready(Err(Denial::InvalidToken(problem))),
        };
        let entry = match self.verifier(&jws) {
            Ok(entry) => entry,
            Err(problem) => {
                // A JWT of the opaque issuer, which has no keys here: its introspection judges.
                #[cfg(feature = "introspection")]
                if let Some(opaque) = &self.opaque
                    && opaque
                        .issuer()
                        .is_some_and(|iss| claimed_iss(&jws) == Some(iss))
                {
                    let answer = opaque.authenticate_token(&token);
                    let dpop = opaque.dpop();
                    return crate::auth::jwt::bound(dpop, req, presented, for_proof, answer);
                }
                return AuthFuture::ready(Err(Denial::InvalidToken(problem)));
            }
        };
        match &entry.jwt {
            Ok(jwt) => {
                let verified = jwt.authenticate_parsed(&token, jws);
                jwt.bound(req, presented, for_proof, verified)
            }
            Err(reason) => {
                tracing::warn!(iss = %entry.iss, %reason, "route-guard: this issuer's keys cannot be fetched; answering 503");
                AuthFuture::ready(Err(Denial::Unavailable {
                    retry_after_secs: BROKEN_RETRY_AFTER_SECS,
                }))
            }
        }
    }

    fn challenge(&self, realm: &str, denial: Denial) -> String {
        bearer_challenge(realm, denial)
    }

    fn challenges(&self, realm: &str, denial: Denial, req: &HttpRequest) -> Vec<String> {
        let dpop = self
            .dpop
            .as_ref()
            .map(|(algs, bearer_too)| (&**algs, *bearer_too));
        challenges_with(realm, denial, req, dpop)
    }

    fn dpop_algorithms(&self) -> Vec<String> {
        self.dpop.as_ref().map_or_else(Vec::new, |(algs, _)| {
            algs.split(' ').map(str::to_owned).collect()
        })
    }

    /// The nonce of the issuer the request's token names (the opaque issuer's for a token that
    /// is not a JWS), if that issuer asks for nonces.
    fn dpop_nonce(&self, denial: Denial, req: &HttpRequest) -> Option<String> {
        let (_, token) = access_token(req, self.source, true).ok()?;
        if !looks_like_jws(&token) {
            #[cfg(feature = "introspection")]
            return self.opaque.as_ref()?.dpop()?.nonce_for(denial);
            #[cfg(not(feature = "introspection"))]
            return None;
        }
        let jws = read_jws(&token).ok()?;
        let entry = self.verifier(&jws).ok()?;
        entry.jwt.as_ref().ok()?.dpop()?.nonce_for(denial)
    }

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("bearer")
    }

    /// The first issuer's description: OpenAPI has one scheme per authenticator.
    fn scheme(&self) -> CredentialScheme {
        let first = self
            .entries
            .iter()
            .find_map(|entry| entry.jwt.as_ref().ok());
        first.map_or(
            CredentialScheme::BearerJwt {
                openid_issuer: None,
            },
            Authenticator::scheme,
        )
    }

    fn issuers(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|entry| entry.iss.to_string())
            .collect()
    }

    fn may_be_unavailable(&self) -> bool {
        self.entries.iter().any(|entry| {
            entry
                .jwt
                .as_ref()
                .ok()
                .is_none_or(Authenticator::may_be_unavailable)
        })
    }
}

/// Configures [`Issuers`]; see [`Issuers::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct IssuersBuilder {
    entries: Vec<(String, JwtAuthenticatorBuilder)>,
    max_len: usize,
    cache: Option<TokenCache>,
    #[cfg(feature = "introspection")]
    opaque: Vec<(String, IntrospectionAuthenticatorBuilder)>,
}

impl IssuersBuilder {
    /// Adds the issuer `name`, whose tokens `issuer` verifies. It must require exactly one
    /// `iss` ([`issuer`](JwtAuthenticatorBuilder::issuer) or
    /// [`Jwks::discover`](crate::Jwks::discover)), and read tokens from the `Authorization`
    /// header only.
    pub fn jwt(mut self, name: impl Into<String>, issuer: JwtAuthenticatorBuilder) -> Self {
        self.entries.push((name.into(), issuer));
        self
    }

    /// Adds the issuer `name`'s opaque access tokens, judged by `introspection` (RFC 7662): a
    /// bearer token that is not a JWS goes there. Only one issuer may take opaque tokens, since
    /// such a token does not say where it is from. Give an issuer both a [`jwt`](Self::jwt)
    /// and an `opaque` entry under one name when it hands out both; its introspection then
    /// expects that issuer's `iss`. A JWT naming an issuer that has only an `opaque` entry is
    /// introspected too.
    #[cfg(feature = "introspection")]
    #[cfg_attr(docsrs, doc(cfg(feature = "introspection")))]
    pub fn opaque(
        mut self,
        name: impl Into<String>,
        introspection: IntrospectionAuthenticatorBuilder,
    ) -> Self {
        self.opaque.push((name.into(), introspection));
        self
    }

    /// Caps a token's length in bytes; longer tokens are refused before decoding. Default 8 KiB.
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.max_len = max;
        self
    }

    /// Remembers verified tokens of every issuer in `cache` rather than in a default one.
    pub fn cache(mut self, cache: TokenCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Verifies every token's signature on every request.
    pub fn no_cache(mut self) -> Self {
        self.cache = None;
        self
    }

    /// Checks the configuration and builds each issuer's verifier.
    pub fn build(self) -> Result<Issuers, ConfigError> {
        #[cfg(feature = "introspection")]
        let no_opaque = self.opaque.is_empty();
        #[cfg(not(feature = "introspection"))]
        let no_opaque = true;
        if self.entries.is_empty() && no_opaque {
            return Err(ConfigError::new(
                "Issuers needs at least one issuer: call `.jwt(name, JwtAuthenticator::builder()..)`",
            ));
        }
        if self.max_len == 0 {
            return Err(ConfigError::new("max_token_len must be greater than zero"));
        }
        let mut entries: Vec<Entry> = Vec::with_capacity(self.entries.len());
        let mut names: Vec<String> = Vec::with_capacity(self.entries.len());
        for (name, builder) in self.entries {
            let iss = match builder.configured_issuers() {
                [iss] => iss.clone(),
                other => {
                    return Err(ConfigError::new(format!(
                        "the issuer `{name}` must require exactly one `iss` (`.issuer(..)` or \
                         `.jwks(Jwks::discover(..))`); it requires {other:?}"
                    )));
                }
            };
            if builder.reads_elsewhere() {
                return Err(ConfigError::new(format!(
                    "the issuer `{name}` reads tokens from a cookie or the query; Issuers reads \
                     them from the Authorization header only"
                )));
            }
            if builder.cache_chosen() {
                return Err(ConfigError::new(format!(
                    "the issuer `{name}` chooses its own token cache; set it on Issuers instead \
                     (`.cache(..)` or `.no_cache()`), which every issuer shares"
                )));
            }
            if names.contains(&name) {
                return Err(ConfigError::new(format!("two issuers are named `{name}`")));
            }
            if entries.iter().any(|entry| *entry.iss == *iss) {
                return Err(ConfigError::new(format!(
                    "the issuer {iss:?} is configured twice"
                )));
            }
            if let Some(reason) = builder.unusable_key_source() {
                // A typo in one issuer's URL must not stop the others: its tokens get 503.
                tracing::error!(issuer = %name, %reason, "route-guard: this issuer's keys can never be fetched; its tokens will be answered 503");
                entries.push(Entry {
                    iss: iss.into_boxed_str(),
                    jwt: Err(reason.into_boxed_str()),
                    owner: None,
                });
                names.push(name);
                continue;
            }
            let builder = builder.name(name.clone());
            let builder = match &self.cache {
                Some(cache) => builder.cache(cache.clone()),
                None => builder.no_cache(),
            };
            let builder = builder.max_token_len(self.max_len);
            let jwt = builder.build()?;
            debug_assert_eq!(jwt.sole_issuer(), Some(iss.as_str()));
            entries.push(Entry {
                iss: iss.into_boxed_str(),
                owner: jwt.cache_owner(),
                jwt: Ok(jwt),
            });
            names.push(name);
        }
        #[cfg(feature = "introspection")]
        let opaque = opaque_issuer(self.opaque, &entries, &names)?;
        #[cfg(feature = "introspection")]
        let dpop = dpop_summary(&entries, opaque.as_ref().map(|o| o.dpop().map(|d| &**d)));
        #[cfg(not(feature = "introspection"))]
        let dpop = dpop_summary(&entries, None);
        Ok(Issuers {
            dpop,
            #[cfg(feature = "introspection")]
            opaque,
            entries: entries.into_boxed_slice(),
            source: TokenSource {
                query: false,
                max_len: self.max_len,
            },
            cache: self.cache,
        })
    }
}

/// The DPoP challenge of several issuers: every algorithm one of them accepts, and whether some
/// issuer still takes bearer tokens. `None` when none accepts DPoP.
fn dpop_summary(
    entries: &[Entry],
    opaque: Option<Option<&crate::auth::jwt::Dpop>>,
) -> Option<(Box<str>, bool)> {
    let mut algs: Vec<&str> = Vec::new();
    let mut bearer_too = false;
    let mut any = false;
    let jwts = entries.iter().filter_map(|entry| entry.jwt.as_ref().ok());
    for dpop in jwts.map(JwtAuthenticator::dpop).chain(opaque) {
        match dpop {
            Some(dpop) => {
                any = true;
                bearer_too |= dpop.mode == DpopMode::Allowed;
                for alg in dpop.algs.split(' ') {
                    if !algs.contains(&alg) {
                        algs.push(alg);
                    }
                }
            }
            None => bearer_too = true,
        }
    }
    any.then(|| (algs.join(" ").into_boxed_str(), bearer_too))
}

/// The opaque-token issuer, built: at most one, its expected `iss` that of the JWT issuer of
/// the same name, if there is one.
#[cfg(feature = "introspection")]
fn opaque_issuer(
    opaque: Vec<(String, IntrospectionAuthenticatorBuilder)>,
    entries: &[Entry],
    names: &[String],
) -> Result<Option<IntrospectionAuthenticator>, ConfigError> {
    let mut opaque = opaque.into_iter();
    let Some((name, builder)) = opaque.next() else {
        return Ok(None);
    };
    if let Some((other, _)) = opaque.next() {
        return Err(ConfigError::new(format!(
            "both `{name}` and `{other}` take opaque tokens; an opaque token does not say which \
             issuer it is from, so only one issuer may take them"
        )));
    }
    let builder = match names.iter().position(|n| *n == name) {
        Some(index) => {
            let iss = entries
                .get(index)
                .map(|entry| &*entry.iss)
                .unwrap_or_default();
            match builder.expected_issuer() {
                Some(expected) if expected != iss => {
                    return Err(ConfigError::new(format!(
                        "the issuer `{name}` expects {iss:?} in its JWTs but {expected:?} in its \
                         introspection answers"
                    )));
                }
                Some(_) => builder,
                None => builder.issuer(iss),
            }
        }
        None => builder,
    };
    builder.name(name).build().map(Some)
}

impl std::fmt::Debug for Issuers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issuers: Vec<&str> = self.entries.iter().map(|e| &*e.iss).collect();
        f.debug_struct("Issuers")
            .field("issuers", &issuers)
            .finish_non_exhaustive()
    }
}
