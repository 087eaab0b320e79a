//! Proof against real software: a real OpenID provider (panva's `oidc-provider`, started from
//! `tests/oidc/`) issues RS256 JWT access tokens (RFC 9068, `typ` `at+jwt`) to a
//! client-credentials client through its token endpoint; the guard finds its keys through
//! discovery, follows a key rotation without a restart, survives the provider failing, and
//! never lets clients make it hammer the provider. One provider process serves the whole file;
//! each test has a tenant of its own (`provider::start`), so tests may change how it answers and
//! count its requests without seeing each other.

mod common;
mod provider;

use std::time::{Duration, Instant};

use actix_web::test::init_service;
use actix_web::{App, get};
use common::*;
use futures_util::future::join_all;
use provider::{Provider, RESOURCE, alter};
use route_guard::{Authenticated, Jwks, JwtAuthenticator, Preset, RouteGuard, require_scope};
use serde_json::json;

#[get("/reports")]
#[require_scope("read:reports")]
async fn reports(client: Authenticated) -> String {
    format!("reports for {}", client.subject())
}

const FAST: Duration = Duration::from_millis(250);
/// How long one request to the provider may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Keys through discovery, refreshed quickly so the tests need not wait long.
fn jwks(provider: &Provider) -> Jwks {
    Jwks::discover(&provider.base)
        .cooldown(FAST)
        .refresh_interval(Duration::from_secs(3600))
        .timeout(TIMEOUT)
}

fn guard(jwks: Jwks) -> RouteGuard {
    let jwt = JwtAuthenticator::builder()
        .preset(Preset::rfc9068())
        .jwks(jwks)
        .audience(RESOURCE)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    guard_with(jwt)
}

/// [`guard`] without the verified-token cache: every request is checked against the key set in
/// use, so what a test sees is the key set, not a verification remembered from before.
fn uncached(jwks: Jwks) -> RouteGuard {
    let jwt = JwtAuthenticator::builder()
        .preset(Preset::rfc9068())
        .jwks(jwks)
        .audience(RESOURCE)
        .no_cache()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    guard_with(jwt)
}

/// A token of the provider's issuer naming a `kid` it never published. Unknown keys are
/// refused before any signature check, so the signature need not be real.
fn invented(provider: &Provider, i: usize) -> String {
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": format!("invented-{i}")});
    let claims = json!({"sub": "mallory", "iss": provider.base, "aud": RESOURCE,
                        "exp": now() + 600, "scope": "read:reports"});
    format!(
        "{}.{}.c2ln",
        b64url(header.to_string()),
        b64url(claims.to_string())
    )
}

macro_rules! app {
    ($guard:expr) => {
        init_service(App::new().app_data($guard).service(reports)).await
    };
}

async fn pause(duration: Duration) {
    actix_web::rt::time::sleep(duration).await;
}

