//! Tokens minted by an independent implementation, panva's `jose` (run by `tests/oidc/`), for
//! every algorithm the guard supports: each is accepted with keys read from jose's own JWKS
//! (or the shared HMAC secret), and the same token altered in any one byte is refused.

mod common;
mod provider;

use actix_web::test::init_service;
use actix_web::{App, get};
use common::*;
use provider::alter;
use route_guard::{Algorithm, Authenticated, Jwks, JwtAuthenticator, JwtKey, require_role};

/// The HMAC secret `server.mjs` signs HS256/384/512 tokens with.
const HMAC_SECRET: &str =
    "route-guard interop secret: comfortably longer than the sixty-four bytes HS512 needs";

const ALGORITHMS: [&str; 12] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];

#[get("/read")]
#[require_role("reader")]
async fn read(user: Authenticated) -> String {
    format!("read by {}", user.subject())
}

fn jwt(base: &str) -> JwtAuthenticator {
    let mut builder = JwtAuthenticator::builder()
        .jwks(Jwks::url(format!("{base}/jose/jwks")))
        .issuer("https://jose.route-guard.test")
        .audience("route-guard-interop");
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let key = JwtKey::hmac(alg, HMAC_SECRET).unwrap_or_else(|e| panic!("{e}"));
        builder = builder.key(key);
    }
    builder.build().unwrap_or_else(|e| panic!("{e}"))
}

#[actix_web::test]
async fn tokens_from_jose_verify_for_every_algorithm_and_fail_when_altered() {
    let provider = provider::start().await;
    let jwt = jwt(&provider.base);
    assert_eq!(
        jwt.load_keys().await.ok(),
        Some(9),
        "one JWKS key per asymmetric algorithm"
    );
    let app = init_service(App::new().app_data(guard_with(jwt)).service(read)).await;
    for alg in ALGORITHMS {
        let token = provider
            .get_text(&format!("/jose/token?alg={alg}&sub=jose-{alg}"))
            .await;
        assert_eq!(token.split('.').count(), 3, "{alg}: {token}");
        let reply = call(&app, get("/read").insert_header(bearer(&token))).await;
        assert_eq!(
            (reply.status, reply.body.clone()),
            (200, format!("read by jose-{alg}")),
            "{alg}: {reply:?}"
        );
        let segments: Vec<usize> = token.split('.').map(str::len).collect();
        for (segment, len) in segments.iter().enumerate() {
            for index in [0, len / 3, len / 2, len.saturating_sub(2)] {
                let altered = alter(&token, segment, index);
                if altered == token {
                    continue;
                }
                let reply = call(&app, get("/read").insert_header(bearer(&altered))).await;
                reply.assert_problem(401, &altered);
                assert!(
                    reply
                        .challenge
                        .as_deref()
                        .is_some_and(|c| c.contains(r#"error="invalid_token""#)),
                    "{alg}, segment {segment}, byte {index}: {reply:?}"
                );
            }
        }
    }
}
