//! Verification keys, each bound to the one algorithm it may verify.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind};

use crate::config::ConfigError;

/// A key that verifies JWT signatures with exactly one algorithm.
///
/// The algorithm is fixed here, by the server, never by the token's `alg` header: a token
/// signed with anything else is refused, which rules out `none` and RS256→HS256 key confusion
/// (RFC 8725 §3.1).
#[derive(Clone)]
pub struct JwtKey {
    pub(crate) kid: Option<String>,
    pub(crate) algorithm: Algorithm,
    pub(crate) key: DecodingKey,
    /// For an HMAC secret, the secret already keyed into its MAC; see [`HmacKey`].
    pub(crate) hmac: Option<HmacKey>,
    /// Whether this is the built-in test key handed out as a `testing::TestKey`: trusted
    /// knowingly, by a test. See [`warn_of_test_keys`].
    pub(crate) test_only: bool,
}

impl JwtKey {
    /// An HMAC secret for `HS256`, `HS384` or `HS512`.
    ///
    /// Secrets shorter than the hash output (32, 48 or 64 bytes) are refused: they can be
    /// brute-forced offline from a single token (RFC 7518 §3.2).
    pub fn hmac(algorithm: Algorithm, secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        super::backend::install();
        let secret = secret.as_ref();
        let min = match algorithm {
            Algorithm::HS256 => 32,
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
            other => {
                return Err(wrong_family(
                    other,
                    "an HMAC secret",
                    "HS256, HS384 or HS512",
                ));
            }
        };
        if secret.len() < min {
            return Err(ConfigError::new(format!(
                "the {algorithm:?} secret is {} bytes long; it must be at least {min} bytes \
                 (the hash output size) so it cannot be guessed offline",
                secret.len()
            )));
        }
        Ok(JwtKey {
            hmac: HmacKey::new(algorithm, secret),
            ..Self::bind(algorithm, DecodingKey::from_secret(secret))
        })
    }

    /// An HMAC-SHA256 secret of at least 32 bytes.
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        Self::hmac(Algorithm::HS256, secret)
    }

    /// An RSA public key in PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`), for `RS256/384/512` or
    /// `PS256/384/512`.
    ///
    /// A modulus shorter than 2048 bits is refused, as RFC 7518 §3.3 requires and as keys
    /// from a JWKS are.
    pub fn rsa_pem(algorithm: Algorithm, pem: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        super::backend::install();
        match algorithm {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => {
                let key =
                    DecodingKey::from_rsa_pem(pem.as_ref()).map_err(|e| bad_pem("RSA", &e))?;
                let bits = key
                    .try_get_as_bytes()
                    .ok()
                    .and_then(rsa_modulus_bits)
                    .ok_or_else(|| {
                        ConfigError::new(
                            "not a valid RSA public key in PEM: the key does not hold an RSA \
                             public key's modulus and exponent (is it a private key?)",
                        )
                    })?;
                if bits < MIN_RSA_BITS {
                    return Err(ConfigError::new(format!(
                        "the RSA key has a {bits}-bit modulus; at least {MIN_RSA_BITS} bits are \
                         required (RFC 7518 §3.3)"
                    )));
                }
                Ok(Self::bind(algorithm, key))
            }
            other => Err(wrong_family(
                other,
                "an RSA key",
                "RS256/384/512 or PS256/384/512",
            )),
        }
    }

    /// An elliptic-curve public key in PEM, for `ES256` (P-256) or `ES384` (P-384).
    pub fn ec_pem(algorithm: Algorithm, pem: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        super::backend::install();
        match algorithm {
            Algorithm::ES256 | Algorithm::ES384 => {
                let key = DecodingKey::from_ec_pem(pem.as_ref()).map_err(|e| bad_pem("EC", &e))?;
                Ok(Self::bind(algorithm, key))
            }
            other => Err(wrong_family(other, "an EC key", "ES256 or ES384")),
        }
    }

    /// An Ed25519 public key in PEM, for `EdDSA`.
    pub fn ed_pem(pem: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        super::backend::install();
        let key = DecodingKey::from_ed_pem(pem.as_ref()).map_err(|e| bad_pem("Ed25519", &e))?;
        Ok(Self::bind(Algorithm::EdDSA, key))
    }

    /// Names the key: a token whose header carries this `kid` is verified with this key only.
    ///
    /// A key without a `kid` verifies any token of its algorithm.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The one algorithm this key verifies.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether `other` is this very key: the same `kid`, the same algorithm and the same key
    /// material, byte for byte. A provider that republishes a `kid` (or a kid-less key) with
    /// new material has replaced the key, whatever its name says.
    #[cfg_attr(not(feature = "jwks"), allow(dead_code))]
    pub(crate) fn same_key(&self, other: &JwtKey) -> bool {
        let same_material = match (self.key.kind(), other.key.kind()) {
            (DecodingKeyKind::SecretOrDer(mine), DecodingKeyKind::SecretOrDer(theirs)) => {
                mine == theirs
            }
            (
                DecodingKeyKind::RsaModulusExponent { n, e },
                DecodingKeyKind::RsaModulusExponent { n: n2, e: e2 },
            ) => n == n2 && e == e2,
            _ => false,
        };
        self.kid == other.kid && self.algorithm == other.algorithm && same_material
    }

    fn bind(algorithm: Algorithm, key: DecodingKey) -> Self {
        JwtKey {
            kid: None,
            algorithm,
            key,
            hmac: None,
            test_only: false,
        }
    }

    /// Whether this is the public half of `testing::TestIssuer`'s key, however it was made
    /// (PEM, JWKS, fetched).
    fn is_builtin_test_key(&self) -> bool {
        self.algorithm == Algorithm::EdDSA
            && matches!(self.key.kind(), DecodingKeyKind::SecretOrDer(bytes) if bytes[..] == BUILTIN_TEST_KEY)
    }
}

