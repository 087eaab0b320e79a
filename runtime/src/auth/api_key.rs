//! API keys from a request header, stored as SHA-256 digests and compared in constant time.
//!
//! API keys are long random strings, so a fast hash suffices (unlike passwords): the digest
//! keeps configuration files and memory dumps from holding usable keys, and the comparison
//! walks every stored digest without stopping early, so timing reveals nothing about them.

use std::fmt;
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;
use serde_json::Map;
use sha2::{Digest as _, Sha256};
use subtle::{ConditionallySelectable as _, ConstantTimeEq as _};

use crate::auth::{AuthFuture, Authenticator, CredentialScheme};
use crate::config::ConfigError;
use crate::identity::Identity;
use crate::refusal::{Denial, RequestProblem, TokenProblem};

/// The header keys are read from unless configured otherwise.
pub const DEFAULT_API_KEY_HEADER: &str = "x-api-key";

/// The shortest key [`ApiKeyAuthenticatorBuilder::key`] accepts: 128 bits of base64.
const MIN_KEY_LEN: usize = 22;
/// The longest key read from a request; longer values are refused before hashing.
const MAX_KEY_LEN: usize = 512;

/// The SHA-256 digest of `key`, in lowercase hex: what to store in configuration for
/// [`ApiKeyAuthenticatorBuilder::key_digest`].
#[must_use]
pub fn api_key_digest(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Authenticates callers by an API key in a header (default `X-API-Key`).
///
/// ```
/// use route_guard::{ApiKeyAuthenticator, RouteGuard, api_key_digest};
///
/// let digest = api_key_digest("rg_live_6f1c8e0b2d4a4f7e9a3b5c7d9e1f3a5b");
/// let keys = ApiKeyAuthenticator::builder()
///     .header("X-Api-Key")
///     .key_digest(&digest, "billing-service", ["billing"])?
///     .build()?;
/// let guard = RouteGuard::new(keys);
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ApiKeyAuthenticator {
    header: HeaderName,
    keys: Arc<[([u8; 32], Arc<Identity>)]>,
}

/// Configures an [`ApiKeyAuthenticator`]; see [`ApiKeyAuthenticator::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct ApiKeyAuthenticatorBuilder {
    header: String,
    keys: Vec<([u8; 32], Arc<Identity>)>,
    error: Option<ConfigError>,
}

impl ApiKeyAuthenticator {
    /// Starts a configuration; add keys, then build.
    pub fn builder() -> ApiKeyAuthenticatorBuilder {
        ApiKeyAuthenticatorBuilder {
            header: DEFAULT_API_KEY_HEADER.to_owned(),
            keys: Vec::new(),
            error: None,
        }
    }

    /// The identity of `presented`, comparing against every digest in constant time.
    fn lookup(&self, presented: &str) -> Option<Arc<Identity>> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = subtle::Choice::from(0);
        let mut index = 0u32;
        for (i, (stored, _)) in self.keys.iter().enumerate() {
            let equal = stored.ct_eq(&digest);
            index.conditional_assign(&u32::try_from(i).unwrap_or(u32::MAX), equal);
            found |= equal;
        }
        if bool::from(found) {
            let index = usize::try_from(index).ok()?;
            self.keys.get(index).map(|(_, identity)| identity.clone())
        } else {
            None
        }
    }
}

impl fmt::Debug for ApiKeyAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyAuthenticator")
            .field("header", &self.header)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Authenticator for ApiKeyAuthenticator {
    fn authenticate(&self, req: &HttpRequest) -> AuthFuture {
        let mut values = req.headers().get_all(&self.header);
        let result = match (values.next(), values.next()) {
            (None, _) => Err(Denial::MissingCredentials),
            (Some(_), Some(_)) => Err(Denial::InvalidRequest(RequestProblem::DuplicateKeyHeader)),
            (Some(value), None) => match value.to_str().map(str::trim) {
                Ok(key) if !key.is_empty() && key.len() <= MAX_KEY_LEN => self
                    .lookup(key)
                    .ok_or(Denial::InvalidToken(TokenProblem::WrongCredentials)),
                _ => Err(Denial::InvalidToken(TokenProblem::Malformed)),
            },
        };
        if let Err(Denial::InvalidToken(problem)) = result {
            tracing::debug!(?problem, header = %self.header, "route-guard: API key refused");
        }
        AuthFuture::ready(result)
    }

    fn challenge(&self, realm: &str, _denial: Denial) -> String {
        // No registered HTTP authentication scheme covers API keys; this challenge names the
        // header so a client knows where the key goes (RFC 9110 §11.6.1 requires a challenge
        // on every 401).
        format!("ApiKey realm=\"{realm}\", header=\"{}\"", self.header)
    }

    fn name(&self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("api_key")
    }

    fn scheme(&self) -> CredentialScheme {
        CredentialScheme::ApiKeyHeader(self.header.as_str().to_owned())
    }

    /// Keys are held in memory: nothing to be down.
    fn may_be_unavailable(&self) -> bool {
        false
    }
}

