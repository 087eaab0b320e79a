//! A client flooding random `kid`s (issue 6): every one is refused 401 `invalid_token`, the
//! guard fetches the key set at most once per cooldown whatever the number of kids, and memory
//! does not grow. Alone in its test binary, so that resident memory is this test's alone.

mod common;
mod fake_idp;

use std::time::{Duration, Instant};

use actix_web::test::init_service;
use actix_web::{App, get, web};
use common::*;
use fake_idp::*;
use route_guard::{Authenticated, TokenProblem, require_auth};

#[get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> String {
    user.subject().to_owned()
}

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
    let jwt = authenticator(addr, cooldown);
    assert_eq!(jwt.load_keys().await.ok(), Some(1));
    let app = init_service(App::new().app_data(guard_with(jwt.clone())).service(me)).await;
    let token = token_of("k1");

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
                for reply in replies {
                    assert_eq!(reply.status, 401, "{reply:?}");
                    let challenge = reply.challenge.unwrap_or_default();
                    assert!(
                        challenge.contains(TokenProblem::UnknownKey.description()),
                        "{challenge}"
                    );
                }
            }
        }
    };
    flood(0..2_000).await; // warm-up: allocator pools, the runtime's buffers
    let rss_before = resident_kib();
    let hits_before = provider.hits();
    let started = Instant::now();
    flood(2_000..22_000).await;
    let elapsed = started.elapsed();
    let fetches = provider.hits() - hits_before;
    // At most one fetch per cooldown window, whatever the number of kids.
    let windows = elapsed.as_secs() / cooldown.as_secs() + 1;
    assert!(
        fetches <= windows,
        "{fetches} fetches in {elapsed:?} for 20000 invented kids"
    );
    // Nothing remembers refused kids: the key set is what the provider publishes.
    assert_eq!(jwt.load_keys().await.ok(), Some(1));
    if let (Some(before), Some(after)) = (rss_before, resident_kib()) {
        assert!(
            after < before + 8 * 1024,
            "resident memory grew from {before} KiB to {after} KiB"
        );
    }
    let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
    assert_eq!(reply.status, 200, "a real token after the flood: {reply:?}");
    handle.stop(false).await;
}