#[actix_web::test]
async fn a_real_access_token_with_the_right_scope_reaches_the_handler() {
    let provider = provider::start().await;
    let app = app!(guard(jwks(&provider)));
    let token = provider.token(Some("read:reports")).await;
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "reports for reports-client"),
        "{reply:?}"
    );
    let both = provider.token(Some("read:reports write:reports")).await;
    let reply = call(&app, get("/reports").insert_header(bearer(&both))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[actix_web::test]
async fn a_real_access_token_without_the_scope_is_403_insufficient_scope() {
    let provider = provider::start().await;
    let app = app!(guard(jwks(&provider)));
    for scope in [None, Some("write:reports")] {
        let token = provider.token(scope).await;
        let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
        reply.assert_problem(403, &token);
        assert_eq!(
            reply.challenge.as_deref(),
            Some(
                r#"Bearer realm="test", error="insufficient_scope", error_description="The access token lacks a required scope", scope="read:reports""#
            ),
            "{scope:?}: {reply:?}"
        );
    }
}

#[actix_web::test]
async fn a_tampered_real_token_is_401_invalid_token() {
    let provider = provider::start().await;
    let app = app!(guard(jwks(&provider)));
    let token = provider.token(Some("read:reports")).await;
    for (segment, index) in [(0, 10), (1, 5), (1, 40), (2, 20), (2, 200)] {
        let tampered = alter(&token, segment, index);
        assert_ne!(tampered, token);
        let reply = call(&app, get("/reports").insert_header(bearer(&tampered))).await;
        reply.assert_problem(401, &tampered);
        let challenge = reply.challenge.as_deref().unwrap_or("");
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{segment}/{index}: {reply:?}"
        );
    }
    // The untouched token still works: refusals poisoned nothing.
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[actix_web::test]
async fn after_a_key_rotation_the_new_kid_works_and_the_old_one_stops_without_a_restart() {
    let provider = provider::start().await;
    let app = app!(guard(jwks(&provider)));
    let old = provider.token(Some("read:reports")).await;
    assert_eq!(
        call(&app, get("/reports").insert_header(bearer(&old)))
            .await
            .status,
        200
    );

    provider.admin("/admin/rotate").await;
    let new = provider.token(Some("read:reports")).await;
    assert_ne!(kid(&old), kid(&new));
    pause(FAST * 2).await; // past the cooldown since the first fetch
    let reply = call(&app, get("/reports").insert_header(bearer(&new))).await;
    assert_eq!(
        reply.status, 200,
        "the new kid must be fetched on demand: {reply:?}"
    );

    // The refresh withdrew the old key: its token is refused, even though it was verified (and
    // cached) before.
    let reply = call(&app, get("/reports").insert_header(bearer(&old))).await;
    reply.assert_invalid_token("unknown key", &old);
}

#[actix_web::test]
async fn a_failing_provider_leaves_the_last_good_keys_in_use() {
    let provider = provider::start().await;
    let app = app!(uncached(jwks(&provider).refresh_interval(FAST)));
    let token = provider.token(Some("read:reports")).await;
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    for (i, mode) in [
        "status500",
        "garbage",
        "huge",
        "hugestream",
        "empty",
        "slow",
    ]
    .into_iter()
    .enumerate()
    {
        provider.admin(&format!("/admin/jwks?mode={mode}")).await;
        let before = provider.jwks_hits().await;
        pause(FAST * 2).await; // the keys are now stale: the next request starts a refresh
        let deadline = Instant::now() + Duration::from_secs(20);
        while provider.jwks_hits().await == before {
            // Requests keep being served from the keys in use while the refresh fails.
            let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
            assert_eq!(reply.status, 200, "{mode}: {reply:?}");
            assert!(
                Instant::now() < deadline,
                "{mode}: no refresh was attempted"
            );
            pause(Duration::from_millis(50)).await;
        }
        // Past the fetch timeout, the failed refresh is over (`slow` has timed out): what
        // follows is the state it left.
        pause(TIMEOUT + FAST).await;
        let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "reports for reports-client"),
            "{mode}: the last good keys were dropped: {reply:?}"
        );
        // A kid the provider never published is still unknown, not a 503: keys are in use.
        let forged = invented(&provider, i);
        call(&app, get("/reports").insert_header(bearer(&forged)))
            .await
            .assert_invalid_token("unknown key", &forged);
    }
}

