//! The signature backend jsonwebtoken verifies with, chosen by route-guard's features.
//!
//! jsonwebtoken picks its provider from its own features and panics at the first signature
//! when both or neither are on. Cargo features are additive, so an application (or
//! `--all-features`) may well turn on both of route-guard's: then AWS-LC is used, the faster of
//! the two for RSA and ECDSA (BENCHMARKS.md), and the one HMAC keys are made with.

use std::sync::Once;

#[cfg(feature = "aws-lc-rs")]
use jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;

/// Installs the chosen backend as jsonwebtoken's process-wide provider, once. A provider the
/// application installed itself is left in place.
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _already_chosen = DEFAULT_PROVIDER.install_default();
    });
}

#[cfg(all(test, feature = "rust-crypto", feature = "aws-lc-rs"))]
mod tests {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};

    use crate::auth::jwt::{JwtAuthenticator, JwtKey};

    /// With both backends on, verification works (jsonwebtoken alone would panic) for HMAC and
    /// for a public-key algorithm.
    #[test]
    fn both_backends_on_verify_with_aws_lc() {
        let secret = "a development secret of at least 32 bytes";
        let jwt = JwtAuthenticator::builder()
            .key(JwtKey::hs256(secret).unwrap())
            .build()
            .unwrap();
        let claims =
            serde_json::json!({"sub": "ann", "exp": jsonwebtoken::get_current_timestamp() + 60});
        let key = EncodingKey::from_secret(secret.as_bytes());
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
        assert_eq!(jwt.verify(&token).unwrap().subject(), "ann");
        assert!(jwt.verify(&format!("{token}x")).is_err());
    }
}