impl ApiKeyAuthenticatorBuilder {
    /// The header keys are read from (case-insensitive); default `X-API-Key`.
    pub fn header(mut self, name: &str) -> Self {
        self.header = name.to_owned();
        self
    }

    /// Accepts `key` for `subject` with `roles`. Only its digest is kept; keys shorter than 22
    /// characters (128 bits of base64) are refused.
    pub fn key<I, S>(mut self, key: &str, subject: &str, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if key.len() < MIN_KEY_LEN {
            self.error = Some(ConfigError::new(format!(
                "the API key of {subject:?} is {} characters long; use at least {MIN_KEY_LEN} random ones",
                key.len()
            )));
            return self;
        }
        let digest = Sha256::digest(key.as_bytes()).into();
        self.push(digest, subject, roles);
        self
    }

    /// Accepts the key whose SHA-256 digest is `hex_digest` (64 hex digits, as
    /// [`api_key_digest`] prints) for `subject` with `roles`.
    pub fn key_digest<I, S>(
        mut self,
        hex_digest: &str,
        subject: &str,
        roles: I,
    ) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let digest = parse_digest(hex_digest).ok_or_else(|| {
            ConfigError::new(format!(
                "the key digest of {subject:?} must be 64 hex digits (a SHA-256 digest)"
            ))
        })?;
        self.push(digest, subject, roles);
        Ok(self)
    }

    fn push<I, S>(&mut self, digest: [u8; 32], subject: &str, roles: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let identity = Identity::new(subject, roles.into_iter().map(Into::into), Map::new());
        self.keys.push((digest, Arc::new(identity)));
    }

    /// Checks the configuration and builds the authenticator.
    pub fn build(self) -> Result<ApiKeyAuthenticator, ConfigError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.keys.is_empty() {
            return Err(ConfigError::new(
                "an ApiKeyAuthenticator needs at least one key: call `.key(..)` or `.key_digest(..)`",
            ));
        }
        let header = HeaderName::try_from(self.header.as_str())
            .map_err(|_| ConfigError::new(format!("{:?} is not a header name", self.header)))?;
        if header == actix_web::http::header::AUTHORIZATION {
            return Err(ConfigError::new(
                "API keys cannot use the Authorization header; pick a header of their own",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if !self.keys.iter().all(|(digest, _)| seen.insert(*digest)) {
            return Err(ConfigError::new("the same API key is configured twice"));
        }
        Ok(ApiKeyAuthenticator {
            header,
            keys: self.keys.into(),
        })
    }
}

fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (byte, pair) in digest.iter_mut().zip(bytes.chunks_exact(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    Some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_round_trip_and_bad_ones_are_refused() {
        let key = "rg_test_0123456789abcdefghij";
        let digest = api_key_digest(key);
        assert_eq!(digest.len(), 64);
        assert_eq!(
            parse_digest(&digest),
            Some(Sha256::digest(key.as_bytes()).into())
        );
        for bad in ["", "00", &"g".repeat(64), &"0".repeat(63), &"é".repeat(32)] {
            assert_eq!(parse_digest(bad), None, "{bad}");
        }
    }

    #[test]
    fn lookups_find_exactly_the_configured_keys() {
        let keys = ApiKeyAuthenticator::builder()
            .key("first-key-with-enough-entropy", "one", ["a"])
            .key("second-key-with-enough-entropy", "two", ["b"])
            .build()
            .unwrap();
        assert_eq!(
            keys.lookup("second-key-with-enough-entropy")
                .unwrap()
                .subject(),
            "two"
        );
        assert_eq!(
            keys.lookup("first-key-with-enough-entropy")
                .unwrap()
                .subject(),
            "one"
        );
        assert!(keys.lookup("first-key-with-enough-entropY").is_none());
        assert!(keys.lookup("").is_none());
    }

    #[test]
    fn weak_duplicate_or_misplaced_keys_are_refused_at_start_up() {
        assert!(
            ApiKeyAuthenticator::builder()
                .key("short", "x", ["a"])
                .build()
                .is_err()
        );
        let twice = ApiKeyAuthenticator::builder()
            .key("the-same-key-with-enough-entropy", "x", ["a"])
            .key("the-same-key-with-enough-entropy", "y", ["a"]);
        assert!(twice.build().is_err());
        let bad_header = ApiKeyAuthenticator::builder().header("not a header");
        assert!(bad_header.build().is_err());
        assert!(
            ApiKeyAuthenticator::builder()
                .header("Authorization")
                .build()
                .is_err()
        );
    }
}