impl fmt::Debug for JwtKey {
    // The key material stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// An HMAC secret keyed once into its MAC (the hashed inner and outer pads of RFC 2104), where
/// jsonwebtoken re-derives them from the secret for every token: two SHA-2 compressions, about
/// a tenth of an HS256 token's verification. Verifying copies the keyed state. The MAC comes
/// from the backend the `rust-crypto` / `aws-lc-rs` feature chose, as the other algorithms do.
#[derive(Clone)]
pub(crate) struct HmacKey(keyed::Keyed);

impl HmacKey {
    fn new(algorithm: Algorithm, secret: &[u8]) -> Option<Self> {
        keyed::Keyed::new(algorithm, secret).map(HmacKey)
    }

    /// Whether `signature` is the MAC of `message`, compared in constant time.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.0.verify(message, signature)
    }
}

#[cfg(not(feature = "aws-lc-rs"))]
mod keyed {
    use hmac::{Hmac, Mac};
    use jsonwebtoken::Algorithm;
    use sha2::{Sha256, Sha384, Sha512};

    #[derive(Clone)]
    pub(super) enum Keyed {
        Sha256(Hmac<Sha256>),
        Sha384(Hmac<Sha384>),
        Sha512(Hmac<Sha512>),
    }

    impl Keyed {
        pub(super) fn new(algorithm: Algorithm, secret: &[u8]) -> Option<Self> {
            // HMAC takes keys of any length, so these never fail.
            match algorithm {
                Algorithm::HS256 => Hmac::new_from_slice(secret).ok().map(Keyed::Sha256),
                Algorithm::HS384 => Hmac::new_from_slice(secret).ok().map(Keyed::Sha384),
                Algorithm::HS512 => Hmac::new_from_slice(secret).ok().map(Keyed::Sha512),
                _ => None,
            }
        }

        pub(super) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
            fn check<M: Mac + Clone>(keyed: &M, message: &[u8], signature: &[u8]) -> bool {
                let mut mac = keyed.clone();
                mac.update(message);
                mac.verify_slice(signature).is_ok()
            }
            match self {
                Keyed::Sha256(keyed) => check(keyed, message, signature),
                Keyed::Sha384(keyed) => check(keyed, message, signature),
                Keyed::Sha512(keyed) => check(keyed, message, signature),
            }
        }
    }
}

#[cfg(feature = "aws-lc-rs")]
mod keyed {
    use aws_lc_rs::hmac;
    use jsonwebtoken::Algorithm;

    #[derive(Clone)]
    pub(super) struct Keyed(hmac::Key);

