//! A broken identity provider, played by a small actix-web server on 127.0.0.1 (issue 6): down
//! at start-up, down mid-run, slow beyond the timeout, answering 500, garbage or 10 MiB, and
//! rotating its keys. The guard keeps answering correctly and keeps its last good keys, never
//! makes a request with a known key wait for a refresh, and tells a client in `Retry-After`
//! when it will try the provider again.
//! `oidc.rs` proves the same key source against a real OpenID provider; this file adds what
//! only a provider under the test's control can do. `kid_flood.rs` floods it with random kids.

mod common;
mod fake_idp;

use std::time::{Duration, Instant};

use actix_web::rt::time::timeout;
use actix_web::test::init_service;
use actix_web::{App, web};
use common::*;
use fake_idp::*;
use route_guard::{Jwks, JwtAuthenticator};

macro_rules! app {
    ($jwt:expr) => {
        init_service(
            App::new()
                .app_data(guard_with($jwt))
                .configure(subject_route),
        )
        .await
    };
}

/// Asserts a 503 with `Retry-After` and no challenge: no key could ever be fetched, which says
/// nothing about the caller's credentials.
async fn assert_unavailable<S, B>(app: &S, token: &str)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let req = get("/me").insert_header(bearer(token)).to_request();
    let res = actix_web::test::call_service(app, req).await;
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        retry_after.is_some_and(|secs| secs >= 1),
        "{:?}",
        res.headers()
    );
    let reply = call(app, get("/me").insert_header(bearer(token))).await;
    reply.assert_problem(503, token);
    assert_eq!(reply.challenge, None, "{reply:?}");
}

#[actix_web::test]
async fn a_provider_down_at_start_up_gets_503_with_retry_after_until_it_comes_up() {
    let gate = Gate::closed();
    let jwt = authenticator(gate.addr(), FAST);
    assert!(jwt.load_keys().await.is_err(), "nothing listens yet");
    let app = app!(jwt);
    let token = token_of("k1");
    assert_unavailable(&app, &token).await;
    // Unknown kids cannot be told from known ones without keys: 503 too, never 401 or 500.
    assert_unavailable(&app, &invented(1)).await;

    let provider = web::Data::new(Provider::default());
    provider.set(Mode::Keys, &["k1"]);
    let (backend, handle) = serve(&provider);
    gate.open(backend);
    pause(FAST * 2).await;
    let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "svc"),
        "{reply:?}"
    );
    call(&app, get("/me").insert_header(bearer(&invented(2))))
        .await
        .assert_invalid_token("unknown key", "");
    handle.stop(false).await;
}

#[actix_web::test]
async fn a_provider_failing_mid_run_leaves_the_last_good_keys_in_use() {
    let provider = web::Data::new(Provider::default());
    provider.set(Mode::Keys, &["k1"]);
    let (backend, handle) = serve(&provider);
    let gate = Gate::closed();
    gate.open(backend);
    let jwt = authenticator(gate.addr(), FAST);
    assert_eq!(jwt.load_keys().await.ok(), Some(1));
    let app = app!(jwt);
    let token = token_of("k1");
    for mode in [
        Mode::Status500,
        Mode::Garbage,
        Mode::Huge,
        Mode::HugeStream,
        Mode::Slow,
    ] {
        provider.set(mode, &["k1"]);
        let before = provider.hits();
        pause(FAST * 2).await; // the keys are stale: the next request starts a refresh
        let deadline = Instant::now() + Duration::from_secs(20);
        while provider.hits() == before {
            let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
            assert_eq!(reply.status, 200, "{mode:?}, while refreshing: {reply:?}");
            assert!(
                Instant::now() < deadline,
                "{mode:?}: no refresh was attempted"
            );
            pause(Duration::from_millis(20)).await;
        }
        pause(TIMEOUT + FAST).await; // the failed refresh is over
        let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
        assert_eq!(
            reply.status, 200,
            "{mode:?}: the last good keys were dropped: {reply:?}"
        );
        call(&app, get("/me").insert_header(bearer(&invented(0))))
            .await
            .assert_invalid_token("unknown key", "");
    }

    // Down altogether: connections reset. The keys stay; unknown kids stay 401, not 503.
    gate.close();
    handle.stop(false).await;
    pause(FAST * 2).await;
    for _ in 0..3 {
        let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
        assert_eq!(reply.status, 200, "provider down: {reply:?}");
        call(&app, get("/me").insert_header(bearer(&invented(0))))
            .await
            .assert_invalid_token("unknown key", "");
        pause(FAST).await;
    }

    // Back, with its keys rotated: the new kid is fetched on demand, the old one withdrawn.
    provider.set(Mode::Keys, &["k2"]);
    let (backend, handle) = serve(&provider);
    gate.open(backend);
    pause(FAST * 2).await;
    let reply = call(&app, get("/me").insert_header(bearer(&token_of("k2")))).await;
    assert_eq!(reply.status, 200, "the rotated key: {reply:?}");
    call(&app, get("/me").insert_header(bearer(&token)))
        .await
        .assert_invalid_token("unknown key", &token);
    handle.stop(false).await;
}

