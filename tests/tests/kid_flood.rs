//! A client flooding random `kid`s (issue 6): every one is refused 401 `invalid_token`, the
//! guard fetches the key set at most once per cooldown whatever the number of kids, memory
//! does not grow, and nothing about the refused kids is remembered. Asserted as a client and
//! the provider see it (replies, requests at the provider), never through `load_keys()`, which
//! fetches afresh and would hide what the guard remembered. Alone in its test binary, so that resident memory is this test's alone.

mod common;
mod fake_idp;

use std::time::{Duration, Instant};

use actix_web::test::init_service;
use actix_web::{App, web};
use common::*;
use fake_idp::*;
use route_guard::{Jwks, JwtAuthenticator, TokenProblem};

/// Resident memory of this process, from `/proc/self/status` (Linux), in KiB.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[actix_web::test]
async fn a_flood_of_random_kids_causes_a_handful_of_fetches_and_no_growth() {
    let provider = web::Data::new(Provider::default());
    provider.set(Mode::Keys, &["k1"]);
    let (addr, handle) = serve(&provider);
    let cooldown = Duration::from_secs(2);
    // Keys that never go stale: every fetch below is one the invented kids asked for.
    let jwt = JwtAuthenticator::builder()
        .jwks(
            Jwks::url(format!("http://{addr}/jwks"))
                .cooldown(cooldown)
                .refresh_interval(Duration::from_secs(3600))
                .timeout(TIMEOUT),
        )
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .no_cache()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(
        App::new()
            .app_data(guard_with(jwt))
            .configure(subject_route),
    )
    .await;
    let token = token_of("k1");
    let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
    assert_eq!(reply.status, 200, "the first fetch: {reply:?}");

    let flood = |range: std::ops::Range<usize>| {
        let app = &app;
        async move {
            for chunk in range.collect::<Vec<_>>().chunks(200) {
                let replies = futures_util::future::join_all(
                    chunk
                        .iter()
                        .map(|&i| call(app, get("/me").insert_header(bearer(&invented(i))))),
                )
                .await;
                for (reply, &i) in replies.iter().zip(chunk) {
                    reply.assert_invalid_token(TokenProblem::UnknownKey.description(), "");
                    assert!(!reply.body.contains(&format!("invented-{i}")), "{reply:?}");
                }
            }
        }
    };
    flood(0..2_000).await; // warm-up: allocator pools, the runtime's buffers
    let rss_before = resident_kib();
    // Past the cooldown, so that the flood's first kid may fetch whatever its speed.
    pause(cooldown + FAST).await;
    // Measured before the hits: a fetch started just before is counted, and its window too.
    let started = Instant::now();
    let hits_before = provider.hits();
    flood(2_000..22_000).await;
    let elapsed = started.elapsed();
    let fetches = provider.hits() - hits_before;
    // At most one fetch per cooldown window, whatever the number of kids; and some, or the
    // flood never reached the key set.
    let windows = (elapsed.as_secs_f64() / cooldown.as_secs_f64()).floor() as u64 + 1;
    assert!(
        (1..=windows).contains(&fetches),
        "{fetches} fetches in {elapsed:?} for 20000 invented kids"
    );
    if let (Some(before), Some(after)) = (rss_before, resident_kib()) {
        assert!(
            after < before + 8 * 1024,
            "resident memory grew from {before} KiB to {after} KiB"
        );
    }

    // Nothing remembers refused kids, as a client sees it: past the cooldown, a kid from the
    // flood is still unknown, and asking for it again reaches the provider (it was not noted
    // as known-bad either); the real token still works.
    pause(cooldown + FAST).await;
    let hits = provider.hits();
    let again = invented(2_000);
    call(&app, get("/me").insert_header(bearer(&again)))
        .await
        .assert_invalid_token(TokenProblem::UnknownKey.description(), &again);
    assert_eq!(
        provider.hits(),
        hits + 1,
        "the flooded kid was not fetched for"
    );
    let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "svc"),
        "a real token after the flood: {reply:?}"
    );
    handle.stop(false).await;
}
