//! What a [`JwtAuthenticator`] adds to signature checks for real identity providers: keys
//! fetched from a JWKS, tokens in a cookie, roles gathered from several claims and claims that
//! must hold a given value (Cognito's `token_use` and `client_id`).

#[cfg(feature = "jwks")]
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header::COOKIE;
use serde_json::{Map, Value};

#[cfg(feature = "jwks")]
use super::remote::{Jwks, RemoteKeys};
use super::{JwtAuthenticator, JwtAuthenticatorBuilder};
use crate::auth::AuthFuture;
use crate::auth::bearer::bearer_token;
use crate::identity::claims::ClaimPath;
use crate::refusal::{Denial, RequestProblem, TokenProblem};

/// The additions a built authenticator carries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extras {
    #[cfg(feature = "jwks")]
    pub(crate) remote: Option<Arc<RemoteKeys>>,
    pub(crate) more_roles: Vec<ClaimPath>,
    pub(crate) requirements: Vec<Requirement>,
    pub(crate) cookie: Option<Box<str>>,
}

/// The additions a builder collects.
#[derive(Debug, Default)]
pub(crate) struct ExtrasBuilder {
    #[cfg(feature = "jwks")]
    pub(crate) jwks: Option<Jwks>,
    pub(crate) more_roles: Vec<ClaimPath>,
    pub(crate) requirements: Vec<Requirement>,
    pub(crate) cookie: Option<String>,
    /// Set by presets whose tokens are worthless without an audience check (RFC 9068 §4).
    pub(crate) audience_required: bool,
}

/// A claim that must be a string equal to one of `allowed`.
#[derive(Debug, Clone)]
pub(crate) struct Requirement {
    pub(crate) path: ClaimPath,
    pub(crate) allowed: Vec<String>,
    /// What a client is told when the claim is missing or different.
    pub(crate) problem: TokenProblem,
}

impl Requirement {
    fn holds(&self, claims: &Map<String, Value>) -> bool {
        matches!(self.path.find(claims), Some(Value::String(value)) if self.allowed.contains(value))
    }
}

impl Extras {
    /// Every required claim holds.
    pub(crate) fn check(&self, claims: &Map<String, Value>) -> Result<(), TokenProblem> {
        match self.requirements.iter().find(|r| !r.holds(claims)) {
            Some(failed) => {
                tracing::debug!(claim = %failed.path, "route-guard: required claim value missing");
                Err(failed.problem)
            }
            None => Ok(()),
        }
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
        if let super::remote::Source::Discover(issuer) = &jwks.source
            && !self.issuers.contains(issuer)
        {
            self.issuers.push(issuer.clone());
        }
        self.extras.jwks = Some(jwks);
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
            more_roles: self.extras.more_roles.clone(),
            requirements: self.extras.requirements.clone(),
            cookie,
        })
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

impl JwtAuthenticator {
    /// Fetches the JWKS now, whatever the cooldown, and returns how many keys are in use; call
    /// it at start-up to fail fast or to warm the cache. Without a JWKS, returns the number of
    /// configured keys.
    #[cfg(feature = "jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
    pub async fn load_keys(&self) -> Result<usize, crate::ConfigError> {
        match &self.extras.remote {
            Some(remote) => remote.load().await.map_err(crate::ConfigError::new),
            None => Ok(self.keys.len()),
        }
    }

    /// The request's token: the `Authorization: Bearer` header, else the configured cookie.
    pub(crate) fn token(&self, req: &HttpRequest) -> Result<String, Denial> {
        let from_header = bearer_token(req, self.source);
        let Some(name) = &self.extras.cookie else {
            return from_header;
        };
        match (from_header, cookie_value(req, name)?) {
            (Ok(_), Some(_)) => Err(Denial::InvalidRequest(RequestProblem::TokenInSeveralPlaces)),
            // Another scheme in `Authorization` (Basic for a second authenticator) leaves the
            // cookie to this one.
            (Err(Denial::MissingCredentials | Denial::UnsupportedScheme), Some(token)) => {
                crate::auth::bearer::check_token(token.as_bytes(), self.source.max_len)
            }
            (result, _) => result,
        }
    }

    /// Verifies `token`; when it names a key the fetched set lacks, waits for the refresh that
    /// may bring it (RFC 7517 §5 rotation), or answers 503 while no key could ever be fetched.
    pub(crate) fn authenticate_token(&self, token: String) -> AuthFuture {
        // The key set the verification below starts from (or a later one).
        #[cfg(feature = "jwks")]
        let seen = self.extras.remote.as_ref().map(|remote| {
            remote.touch();
            remote.installed_generation()
        });
        match self.verify_cached(&token) {
            #[cfg(feature = "jwks")]
            Err(problem) if self.awaits_keys(problem) => {
                self.await_keys(token, seen.unwrap_or_default())
            }
            result => AuthFuture::ready(result.map_err(Denial::InvalidToken)),
        }
    }

    /// Whether a refusal may be lifted by keys the JWKS has not delivered yet: a `kid` the set
    /// lacks, or, before the first fetch, any key problem at all. A configured key without a
    /// `kid` matches every token, so for the provider's tokens no lookup would ever miss and
    /// nothing would start the first fetch.
    #[cfg(feature = "jwks")]
    fn awaits_keys(&self, problem: TokenProblem) -> bool {
        let Some(remote) = &self.extras.remote else {
            return false;
        };
        match problem {
            TokenProblem::UnknownKey => true,
            TokenProblem::BadSignature | TokenProblem::DisallowedAlgorithm => {
                !remote.current().loaded
            }
            _ => false,
        }
    }