#[actix_web::test]
async fn without_any_usable_key_the_answer_is_503_with_retry_after_until_the_provider_recovers() {
    let provider = provider::start().await;
    provider.admin("/admin/jwks?mode=status500").await;
    let app = app!(guard(jwks(&provider)));
    let token = provider.token(Some("read:reports")).await;
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    reply.assert_problem(503, &token);
    assert_eq!(
        reply.challenge, None,
        "a 503 blames no credentials: {reply:?}"
    );
    let retry_after = reply_header(&app, &token).await;
    assert!(retry_after.is_some_and(|secs| secs >= 1), "{retry_after:?}");

    provider.admin("/admin/jwks?mode=ok").await;
    pause(FAST * 2).await;
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// The `Retry-After` of a guarded request, in seconds.
async fn reply_header<S, B>(app: &S, token: &str) -> Option<u64>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
{
    let req = get("/reports").insert_header(bearer(token)).to_request();
    let res = actix_web::test::call_service(app, req).await;
    assert_eq!(res.status(), 503);
    res.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

#[actix_web::test]
async fn clients_inventing_kids_cannot_make_the_guard_hammer_the_provider() {
    let provider = provider::start().await;
    let tokens: Vec<String> = (0..40).map(|i| invented(&provider, i)).collect();
    // A cooldown far longer than the test: nothing below races it.
    let app = app!(guard(jwks(&provider).cooldown(Duration::from_secs(120))));
    let real = provider.token(Some("read:reports")).await;

    // Before any key is known, 40 concurrent requests naming invented kids and one real token
    // share a single fetch.
    let replies = join_all(
        tokens
            .iter()
            .chain([&real])
            .map(|token| call(&app, get("/reports").insert_header(bearer(token)))),
    )
    .await;
    for (reply, token) in replies.iter().zip(&tokens) {
        reply.assert_invalid_token("unknown key", token);
    }
    assert_eq!(replies[40].status, 200, "{:?}", replies[40]);
    assert_eq!(provider.jwks_hits().await, 1);

    // Within the cooldown of that fetch: every invented kid is refused at once, nothing fetched.
    for token in &tokens {
        call(&app, get("/reports").insert_header(bearer(token)))
            .await
            .assert_invalid_token("unknown key", token);
    }
    assert_eq!(provider.jwks_hits().await, 1);
}

#[actix_web::test]
async fn a_discovery_document_naming_another_issuer_is_not_trusted() {
    let provider = provider::start().await;
    let token = provider.token(Some("read:reports")).await;
    // The provider calls itself http://127.0.0.1:PORT/t/N; configured as localhost, its
    // document names a different issuer and its keys must not be used (OIDC Discovery §4.3).
    let elsewhere = provider.base.replace("127.0.0.1", "localhost");
    let app = app!(guard(Jwks::discover(elsewhere).cooldown(FAST)));
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    reply.assert_problem(503, &token);
    assert_eq!(reply.challenge, None, "{reply:?}");
    // The document was read, so the 503 is its refusal and not an unreachable host; the key
    // set it names was never asked for.
    assert!(
        provider.discovery_hits().await >= 1,
        "the discovery document was never fetched through localhost"
    );
    assert_eq!(provider.jwks_hits().await, 0, "the JWKS was fetched");

    // The same provider under the issuer it names: its keys are fetched and used.
    let app = app!(guard(jwks(&provider)));
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(provider.jwks_hits().await, 1);
}

fn kid(token: &str) -> String {
    let header = token.split('.').next().unwrap_or_default();
    let json = base64_url(header);
    serde_json::from_slice::<serde_json::Value>(&json).unwrap_or_default()["kid"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_default()
}

#[actix_web::test]
async fn a_jwks_url_may_redirect_a_little_but_not_forever() {
    let provider = provider::start().await;
    let token = provider.token(Some("read:reports")).await;
    let at = |path: &str| Jwks::url(format!("{}{path}", provider.base)).cooldown(FAST);
    let issuer = |jwks: Jwks| {
        let jwt = JwtAuthenticator::builder()
            .preset(Preset::rfc9068())
            .jwks(jwks)
            .issuer(&provider.base)
            .audience(RESOURCE)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        guard_with(jwt)
    };
    let moved = app!(issuer(at("/moved")));
    assert_eq!(
        call(&moved, get("/reports").insert_header(bearer(&token)))
            .await
            .status,
        200
    );
    let looping = app!(issuer(at("/loop")));
    call(&looping, get("/reports").insert_header(bearer(&token)))
        .await
        .assert_problem(503, &token);
}