#[actix_web::test]
async fn a_configured_key_without_a_kid_does_not_keep_the_jwks_from_being_fetched() {
    let provider = web::Data::new(Provider::default());
    provider.set(Mode::Keys, &["k1"]);
    let (addr, server) = serve(&provider);
    // An HS256 secret without a `kid` matches every token's `kid`, so no lookup ever misses.
    // The other algorithm's key (the DisallowedAlgorithm path), and one of the same algorithm
    // whose signature does not match (the BadSignature path).
    let attacker = include_bytes!("../keys/attacker-p256.pub");
    for configured in [
        route_guard::JwtKey::hs256(SECRET).unwrap(),
        route_guard::JwtKey::ec_pem(jsonwebtoken::Algorithm::ES256, attacker).unwrap(),
    ] {
        let jwt = route_guard::JwtAuthenticator::builder()
            .key(configured)
            .jwks(route_guard::Jwks::url(format!("http://{addr}/jwks")).timeout(TIMEOUT))
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .no_cache()
            .build()
            .unwrap();
        let app = app!(jwt);
        let reply = call(&app, get("/me").insert_header(bearer(&token_of("k1")))).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "svc"),
            "{reply:?}"
        );
    }
    assert_eq!(provider.hits(), 2, "one fetch per authenticator");
    server.stop(false).await;
}

/// An authenticator over the fake provider at `addr` whose fetches may take a minute: a test
/// that holds the provider's answer decides when the refresh ends, not the timeout.
fn patient_authenticator(addr: std::net::SocketAddr) -> JwtAuthenticator {
    JwtAuthenticator::builder()
        .jwks(
            Jwks::url(format!("http://{addr}/jwks"))
                .cooldown(FAST)
                .refresh_interval(FAST)
                .timeout(Duration::from_secs(60)),
        )
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .no_cache()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Far beyond any answer from keys in memory, far below the held refresh's minute: a request
/// that takes this long waited for the provider.
const HANG: Duration = Duration::from_secs(10);

#[actix_web::test]
async fn a_request_whose_key_is_known_never_waits_for_a_slow_refresh() {
    let provider = web::Data::new(Provider::default());
    provider.set(Mode::Keys, &["k1"]);
    let (addr, handle) = serve(&provider);
    let jwt = patient_authenticator(addr);
    assert_eq!(jwt.load_keys().await.ok(), Some(1));
    let app = app!(jwt);
    let token = token_of("k1");

    // The provider now holds every answer until the test releases it.
    provider.set(Mode::Hold, &["k1"]);
    let before = provider.hits();
    pause(FAST * 2).await; // the keys are stale: the next request starts a refresh
    let deadline = Instant::now() + Duration::from_secs(20);
    while provider.hits() == before {
        let reply = timeout(HANG, call(&app, get("/me").insert_header(bearer(&token))))
            .await
            .unwrap_or_else(|_| panic!("a request waited for the refresh it started"));
        assert_eq!(reply.status, 200, "{reply:?}");
        assert!(Instant::now() < deadline, "no refresh was attempted");
        pause(Duration::from_millis(20)).await;
    }
    // The refresh is at the provider, which holds it: requests with a known key are answered
    // from the keys in use all the same.
    for _ in 0..3 {
        let reply = timeout(HANG, call(&app, get("/me").insert_header(bearer(&token))))
            .await
            .unwrap_or_else(|_| panic!("a request waited for the held refresh"));
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "svc"),
            "{reply:?}"
        );
    }
    assert_eq!(provider.hits(), before + 1, "one refresh, still held");
    provider.release();
    handle.stop(false).await;
}