    impl Keyed {
        pub(super) fn new(algorithm: Algorithm, secret: &[u8]) -> Option<Self> {
            let algorithm = match algorithm {
                Algorithm::HS256 => hmac::HMAC_SHA256,
                Algorithm::HS384 => hmac::HMAC_SHA384,
                Algorithm::HS512 => hmac::HMAC_SHA512,
                _ => return None,
            };
            Some(Keyed(hmac::Key::new(algorithm, secret)))
        }

        pub(super) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
            hmac::verify(&self.0, message, signature).is_ok()
        }
    }
}

/// The Ed25519 public key of `testing::TestIssuer` (raw, RFC 8032), known here whatever the
/// features: its private half is published in this crate's source, so a verifier trusting it
/// accepts tokens anyone can mint.
const BUILTIN_TEST_KEY: [u8; 32] = [
    0xf1, 0x2a, 0x0a, 0xf5, 0xb4, 0x3a, 0xed, 0x39, 0xe7, 0xd5, 0xdd, 0xb0, 0xa2, 0x24, 0x19, 0x86,
    0x2a, 0xc8, 0xcf, 0xd0, 0x35, 0x90, 0xe6, 0x24, 0xd0, 0xa0, 0x4c, 0x15, 0xf5, 0x07, 0xc8, 0xf5,
];

/// Logs an error for every key in `keys` that is the built-in test key, unless it was handed
/// out for a test (`testing::TestKey`) and this is a debug build. Called when an authenticator
/// is built and when a JWKS is fetched: a production verifier trusting that key accepts tokens
/// anyone can mint, and a library cannot refuse more loudly without breaking the tests that
/// use it on purpose. `what` names the key's source in the message.
pub(crate) fn warn_of_test_keys(keys: &[JwtKey], what: &str) {
    for key in keys.iter().filter(|key| key.is_builtin_test_key()) {
        if key.test_only && cfg!(debug_assertions) {
            continue;
        }
        tracing::error!(
            kid = key.kid.as_deref().unwrap_or(""),
            "route-guard: {what} trusts the built-in TEST key of `route_guard::testing`, whose \
             private half is published: anyone can mint tokens it accepts. Never use it \
             outside tests."
        );
    }
}

/// The smallest RSA modulus accepted: RFC 7518 §3.3 requires 2048 bits.
pub(crate) const MIN_RSA_BITS: u64 = 2048;

/// The size in bits of the modulus of a DER `RSAPublicKey` (RFC 8017 §A.1.1:
/// `SEQUENCE { modulus INTEGER, publicExponent INTEGER }`), or `None` for anything else.
fn rsa_modulus_bits(der: &[u8]) -> Option<u64> {
    use simple_asn1::ASN1Block;
    match simple_asn1::from_der(der).ok()?.as_slice() {
        [ASN1Block::Sequence(_, members)] => match members.as_slice() {
            [ASN1Block::Integer(_, modulus), ASN1Block::Integer(_, _)] => Some(modulus.bits()),
            _ => None,
        },
        _ => None,
    }
}

fn wrong_family(algorithm: Algorithm, what: &str, expected: &str) -> ConfigError {
    ConfigError::new(format!(
        "{algorithm:?} cannot be used with {what}; use {expected}"
    ))
}

fn bad_pem(kind: &str, error: &jsonwebtoken::errors::Error) -> ConfigError {
    ConfigError::new(format!("not a valid {kind} public key in PEM: {error}"))
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header};

    use super::*;

    #[test]
    fn hmac_keys_verify_what_jsonwebtoken_signs_and_nothing_else() {
        let secret = [7u8; 64];
        for algorithm in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let key = JwtKey::hmac(algorithm, secret).unwrap();
            let hmac = key.hmac.as_ref().unwrap();
            let claims = serde_json::json!({ "sub": "ann" });
            let token = jsonwebtoken::encode(
                &Header::new(algorithm),
                &claims,
                &EncodingKey::from_secret(&secret),
            )
            .unwrap();
            let (message, signature) = token.rsplit_once('.').unwrap();
            let mut signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
            assert!(hmac.verify(message.as_bytes(), &signature), "{algorithm:?}");
            assert!(!hmac.verify(b"another message", &signature));
            assert!(!hmac.verify(message.as_bytes(), &signature[1..]));
            signature[0] ^= 1;
            assert!(!hmac.verify(message.as_bytes(), &signature));
        }
    }
}
