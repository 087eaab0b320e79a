//! Every supported algorithm verifies its own tokens and nothing else: keys fix the algorithm,
//! so `none`, a swapped `alg` and RS256→HS256 key confusion all fail.

mod common;

use actix_web::test::init_service;
use actix_web::{App, get};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use route_guard::TokenProblem::{BadSignature, DisallowedAlgorithm};
use route_guard::{ConfigError, JwtAuthenticator, JwtKey, require_role};

const RSA_PRIVATE: &str = include_str!("../keys/rsa.key");
const RSA_PUBLIC: &str = include_str!("../keys/rsa.pub");
const P256_PRIVATE: &str = include_str!("../keys/p256.key");
const P256_PUBLIC: &str = include_str!("../keys/p256.pub");
const P384_PRIVATE: &str = include_str!("../keys/p384.key");
const P384_PUBLIC: &str = include_str!("../keys/p384.pub");
const ED_PRIVATE: &str = include_str!("../keys/ed25519.key");
const ED_PUBLIC: &str = include_str!("../keys/ed25519.pub");
const HS512_SECRET: &[u8] = b"a sixty-four byte secret for HS512, which wants 64 bytes at least!";

#[get("/admin")]
#[require_role("admin")]
async fn admin() -> &'static str {
    "hello, admin"
}

fn ok<T>(result: Result<T, impl std::fmt::Display>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

/// The signing and verification keys for one algorithm.
fn keys(alg: Algorithm) -> (EncodingKey, JwtKey) {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => (
            EncodingKey::from_secret(HS512_SECRET),
            ok(JwtKey::hmac(alg, HS512_SECRET)),
        ),
        Algorithm::ES256 => (
            ok(EncodingKey::from_ec_pem(P256_PRIVATE.as_bytes())),
            ok(JwtKey::ec_pem(alg, P256_PUBLIC)),
        ),
        Algorithm::ES384 => (
            ok(EncodingKey::from_ec_pem(P384_PRIVATE.as_bytes())),
            ok(JwtKey::ec_pem(alg, P384_PUBLIC)),
        ),
        Algorithm::EdDSA => (
            ok(EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes())),
            ok(JwtKey::ed_pem(ED_PUBLIC)),
        ),
        _ => (
            ok(EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes())),
            ok(JwtKey::rsa_pem(alg, RSA_PUBLIC)),
        ),
    }
}

const ALL: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

fn authenticator(key: JwtKey) -> JwtAuthenticator {
    ok(key_builder(key).build())
}

#[actix_web::test]
async fn every_algorithm_verifies_its_own_tokens_and_refuses_a_flipped_byte() {
    for alg in ALL {
        let (signing, verifying) = keys(alg);
        let app = init_service(
            App::new()
                .app_data(guard_with(authenticator(verifying)))
                .service(admin),
        )
        .await;
        let jwt = sign(&Header::new(alg), &claims("root", &["admin"]), &signing);
        let reply = call(&app, get("/admin").insert_header(bearer(&jwt))).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "hello, admin"),
            "{alg:?}"
        );

        // One character of the signature changed, keeping it valid base64url.
        let tampered = tampered(&jwt);
        let reply = call(&app, get("/admin").insert_header(bearer(&tampered))).await;
        reply.assert_invalid(BadSignature, &tampered);
    }
}

#[actix_web::test]
async fn a_key_verifies_only_its_own_algorithm() {
    // Tokens of every other algorithm, signed with their own valid keys, are refused.
    for expected in ALL {
        let (_, verifying) = keys(expected);
        let app = init_service(
            App::new()
                .app_data(guard_with(authenticator(verifying)))
                .service(admin),
        )
        .await;
        for other in ALL.into_iter().filter(|alg| *alg != expected) {
            let (signing, _) = keys(other);
            let jwt = sign(&Header::new(other), &claims("root", &["admin"]), &signing);
            let reply = call(&app, get("/admin").insert_header(bearer(&jwt))).await;
            reply.assert_invalid(DisallowedAlgorithm, &jwt);
        }
    }
}