#[actix_web::test]
async fn a_kid_flood_while_the_provider_answers_500_fetches_at_most_once_per_cooldown() {
    let provider = web::Data::new(Provider::default());
    provider.set(Mode::Keys, &["k1"]);
    let (addr, handle) = serve(&provider);
    let cooldown = Duration::from_secs(1);
    // Measured from before the first fetch: every fetch below starts after it.
    let started = Instant::now();
    let jwt = authenticator(addr, cooldown);
    assert_eq!(jwt.load_keys().await.ok(), Some(1));
    let app = app!(jwt);
    provider.set(Mode::Status500, &["k1"]);
    let before = provider.hits();

    // Invented kids, fifty at a time, for three cooldowns: each is refused as an unknown key
    // (the keys in use are kept), never 503.
    let mut next = 0;
    while started.elapsed() < cooldown * 3 {
        let batch: Vec<String> = (next..next + 50).map(invented).collect();
        next += 50;
        let replies = futures_util::future::join_all(
            batch
                .iter()
                .map(|token| call(&app, get("/me").insert_header(bearer(token)))),
        )
        .await;
        for (reply, token) in replies.iter().zip(&batch) {
            reply.assert_invalid_token("unknown key", token);
        }
    }
    let elapsed = started.elapsed();
    let fetches = provider.hits() - before;
    let windows = (elapsed.as_secs_f64() / cooldown.as_secs_f64()).floor() as u64 + 1;
    assert!(fetches >= 1, "the flood never asked for keys");
    assert!(
        fetches <= windows,
        "{fetches} fetches in {elapsed:?} for {next} invented kids"
    );
    let reply = call(&app, get("/me").insert_header(bearer(&token_of("k1")))).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "svc"),
        "{reply:?}"
    );
    handle.stop(false).await;
}

#[actix_web::test]
async fn a_client_that_waits_the_retry_after_of_a_503_finds_the_guard_fetching_again() {
    let gate = Gate::closed();
    let cooldown = Duration::from_secs(3);
    let jwt = authenticator(gate.addr(), cooldown);
    let app = app!(jwt);
    let token = token_of("k1");
    // The first request fetches, finds the provider down, and is told when to come back.
    let req = get("/me").insert_header(bearer(&token)).to_request();
    let res = actix_web::test::call_service(&app, req).await;
    assert_eq!(res.status(), 503);
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", res.headers()));
    assert!(
        (1..=cooldown.as_secs()).contains(&retry_after),
        "Retry-After {retry_after} for a cooldown of {cooldown:?}"
    );

    // The provider is back at once; the guard tries again when the cooldown is over, and a
    // client waiting exactly as long as it was told finds it has.
    let provider = web::Data::new(Provider::default());
    provider.set(Mode::Keys, &["k1"]);
    let (backend, handle) = serve(&provider);
    gate.open(backend);
    pause(Duration::from_secs(retry_after)).await;
    let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "svc"),
        "after Retry-After {retry_after}: {reply:?}"
    );
    handle.stop(false).await;
}
