//! Shared fixtures of the route-guard benchmarks: keys, tokens and authenticators for each
//! algorithm, the peer stack's validator, the routes the servers mount, and an allocation
//! counter.
//!
//! The keys are the test suite's (`tests/keys`); they sign nothing outside this repository.

pub mod alloc;
pub mod dpop;
pub mod peer;
pub mod routes;
pub mod rules;

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use route_guard::{JwtAuthenticator, JwtKey, TokenCache};
use serde_json::{Value, json};

/// The issuer every benchmark token names and every verifier requires.
pub const ISSUER: &str = "https://issuer.bench";
/// The audience every benchmark token names and every verifier requires.
pub const AUDIENCE: &str = "bench-api";
/// The algorithms benchmarked: one per key family.
pub const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

const SECRET: &[u8] = b"route-guard benchmark secret, 32+ bytes long";
const RSA_PRIVATE: &str = include_str!("../../tests/keys/rsa.key");
const RSA_PUBLIC: &str = include_str!("../../tests/keys/rsa.pub");
const P256_PRIVATE: &str = include_str!("../../tests/keys/p256.key");
const P256_PUBLIC: &str = include_str!("../../tests/keys/p256.pub");
const ED_PRIVATE: &str = include_str!("../../tests/keys/ed25519.key");
const ED_PUBLIC: &str = include_str!("../../tests/keys/ed25519.pub");

/// The signing key of one algorithm and the ways each verifier holds its public half.
pub struct Signer {
    /// The algorithm this signer signs with.
    pub algorithm: Algorithm,
    encoding: EncodingKey,
    /// The verification key as route-guard takes it.
    pub key: JwtKey,
    /// The verification key as raw jsonwebtoken takes it.
    pub decoding: DecodingKey,
}

/// The signer for `algorithm`, one of [`ALGORITHMS`].
///
/// # Panics
/// On an algorithm outside [`ALGORITHMS`], or if the checked-in keys do not parse.
#[must_use]
pub fn signer(algorithm: Algorithm) -> Signer {
    let (encoding, key, decoding) = match algorithm {
        Algorithm::HS256 => (
            EncodingKey::from_secret(SECRET),
            JwtKey::hs256(SECRET),
            DecodingKey::from_secret(SECRET),
        ),
        Algorithm::RS256 => (
            fixture(EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes())),
            JwtKey::rsa_pem(algorithm, RSA_PUBLIC),
            fixture(DecodingKey::from_rsa_pem(RSA_PUBLIC.as_bytes())),
        ),
        Algorithm::ES256 => (
            fixture(EncodingKey::from_ec_pem(P256_PRIVATE.as_bytes())),
            JwtKey::ec_pem(algorithm, P256_PUBLIC),
            fixture(DecodingKey::from_ec_pem(P256_PUBLIC.as_bytes())),
        ),
        Algorithm::EdDSA => (
            fixture(EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes())),
            JwtKey::ed_pem(ED_PUBLIC),
            fixture(DecodingKey::from_ed_pem(ED_PUBLIC.as_bytes())),
        ),
        other => panic!("no benchmark key for {other:?}"),
    };
    Signer {
        algorithm,
        encoding,
        key: key.expect("fixture key is accepted"),
        decoding,
    }
}

fn fixture<T>(parsed: Result<T, jsonwebtoken::errors::Error>) -> T {
    parsed.expect("fixture key parses")
}

impl Signer {
    /// The private key, for signing fixtures of one's own.
    #[must_use]
    pub fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }

    /// A token for `sub` with `roles`, valid for an hour, as an identity provider issues it.
    ///
    /// # Panics
    /// If signing fails, which the fixture keys never do.
    #[must_use]
    pub fn token(&self, sub: &str, roles: &[&str]) -> String {
        self.sign(&claims(sub, roles))
    }

    /// A token carrying exactly `claims`.
    ///
    /// # Panics
    /// If signing fails, which the fixture keys never do.
    #[must_use]
    pub fn sign(&self, claims: &Value) -> String {
        jsonwebtoken::encode(&Header::new(self.algorithm), claims, &self.encoding)
            .expect("fixture token signs")
    }

    /// The checks route-guard applies, spelled out for raw jsonwebtoken: `exp` required, `nbf`
    /// enforced, issuer and audience required.
    #[must_use]
    pub fn validation(&self) -> Validation {
        let mut validation = Validation::new(self.algorithm);
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation
    }
}

/// Claims as Keycloak-like providers send them: subject, issuer, audience, times, roles.
#[must_use]
pub fn claims(sub: &str, roles: &[&str]) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    json!({
        "sub": sub,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "roles": roles,
        "scope": "openid profile",
    })
}

/// route-guard's authenticator over `keys`, with the verified-token cache or without it.
///
/// # Panics
/// If the configuration is refused, which these fixtures never are.
#[must_use]
pub fn authenticator(
    keys: impl IntoIterator<Item = JwtKey>,
    cache: Option<TokenCache>,
) -> JwtAuthenticator {
    let mut builder = JwtAuthenticator::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE);
    for key in keys {
        builder = builder.key(key);
    }
    builder = match cache {
        Some(cache) => builder.cache(cache),
        None => builder.no_cache(),
    };
    builder.build().expect("benchmark configuration is valid")
}