#[actix_web::test]
async fn rs256_to_hs256_key_confusion_fails() {
    // The attacker signs HS256 with the server's *public* RSA key as the HMAC secret.
    let (_, verifying) = keys(Algorithm::RS256);
    let app = init_service(
        App::new()
            .app_data(guard_with(authenticator(verifying)))
            .service(admin),
    )
    .await;
    let forged = sign(
        &Header::new(Algorithm::HS256),
        &claims("mallory", &["admin"]),
        &EncodingKey::from_secret(RSA_PUBLIC.as_bytes()),
    );
    call(&app, get("/admin").insert_header(bearer(&forged)))
        .await
        .assert_invalid(DisallowedAlgorithm, &forged);
}

#[actix_web::test]
async fn keys_with_kids_pick_the_right_key_and_rotation_works() {
    let old_secret = &b"the old secret, thirty-two bytes or more"[..];
    let new_secret = &b"the new secret, thirty-two bytes or more"[..];
    let old = ok(JwtKey::hs256(old_secret)).with_kid("old");
    let new = ok(JwtKey::hs256(new_secret)).with_kid("new");
    let jwt = ok(key_builder(old).key(new).build());
    let app = init_service(App::new().app_data(guard_with(jwt)).service(admin)).await;
    let signed_as = |kid: &str, secret: &[u8]| {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        sign(
            &header,
            &claims("root", &["admin"]),
            &EncodingKey::from_secret(secret),
        )
    };
    for (kid, secret) in [("old", old_secret), ("new", new_secret)] {
        let token = signed_as(kid, secret);
        call(&app, get("/admin").insert_header(bearer(&token)))
            .await
            .assert_ok("hello, admin");
    }
    // The kid picks the key: the old secret under the new kid does not verify.
    let token = signed_as("new", old_secret);
    call(&app, get("/admin").insert_header(bearer(&token)))
        .await
        .assert_invalid(BadSignature, &token);
}

#[test]
fn weak_or_mismatched_keys_are_refused_at_start_up() {
    let message = |result: Result<JwtKey, ConfigError>| {
        result.err().map(|e| e.to_string()).unwrap_or_default()
    };
    assert!(message(JwtKey::hs256(b"short")).contains("at least 32 bytes"));
    assert!(message(JwtKey::hmac(Algorithm::HS384, [7u8; 47])).contains("at least 48 bytes"));
    assert!(message(JwtKey::hmac(Algorithm::HS512, [7u8; 63])).contains("at least 64 bytes"));
    assert!(JwtKey::hmac(Algorithm::HS512, [7u8; 64]).is_ok());
    assert!(message(JwtKey::hmac(Algorithm::RS256, [7u8; 64])).contains("HMAC"));
    assert!(message(JwtKey::rsa_pem(Algorithm::HS256, RSA_PUBLIC)).contains("RSA"));
    assert!(message(JwtKey::rsa_pem(Algorithm::RS256, "not a pem")).contains("PEM"));
    // 1024-bit keys made by `openssl genrsa 1024`, as SPKI (`openssl rsa -pubout`) and as
    // PKCS#1 (`-RSAPublicKey_out`): refused like the same key from a JWKS.
    for weak in [
        include_str!("../keys/rsa1024.pub"),
        include_str!("../keys/rsa1024-pkcs1.pub"),
    ] {
        for alg in [Algorithm::RS256, Algorithm::PS512] {
            let refused = message(JwtKey::rsa_pem(alg, weak));
            assert!(refused.contains("1024-bit"), "{refused}");
            assert!(refused.contains("at least 2048 bits"), "{refused}");
        }
    }
    // A private key is not a public one, whatever jsonwebtoken would make of it.
    assert!(message(JwtKey::rsa_pem(Algorithm::RS256, RSA_PRIVATE)).contains("PEM"));
    assert!(message(JwtKey::ec_pem(Algorithm::EdDSA, P256_PUBLIC)).contains("EC"));
    assert!(message(JwtKey::ed_pem(RSA_PUBLIC)).contains("Ed25519"));
    let no_key = JwtAuthenticator::builder()
        .build()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(no_key.contains("needs keys"), "{no_key}");
    let realm = route_guard::RouteGuard::builder(authenticator(keys(Algorithm::HS256).1))
        .realm("a\"b")
        .build();
    assert!(realm.is_err());
}
