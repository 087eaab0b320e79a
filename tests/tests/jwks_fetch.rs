//! How the guard fetches keys over HTTP, as a client and the provider see it (the rules are in
//! `runtime/src/jwt/fetch.rs`): `Cache-Control: max-age` decides when keys are refreshed,
//! clamped to at least the cooldown; the 512 KiB body cap holds at its boundary; redirects
//! are followed only to addresses that may serve keys; a failed discovery is retried, and
//! keys that moved are found by discovering again. Against the fake provider of `fake_idp`.

mod common;
mod fake_idp;

use std::time::{Duration, Instant};

use actix_web::test::init_service;
use actix_web::{App, web};
use common::*;
use fake_idp::*;
use route_guard::{Jwks, JwtAuthenticator};
use serde_json::json;

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

/// An authenticator over `jwks` without the verified-token cache: every request reaches the
/// key set.
fn uncached(jwks: Jwks, issuer: &str) -> JwtAuthenticator {
    JwtAuthenticator::builder()
        .jwks(jwks.timeout(TIMEOUT))
        .issuer(issuer)
        .audience(AUDIENCE)
        .no_cache()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn started(mode: Mode) -> (web::Data<Provider>, String, actix_web::dev::ServerHandle) {
    let provider = web::Data::new(Provider::default());
    provider.set(mode, &["k1"]);
    let (addr, handle) = serve(&provider);
    (provider, format!("http://{addr}"), handle)
}

/// Requests with a known key until the provider has seen `hits` fetches; how long that took.
async fn until_hits<S, B>(app: &S, provider: &Provider, hits: u64) -> Duration
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let started = Instant::now();
    let token = token_of("k1");
    while provider.hits() < hits {
        let reply = call(app, get("/me").insert_header(bearer(&token))).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no fetch {hits} within 20 s"
        );
        pause(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

#[actix_web::test]
async fn a_max_age_longer_than_the_refresh_interval_keeps_the_keys_that_long() {
    for (cache_control, refreshed) in [(Some("public, max-age=3600"), false), (None, true)] {
        let (provider, base, handle) = started(Mode::Keys);
        provider.cache_control(cache_control);
        let jwks = Jwks::url(format!("{base}/jwks"))
            .cooldown(FAST)
            .refresh_interval(FAST);
        let app = app!(uncached(jwks, ISSUER));
        let token = token_of("k1");
        for _ in 0..3 {
            let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
            assert_eq!(reply.status, 200, "{cache_control:?}: {reply:?}");
            pause(FAST * 2).await; // past the refresh interval and the cooldown each time
        }
        // Without the header the interval applies and the stale keys were refreshed; with it
        // they were still fresh.
        assert_eq!(provider.hits() > 1, refreshed, "{cache_control:?}");
        handle.stop(false).await;
    }
}

#[actix_web::test]
async fn a_max_age_shorter_than_the_refresh_interval_refreshes_sooner() {
    let (provider, base, handle) = started(Mode::Keys);
    provider.cache_control(Some("max-age=1"));
    let jwks = Jwks::url(format!("{base}/jwks"))
        .cooldown(FAST)
        .refresh_interval(Duration::from_secs(3600));
    let app = app!(uncached(jwks, ISSUER));
    // The second fetch comes from max-age alone (the interval is an hour), and not before it.
    let took = until_hits(&app, &provider, 2).await;
    assert!(took >= Duration::from_secs(1), "refreshed after {took:?}");
    handle.stop(false).await;
}

#[actix_web::test]
async fn a_max_age_below_the_cooldown_refreshes_no_more_often_than_the_cooldown() {
    for cache_control in ["max-age=0", "no-cache"] {
        let (provider, base, handle) = started(Mode::Keys);
        provider.cache_control(Some(cache_control));
        let cooldown = Duration::from_secs(1);
        let jwks = Jwks::url(format!("{base}/jwks"))
            .cooldown(cooldown)
            .refresh_interval(Duration::from_secs(3600));
        let app = app!(uncached(jwks, ISSUER));
        // Keys that are never fresh are refreshed (the interval is an hour), but a fetch at
        // most once per cooldown: the third comes two cooldowns after the first at the earliest.
        let took = until_hits(&app, &provider, 3).await;
        assert!(
            took >= cooldown * 2,
            "{cache_control}: 3 fetches in {took:?}"
        );
        handle.stop(false).await;
    }
}

/// The 24-hour ceiling itself cannot be waited for here (the unit tests of `remote.rs` hold
/// it); what a client sees is that a lifetime beyond any clock is accepted, and that it does
/// not stop a rotated key from being fetched on demand.
#[actix_web::test]
async fn a_max_age_beyond_a_day_still_lets_a_new_kid_be_fetched() {
    let (provider, base, handle) = started(Mode::Keys);
    provider.cache_control(Some("max-age=18446744073709551615"));
    let app = app!(uncached(
        Jwks::url(format!("{base}/jwks")).cooldown(FAST),
        ISSUER
    ));
    let reply = call(&app, get("/me").insert_header(bearer(&token_of("k1")))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    provider.set(Mode::Keys, &["k2"]);
    pause(FAST * 2).await;
    let reply = call(&app, get("/me").insert_header(bearer(&token_of("k2")))).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "svc"),
        "{reply:?}"
    );
    assert_eq!(provider.hits(), 2);
    handle.stop(false).await;
}

#[actix_web::test]
async fn the_body_cap_admits_exactly_512_kib_and_not_one_byte_more() {
    const CAP: usize = 512 * 1024;
    let (provider, base, handle) = started(Mode::Keys);
    let token = token_of("k1");
    for streamed in [false, true] {
        for (bytes, admitted) in [(CAP, true), (CAP + 1, false)] {
            provider.set(Mode::Sized { bytes, streamed }, &["k1"]);
            // A new authenticator each time: its first fetch is the one under test.
            let app = app!(uncached(Jwks::url(format!("{base}/jwks")), ISSUER));
            let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
            if admitted {
                assert_eq!(
                    reply.status, 200,
                    "{bytes} bytes, streamed {streamed}: {reply:?}"
                );
            } else {
                reply.assert_problem(503, &token);
                assert_eq!(reply.challenge, None, "{reply:?}");
            }
        }
    }
    handle.stop(false).await;
}

#[actix_web::test]
async fn a_redirect_is_followed_only_to_an_address_that_may_serve_keys() {
    let (provider, base, handle) = started(Mode::Redirect);
    let port = base.rsplit(':').next().unwrap_or_default().to_owned();
    let token = token_of("k1");
    // 0.0.0.0 is no loopback address by the rule (plain http only to loopback), yet Linux
    // connects it to this machine: following it would reach /target and succeed, so the test
    // can fail, and a broken guard's request still never leaves the machine. Other schemes
    // are refused as well (reqwest would not fetch them either).
    for (location, followed) in [
        (format!("http://127.0.0.1:{port}/target"), true),
        (format!("http://0.0.0.0:{port}/target"), false),
        (format!("ftp://127.0.0.1:{port}/target"), false),
        ("file:///etc/passwd".to_owned(), false),
    ] {
        provider.redirect_to(&location);
        let before = provider.target_hits();
        let app = app!(uncached(Jwks::url(format!("{base}/jwks")), ISSUER));
        let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
        if followed {
            assert_eq!(reply.status, 200, "{location}: {reply:?}");
            assert_eq!(provider.target_hits(), before + 1, "{location}");
        } else {
            reply.assert_problem(503, &token);
            assert_eq!(provider.target_hits(), before, "{location} was followed");
        }
    }
    handle.stop(false).await;
}

/// A token of the fake provider's own issuer (its address), as discovery requires.
fn issued_by(issuer: &str, kid: &str) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    let claims = with(claims("svc", &[]), "iss", json!(issuer));
    sign(&header, &claims, &signing_key(kid))
}

