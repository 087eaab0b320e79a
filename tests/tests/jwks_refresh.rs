//! What a JWKS refresh does to tokens already verified (issue 12), against the fake provider
//! of `fake_idp`: a key replaced under the same `kid` stops verifying at once, even for tokens
//! the verified-token cache remembers.

mod common;
mod fake_idp;

use std::time::Duration;

use actix_web::test::init_service;
use actix_web::{App, get, web};
use common::*;
use fake_idp::*;
use route_guard::{Authenticated, Jwks, JwtAuthenticator, require_auth};

#[get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> String {
    user.subject().to_owned()
}

/// An authenticator over the fake provider at `addr` with the default verified-token cache,
/// whose keys are refreshed only when the test says so.
fn cached_authenticator(addr: std::net::SocketAddr) -> JwtAuthenticator {
    JwtAuthenticator::builder()
        .jwks(
            Jwks::url(format!("http://{addr}/jwks"))
                .cooldown(FAST)
                .refresh_interval(Duration::from_secs(3600))
                .timeout(TIMEOUT),
        )
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn start(provider: &web::Data<Provider>) -> (std::net::SocketAddr, actix_web::dev::ServerHandle) {
    serve(
        provider,
        "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
    )
}

/// A token signed with `signer`'s key and naming `kid`.
fn token_named(kid: &str, signer: &str) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    sign(&header, &claims("svc", &[]), &signing_key(signer))
}

#[actix_web::test]
async fn new_material_under_the_same_kid_drops_cached_verifications() {
    let provider = web::Data::new(Provider::default());
    provider.publish(Mode::Keys, &[("k1", "k1")]);
    let (addr, handle) = start(&provider);
    let jwt = cached_authenticator(addr);
    assert_eq!(jwt.load_keys().await.ok(), Some(1));
    let app = init_service(App::new().app_data(guard_with(jwt.clone())).service(me)).await;
    let old = token_named("k1", "k1");
    for _ in 0..2 {
        let reply = call(&app, get("/me").insert_header(bearer(&old))).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "svc"),
            "{reply:?}"
        );
    }

    // The provider replaces the key material behind `k1`.
    provider.publish(Mode::Keys, &[("k1", "k2")]);
    assert_eq!(jwt.load_keys().await.ok(), Some(1));
    call(&app, get("/me").insert_header(bearer(&old)))
        .await
        .assert_invalid_token("signature", &old);
    let new = token_named("k1", "k2");
    let reply = call(&app, get("/me").insert_header(bearer(&new))).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "svc"),
        "{reply:?}"
    );
    handle.stop(false).await;
}

#[actix_web::test]
async fn a_kid_less_key_swapped_for_another_drops_cached_verifications() {
    let provider = web::Data::new(Provider::default());
    provider.publish(Mode::Keys, &[("", "k1")]);
    let (addr, handle) = start(&provider);
    let jwt = cached_authenticator(addr);
    assert_eq!(jwt.load_keys().await.ok(), Some(1));
    let app = init_service(App::new().app_data(guard_with(jwt.clone())).service(me)).await;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = None;
    let old = sign(&header, &claims("svc", &[]), &signing_key("k1"));
    let reply = call(&app, get("/me").insert_header(bearer(&old))).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "svc"),
        "{reply:?}"
    );

    provider.publish(Mode::Keys, &[("", "k2")]);
    assert_eq!(jwt.load_keys().await.ok(), Some(1));
    call(&app, get("/me").insert_header(bearer(&old)))
        .await
        .assert_invalid_token("signature", &old);
    handle.stop(false).await;
}