    /// `seen`: the generation of the key set in use before the token was first verified.
    #[cfg(feature = "jwks")]
    fn await_keys(&self, token: String, seen: u64) -> AuthFuture {
        let Some(remote) = self.extras.remote.clone() else {
            return AuthFuture::ready(Err(Denial::InvalidToken(TokenProblem::UnknownKey)));
        };
        let Some(receiver) = remote.refresh_for_unknown_key() else {
            // No refresh may start (cooldown), but one may have installed a new set since the
            // token was verified: a kid that set holds is verified against it, not refused.
            if remote.installed_generation() != seen {
                match self.verify_cached(&token) {
                    Err(TokenProblem::UnknownKey) => {}
                    result => return AuthFuture::ready(result.map_err(Denial::InvalidToken)),
                }
            }
            return AuthFuture::ready(Err(unknown_or_unavailable(&remote, &remote.current())));
        };
        // Rare (a rotation, or a client inventing kids while a refresh runs): the clone is
        // cheaper than making every request pay for shared ownership.
        let this = self.clone();
        AuthFuture::new(async move {
            let keys = remote.wait(receiver).await;
            match this.verify_cached(&token) {
                Err(TokenProblem::UnknownKey) => Err(unknown_or_unavailable(&remote, &keys)),
                Err(_) if !keys.loaded => Err(unknown_or_unavailable(&remote, &keys)),
                result => result.map_err(Denial::InvalidToken),
            }
        })
    }
}

#[cfg(feature = "jwks")]
fn unknown_or_unavailable(remote: &RemoteKeys, keys: &super::jwk::KeySet) -> Denial {
    if keys.loaded {
        Denial::InvalidToken(TokenProblem::UnknownKey)
    } else {
        tracing::warn!("route-guard: no JWKS could be fetched yet; answering 503");
        Denial::Unavailable {
            retry_after_secs: remote.retry_after_secs(),
        }
    }
}

/// The value of cookie `name`, if the request carries it once. Two cookies of that name are a
/// token in two places.
fn cookie_value(req: &HttpRequest, name: &str) -> Result<Option<String>, Denial> {
    let mut found = None;
    for header in req.headers().get_all(COOKIE) {
        let Ok(header) = header.to_str() else {
            continue;
        };
        for pair in header.split(';') {
            let Some((key, value)) = pair.trim().split_once('=') else {
                continue;
            };
            if key.trim() != name {
                continue;
            }
            if found.is_some() {
                return Err(Denial::InvalidRequest(RequestProblem::TokenInSeveralPlaces));
            }
            found = Some(value.trim().trim_matches('"').to_owned());
        }
    }
    Ok(found)
}

/// Roles from every configured claim.
pub(crate) fn all_roles(
    first: &ClaimPath,
    more: &[ClaimPath],
    claims: &Map<String, Value>,
) -> Vec<String> {
    let mut roles = super::names(first, claims);
    for path in more {
        roles.extend(super::names(path, claims));
    }
    roles
}

#[cfg(all(test, feature = "jwks"))]
mod tests {
    use std::time::Duration;

    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::json;

    use super::*;
    use crate::auth::jwt::jwk::{KeySet, parse_jwks};

    /// Right after a refresh, with the cooldown forbidding another, a token naming a `kid` the
    /// new set holds is verified against that set, though it was first checked against the
    /// set before.
    #[actix_web::test]
    async fn a_kid_the_new_set_holds_is_verified_during_the_cooldown() {
        let dead = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap();
        let jwt = JwtAuthenticator::builder()
            .jwks(
                Jwks::url(format!("http://{dead}/jwks"))
                    .cooldown(Duration::from_secs(600))
                    .timeout(Duration::from_secs(1)),
            )
            .issuer("https://idp.example")
            .no_cache()
            .build()
            .unwrap();
        let remote = jwt.extras.remote.clone().unwrap();
        // A failed fetch starts the cooldown: no refresh may start now.
        assert!(jwt.load_keys().await.is_err());
        assert!(remote.refresh_for_unknown_key().is_none());

        let signer =
            EncodingKey::from_ec_pem(include_bytes!("../../../../tests/keys/p256.key")).unwrap();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("k1".into());
        let claims = json!({"sub": "ann", "iss": "https://idp.example", "exp": 4_000_000_000u64});
        let token = jsonwebtoken::encode(&header, &claims, &signer).unwrap();
        // The request saw the set before the refresh (empty), which lacks k1 ...
        let seen = remote.installed_generation();
        assert_eq!(
            jwt.verify_cached(&token).err(),
            Some(TokenProblem::UnknownKey)
        );
        // ... and the refresh installs a set with k1 before the request asks for one.
        let mut jwk = Jwk::from_encoding_key(&signer, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some("k1".into());
        let keys = parse_jwks(json!({ "keys": [jwk] }).to_string().as_bytes()).unwrap();
        let generation = remote.next_generation();
        let installed = Ok((KeySet::loaded(keys), Duration::from_secs(600)));
        assert_eq!(remote.install(generation, installed).ok(), Some(1));

        let identity = jwt.await_keys(token, seen).await.unwrap();
        assert_eq!(identity.subject(), "ann");
    }
}