#[actix_web::test]
async fn a_failed_discovery_is_tried_again_after_the_cooldown() {
    let (provider, base, handle) = started(Mode::Keys);
    provider.discovery_down(true);
    let jwt = uncached(Jwks::discover(&base).cooldown(FAST), &base);
    let app = app!(jwt);
    let token = issued_by(&base, "k1");
    let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
    reply.assert_problem(503, &token);
    assert_eq!(reply.challenge, None, "{reply:?}");
    assert_eq!((provider.discovery_hits(), provider.hits()), (1, 0));

    provider.discovery_down(false);
    pause(FAST * 2).await;
    let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "svc"),
        "{reply:?}"
    );
    assert_eq!((provider.discovery_hits(), provider.hits()), (2, 1));
    handle.stop(false).await;
}

#[actix_web::test]
async fn keys_the_provider_moved_are_found_by_discovering_again() {
    let (provider, base, handle) = started(Mode::Keys);
    let app = app!(uncached(Jwks::discover(&base).cooldown(FAST), &base));
    let (old, new) = (issued_by(&base, "k1"), issued_by(&base, "k2"));
    let reply = call(&app, get("/me").insert_header(bearer(&old))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(provider.discovery_hits(), 1);

    // The provider rotates to k2 and publishes it elsewhere; the old address answers 404.
    provider.set(Mode::Keys, &["k2"]);
    provider.move_keys("/keys-moved");
    pause(FAST * 2).await;
    // The fetch from the old address fails: the last good keys stay, k2 is unknown for now.
    call(&app, get("/me").insert_header(bearer(&new)))
        .await
        .assert_invalid_token("unknown key", &new);
    assert_eq!(provider.discovery_hits(), 1);
    // The next fetch discovers again and finds the keys where they are now.
    pause(FAST * 2).await;
    let reply = call(&app, get("/me").insert_header(bearer(&new))).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "svc"),
        "{reply:?}"
    );
    assert_eq!(provider.discovery_hits(), 2);
    call(&app, get("/me").insert_header(bearer(&old)))
        .await
        .assert_invalid_token("unknown key", &old);
    handle.stop(false).await;
}
