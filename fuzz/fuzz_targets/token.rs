//! Token verification on hostile input: the pre-checks (shape, header, `alg`, `crit`,
//! duplicate members) and everything after them. Inputs whose first byte is odd are split
//! into a header and a payload and signed with the test secret, so the fuzzer reaches the
//! claims handling too; the rest are verified as they are and must all be refused.
#![no_main]

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use libfuzzer_sys::fuzz_target;
use route_guard::{JwtAuthenticator, JwtKey};

const SECRET: &[u8] = b"route-guard fuzzing secret, 32+ bytes long";

fn authenticator() -> &'static JwtAuthenticator {
    static JWT: OnceLock<JwtAuthenticator> = OnceLock::new();
    JWT.get_or_init(|| {
        let key = JwtKey::hs256(SECRET).unwrap_or_else(|e| panic!("{e}"));
        JwtAuthenticator::builder()
            .key(key)
            .no_cache()
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

/// `header.payload.signature` over exactly these bytes.
fn signed(header: &[u8], payload: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let key = EncodingKey::from_secret(SECRET);
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256)
        .unwrap_or_else(|e| panic!("{e}"));
    format!("{message}.{signature}")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let token = String::from_utf8_lossy(rest);
        assert!(
            authenticator().verify(&token).is_err(),
            "{token:?} passed unsigned"
        );
        return;
    }
    let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let (header, payload) = rest.split_at(split);
    let payload = payload.get(1..).unwrap_or_default();
    if let Ok(identity) = authenticator().verify(&signed(header, payload)) {
        // Only a well-formed, signed, unexpired token with a string `sub` gets here.
        let claims: serde_json::Value =
            serde_json::from_slice(payload).unwrap_or_else(|e| panic!("accepted bad JSON: {e}"));
        assert_eq!(claims["sub"].as_str(), Some(identity.subject()));
        assert!(claims["exp"].is_number(), "accepted without exp: {claims}");
    }
});
