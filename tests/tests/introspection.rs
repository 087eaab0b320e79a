//! Opaque access tokens against a real provider (panva's `oidc-provider`, `tests/oidc/`): a
//! tenant issuing opaque tokens for the API (`accessTokenFormat: 'opaque'`), with its
//! introspection (RFC 7662) and revocation (RFC 7009) endpoints. The guard finds the endpoint
//! through discovery, authenticates to it as the API's own client, and is judged on what a
//! client sees. The provider counts the calls to its introspection endpoint.
//! `introspection_faults.rs` breaks the endpoint in every way it can break.

mod common;
mod provider;

use std::time::Duration;

use actix_web::test::init_service;
use actix_web::{App, get};
use common::*;
use futures_util::future::join_all;
use provider::{INTROSPECTOR_BASIC, INTROSPECTOR_POST, INTROSPECTOR_SECRET, Provider, RESOURCE};
use route_guard::{
    Authenticated, IntrospectionAuthenticator, IntrospectionAuthenticatorBuilder, RouteGuard,
    require_scope,
};

#[get("/reports")]
#[require_scope("read:reports")]
async fn reports(client: Authenticated) -> String {
    format!("reports for {}", client.subject())
}

/// The API's introspection configuration at `provider`: discovery, `client_secret_basic`,
/// its issuer and the resource as audience.
fn opaque(provider: &Provider) -> IntrospectionAuthenticatorBuilder {
    IntrospectionAuthenticator::builder()
        .discover(&provider.base)
        .client_secret_basic(INTROSPECTOR_BASIC, INTROSPECTOR_SECRET)
        .audience(RESOURCE)
        .timeout(Duration::from_secs(5))
}

fn guard(builder: IntrospectionAuthenticatorBuilder) -> RouteGuard {
    let authenticator = builder.build().unwrap_or_else(|e| panic!("{e}"));
    RouteGuard::builder(authenticator)
        .realm(REALM)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! app {
    ($guard:expr) => {
        init_service(App::new().app_data($guard).service(reports)).await
    };
}

#[actix_web::test]
async fn an_opaque_token_passes_and_a_second_request_is_answered_from_the_cache() {
    let provider = provider::start_opaque().await;
    let token = provider.token(Some("read:reports")).await;
    assert_eq!(token.matches('.').count(), 0, "an opaque token: {token}");
    let app = app!(guard(opaque(&provider)));
    for _ in 0..3 {
        let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
        reply.assert_ok("reports for reports-client");
    }
    assert_eq!(provider.introspection_hits().await, 1);
}

#[actix_web::test]
async fn client_secret_post_is_accepted_too() {
    let provider = provider::start_opaque().await;
    let token = provider.token(Some("read:reports")).await;
    let builder = opaque(&provider).client_secret_post(INTROSPECTOR_POST, INTROSPECTOR_SECRET);
    let app = app!(guard(builder));
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    reply.assert_ok("reports for reports-client");
}

#[actix_web::test]
async fn a_token_without_the_scope_is_forbidden_with_the_scope_challenge() {
    let provider = provider::start_opaque().await;
    let token = provider.token(Some("write:reports")).await;
    let app = app!(guard(opaque(&provider)));
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    reply.assert_insufficient_scope("read:reports", &token);
}

#[actix_web::test]
async fn an_unknown_token_is_401_invalid_token_and_its_answer_is_remembered_briefly() {
    let provider = provider::start_opaque().await;
    let app = app!(guard(opaque(&provider)));
    for token in ["garbage-token-nobody-issued", "YWJj", "x"] {
        let reply = call(&app, get("/reports").insert_header(bearer(token))).await;
        reply.assert_invalid_described("The access token is not active", token);
    }
    let again = call(&app, get("/reports").insert_header(bearer("YWJj"))).await;
    again.assert_invalid_described("The access token is not active", "YWJj");
    assert_eq!(provider.introspection_hits().await, 3);
    let missing = call(&app, get("/reports")).await;
    missing.assert_bare_401("");
}

#[actix_web::test]
async fn a_revoked_token_stops_working_when_its_cache_entry_ends() {
    let provider = provider::start_opaque().await;
    let token = provider.token(Some("read:reports")).await;
    let ttl = Duration::from_millis(1500);
    let app = app!(guard(opaque(&provider).cache_ttl(ttl)));
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    reply.assert_ok("reports for reports-client");
    provider.revoke(&token).await;
    // The documented trade-off: the cached answer is honoured until its entry ends.
    let cached = call(&app, get("/reports").insert_header(bearer(&token))).await;
    cached.assert_ok("reports for reports-client");
    actix_web::rt::time::sleep(ttl + Duration::from_millis(200)).await;
    let revoked = call(&app, get("/reports").insert_header(bearer(&token))).await;
    revoked.assert_invalid_described("The access token is not active", &token);
    assert_eq!(provider.introspection_hits().await, 2);
}

#[actix_web::test]
async fn concurrent_requests_with_one_new_token_make_one_introspection_call() {
    let provider = provider::start_opaque().await;
    let token = provider.token(Some("read:reports")).await;
    let app = app!(guard(opaque(&provider)));
    let requests = (0..32).map(|_| call(&app, get("/reports").insert_header(bearer(&token))));
    for reply in join_all(requests).await {
        reply.assert_ok("reports for reports-client");
    }
    assert_eq!(provider.introspection_hits().await, 1);
}

#[actix_web::test]
async fn another_issuer_or_audience_is_refused() {
    let provider = provider::start_opaque().await;
    let token = provider.token(Some("read:reports")).await;
    let elsewhere = opaque(&provider).issuer("https://another-issuer.example");
    let app = app!(guard(elsewhere));
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    reply.assert_invalid_described("The token issuer is not accepted", &token);

    let other_api = IntrospectionAuthenticator::builder()
        .discover(&provider.base)
        .client_secret_basic(INTROSPECTOR_BASIC, INTROSPECTOR_SECRET)
        .audience("https://another-api.example");
    let app = app!(guard(other_api));
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    reply.assert_invalid_described("The token audience is not accepted", &token);
    // Without an audience, a token that names one is refused, as a JWT would be.
    let no_audience = IntrospectionAuthenticator::builder()
        .discover(&provider.base)
        .client_secret_basic(INTROSPECTOR_BASIC, INTROSPECTOR_SECRET);
    let app = app!(guard(no_audience));
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    reply.assert_invalid_described("The token audience is not accepted", &token);
}

#[actix_web::test]
async fn a_wrong_client_secret_is_503_with_retry_after_never_401() {
    let provider = provider::start_opaque().await;
    let token = provider.token(Some("read:reports")).await;
    let wrong = opaque(&provider)
        .client_secret_basic(INTROSPECTOR_BASIC, "not-the-secret")
        .retry_after(Duration::from_secs(7));
    let app = app!(guard(wrong));
    let reply = call_full(&app, get("/reports").insert_header(bearer(&token))).await;
    reply.assert_refused(503, &[], &token);
    assert_eq!(reply.retry_after.as_deref(), Some("7"), "{reply:?}");
    assert!(!reply.reply.body.contains("not-the-secret"), "{reply:?}");
}
