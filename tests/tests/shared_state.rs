//! Many instances sharing revocations and replay checks through a real Redis server
//! (`common/redis_server.rs` installs and starts it): two guards, each with its own
//! `RedisStore`, as two instances behind a load balancer would have. Tokens are minted with
//! jsonwebtoken directly.

mod common;

use std::time::{Duration, Instant};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::init_service;
use actix_web::{App, HttpResponse, get};
use common::redis_server::RedisServer;
use common::*;
use route_guard::store::{Lockout, RedisStore, WhenStoreDown};
use route_guard::{Authenticated, RouteGuard, TokenCache, require_auth};
use serde_json::json;

#[get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> HttpResponse {
    HttpResponse::Ok().body(user.subject().to_owned())
}

/// How long a change may take to reach another instance before a test gives up: generous, for
/// a busy machine; the benchmark measures the real figure.
const PATIENCE: Duration = Duration::from_secs(10);

const REVOKED: &str = "The access token was revoked";

async fn store(server: &RedisServer, prefix: &str) -> RedisStore {
    RedisStore::builder(server.url())
        .prefix(prefix)
        .heartbeat(Duration::from_millis(200))
        .timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// One instance: a guard over `server` (verified tokens cached, as in production).
async fn instance(server: &RedisServer, prefix: &str, when_down: WhenStoreDown) -> RouteGuard {
    let jwt = jwt_builder()
        .cache(TokenCache::new(64))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    RouteGuard::builder(jwt)
        .realm(REALM)
        .shared_store(store(server, prefix).await)
        .when_store_down(when_down)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn app(
    guard: &RouteGuard,
) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
    init_service(App::new().app_data(guard.clone()).service(me)).await
}

/// Asks `app` for `/me` with `token` until `done` says yes, or panics after [`PATIENCE`].
async fn poll_until<S>(
    app: &S,
    token: &str,
    what: &str,
    done: impl Fn(&FullReply) -> bool,
) -> FullReply
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        let reply = call_full(app, get("/me").insert_header(bearer(token))).await;
        if done(&reply) {
            return reply;
        }
        assert!(Instant::now() < deadline, "{what}: still {reply:?}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

fn token_with(sub: &str, jti: &str, iat: i64) -> (String, i64) {
    let exp = now() + 600;
    let claims = json!({
        "sub": sub, "iss": ISSUER, "aud": AUDIENCE, "jti": jti, "iat": iat, "exp": exp,
    });
    (hs256(&claims), exp)
}

/// Until the instance's first load from Redis is done, it refuses tokens (fail closed).
async fn ready<S>(app: &S, token: &str)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    poll_until(app, token, "the instance never became ready", |r| {
        r.reply.status == 200
    })
    .await;
}

#[actix_web::test]
async fn a_token_revoked_on_one_instance_is_refused_on_the_other() {
    let server = RedisServer::start();
    let (a, b) = (
        instance(&server, "t1:", WhenStoreDown::default()).await,
        instance(&server, "t1:", WhenStoreDown::default()).await,
    );
    let (app_a, app_b) = (app(&a).await, app(&b).await);
    let (token, exp) = token_with("alice", "jti-1", now());
    let (other, _) = token_with("alice", "jti-2", now());
    ready(&app_a, &token).await;
    // B has verified and cached the token before the revocation.
    ready(&app_b, &token).await;
    a.revocations()
        .revoke(ISSUER, "jti-1", u64::try_from(exp).unwrap_or(0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // At once on A, soon on B, the cache notwithstanding.
    let on_a = call(&app_a, get("/me").insert_header(bearer(&token))).await;
    on_a.assert_invalid_token(REVOKED, &token);
    let on_b = poll_until(&app_b, &token, "B never refused", |r| r.reply.status == 401).await;
    on_b.reply.assert_invalid_token(REVOKED, &token);
    // The same subject's other token, and the same jti from another issuer, pass.
    call(&app_b, get("/me").insert_header(bearer(&other)))
        .await
        .assert_ok("alice");
    // Nothing in Redis holds the token, the jti or the subject; every key has the prefix.
    let keys = server.cli(&["--scan"]);
    assert!(keys.lines().all(|k| k.starts_with("t1:")), "{keys}");
    let members = server.cli(&["ZRANGE", "t1:revoked-tokens", "0", "-1"]);
    assert_eq!(members.trim().len(), 64, "one digest: {members}");
    assert!(!members.contains("jti-1") && !members.contains(&token));
}

#[actix_web::test]
async fn a_subject_logged_out_everywhere_is_refused_on_every_instance_until_a_new_login() {
    let server = RedisServer::start();
    let (a, b) = (
        instance(&server, "t2:", WhenStoreDown::default()).await,
        instance(&server, "t2:", WhenStoreDown::default()).await,
    );
    let (app_a, app_b) = (app(&a).await, app(&b).await);
    let (first, _) = token_with("bob", "one", now() - 5);
    let (second, _) = token_with("bob", "two", now() - 3);
    let (carol, _) = token_with("carol", "three", now() - 5);
    ready(&app_a, &first).await;
    ready(&app_b, &second).await;
    a.revocations()
        .revoke_subject(ISSUER, "bob", u64::try_from(now()).unwrap_or(0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for token in [&first, &second] {
        let refused = poll_until(&app_b, token, "B never refused", |r| r.reply.status == 401).await;
        refused.reply.assert_invalid_token(REVOKED, token);
    }
    call(&app_b, get("/me").insert_header(bearer(&carol)))
        .await
        .assert_ok("carol");
    // A login after the logout is let in.
    let (fresh, _) = token_with("bob", "four", now() + 1);
    call(&app_b, get("/me").insert_header(bearer(&fresh)))
        .await
        .assert_ok("bob");
}

#[actix_web::test]
async fn an_instance_started_later_loads_what_was_revoked_before() {
    let server = RedisServer::start();
    let a = instance(&server, "t3:", WhenStoreDown::default()).await;
    let (token, exp) = token_with("dora", "late", now());
    a.revocations()
        .revoke(ISSUER, "late", u64::try_from(exp).unwrap_or(0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let c = instance(&server, "t3:", WhenStoreDown::default()).await;
    let app_c = app(&c).await;
    // Fail closed until loaded, then refused as revoked: never 200.
    let reply = poll_until(&app_c, &token, "C never loaded", |r| r.reply.status != 503).await;
    reply.reply.assert_invalid_token(REVOKED, &token);
    // Another prefix is another application: not revoked there.
    let other = instance(&server, "other-app:", WhenStoreDown::default()).await;
    ready(&app(&other).await, &token).await;
}

#[actix_web::test]
async fn a_proof_replayed_to_another_instance_is_refused() {
    let server = RedisServer::start();
    let (a, b) = (
        instance(&server, "t4:", WhenStoreDown::default()).await,
        instance(&server, "t4:", WhenStoreDown::default()).await,
    );
    let window = Duration::from_millis(500);
    let first = |guard: &RouteGuard, id: &'static str| {
        let replays = guard.replays();
        async move { replays.first_use("key-thumbprint", id, window).await }
    };
    assert_eq!(first(&a, "proof-1").await, Ok(true));
    assert_eq!(first(&b, "proof-1").await, Ok(false), "replayed on B");
    assert_eq!(first(&a, "proof-1").await, Ok(false), "replayed on A");
    assert_eq!(first(&b, "proof-2").await, Ok(true));
    let keys = server.cli(&["--scan", "--pattern", "t4:replay:*"]);
    assert!(
        !keys.contains("proof") && keys.lines().count() == 2,
        "{keys}"
    );
    // After the window, the identifier is forgotten.
    actix_web::rt::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(first(&b, "proof-1").await, Ok(true));
}

#[actix_web::test]
async fn redis_killed_fails_closed_with_503_and_the_guard_recovers_by_itself() {
    let mut server = RedisServer::start();
    let (a, b) = (
        instance(&server, "t5:", WhenStoreDown::default()).await,
        instance(&server, "t5:", WhenStoreDown::default()).await,
    );
    let lenient = instance(&server, "t5:", WhenStoreDown::UseLastKnown).await;
    let (app_a, app_b, app_l) = (app(&a).await, app(&b).await, app(&lenient).await);
    let (token, exp) = token_with("erin", "before", now());
    let (good, _) = token_with("erin", "good", now());
    ready(&app_a, &token).await;
    ready(&app_b, &token).await;
    ready(&app_l, &token).await;
    a.revocations()
        .revoke(ISSUER, "before", u64::try_from(exp).unwrap_or(0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    poll_until(&app_b, &token, "B never refused", |r| r.reply.status == 401).await;
    poll_until(&app_l, &token, "L never refused", |r| r.reply.status == 401).await;

    server.kill();
    let down = poll_until(&app_b, &good, "B never noticed", |r| r.reply.status == 503).await;
    down.assert_refused(503, &[], &good);
    assert_eq!(down.retry_after.as_deref(), Some("5"));
    // The lenient instance keeps answering from what it knows.
    call(&app_l, get("/me").insert_header(bearer(&good)))
        .await
        .assert_ok("erin");
    call(&app_l, get("/me").insert_header(bearer(&token)))
        .await
        .assert_invalid_token(REVOKED, &token);
    // A revocation while down is refused here, and reported as not shared.
    let (during, during_exp) = token_with("erin", "during", now());
    let revoked = a
        .revocations()
        .revoke(ISSUER, "during", u64::try_from(during_exp).unwrap_or(0))
        .await;
    assert!(revoked.is_err(), "{revoked:?}");

    server.restart();
    // Back by itself; what was revoked before the restart stays revoked (the view keeps it,
    // though the restarted server, without persistence, lost it).
    poll_until(&app_b, &good, "B never recovered", |r| {
        r.reply.status == 200
    })
    .await;
    call(&app_b, get("/me").insert_header(bearer(&token)))
        .await
        .assert_invalid_token(REVOKED, &token);
    ready(&app_a, &good).await;
    call(&app_a, get("/me").insert_header(bearer(&during)))
        .await
        .assert_invalid_token(REVOKED, &during);
    // And revocations propagate again.
    a.revocations()
        .revoke(ISSUER, "good", u64::try_from(exp).unwrap_or(0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    poll_until(&app_b, &good, "B never refused after recovery", |r| {
        r.reply.status == 401
    })
    .await;
}

#[actix_web::test]
async fn an_idle_subscription_survives_its_heartbeats() {
    let server = RedisServer::start();
    let b = instance(&server, "t8:", WhenStoreDown::default()).await;
    let app_b = app(&b).await;
    let (token, _) = token_with("hal", "h", now());
    ready(&app_b, &token).await;
    // Some ten heartbeats (200 ms) of silence, each answered by a ping.
    actix_web::rt::time::sleep(Duration::from_millis(2100)).await;
    let clients = server.cli(&["CLIENT", "LIST"]);
    let subscriber = clients
        .lines()
        .find(|line| line.contains("sub=1"))
        .unwrap_or_else(|| panic!("no subscriber: {clients}"));
    let age: u64 = subscriber
        .split(' ')
        .find_map(|field| field.strip_prefix("age="))
        .and_then(|age| age.parse().ok())
        .unwrap_or(0);
    assert!(age >= 2, "the subscription was not kept: {subscriber}");
    call(&app_b, get("/me").insert_header(bearer(&token)))
        .await
        .assert_ok("hal");
}

#[actix_web::test]
async fn a_guard_dropped_closes_its_subscription() {
    let server = RedisServer::start();
    let subscribers = || {
        let clients = server.cli(&["CLIENT", "LIST"]);
        clients
            .lines()
            .filter(|line| line.contains("sub=1"))
            .count()
    };
    let guard = instance(&server, "t12:", WhenStoreDown::default()).await;
    let deadline = Instant::now() + PATIENCE;
    while subscribers() != 1 {
        assert!(Instant::now() < deadline, "never subscribed");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    drop(guard);
    while subscribers() != 0 {
        assert!(
            Instant::now() < deadline,
            "the subscription outlived its guard"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn a_server_that_stops_answering_fails_closed_until_it_answers_again() {
    let server = RedisServer::start();
    let b = instance(&server, "t6:", WhenStoreDown::default()).await;
    let app_b = app(&b).await;
    let (token, _) = token_with("fay", "f", now());
    ready(&app_b, &token).await;
    server.pause(true);
    let down = poll_until(&app_b, &token, "never noticed", |r| r.reply.status == 503).await;
    assert_eq!(down.retry_after.as_deref(), Some("5"));
    server.pause(false);
    ready(&app_b, &token).await;
}

#[actix_web::test]
async fn garbage_on_the_channel_is_ignored_and_revocations_still_arrive() {
    let server = RedisServer::start();
    let (a, b) = (
        instance(&server, "t7:", WhenStoreDown::default()).await,
        instance(&server, "t7:", WhenStoreDown::default()).await,
    );
    let app_b = app(&b).await;
    let (token, exp) = token_with("gus", "g", now());
    ready(&app_b, &token).await;
    for garbage in ["", "t", "t zz 1", "s 00 x", &"\u{ff}".repeat(10_000)] {
        server.cli(&["PUBLISH", "t7:revocations", garbage]);
    }
    server.cli(&["ZADD", "t7:revoked-tokens", "99999999999", "not-a-digest"]);
    call(&app_b, get("/me").insert_header(bearer(&token)))
        .await
        .assert_ok("gus");
    a.revocations()
        .revoke(ISSUER, "g", u64::try_from(exp).unwrap_or(0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    poll_until(&app_b, &token, "B never refused", |r| r.reply.status == 401).await;
}

#[actix_web::test]
async fn a_store_that_cannot_connect_is_a_configuration_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let down = RedisStore::builder(format!("redis://127.0.0.1:{closed}/"))
        .timeout(Duration::from_millis(300))
        .connect()
        .await;
    assert!(down.is_err());
    let bad = RedisStore::builder("http://not-redis").connect().await;
    assert!(bad.is_err());
}

#[actix_web::test]
async fn a_server_that_speaks_garbage_is_refused_without_hanging() {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 512];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n\x00\xff garbage");
        }
    });
    let started = Instant::now();
    let garbage = RedisStore::builder(format!("redis://127.0.0.1:{port}/"))
        .timeout(Duration::from_millis(300))
        .connect()
        .await;
    assert!(garbage.is_err());
    assert!(started.elapsed() < PATIENCE, "took {:?}", started.elapsed());
}

/// An instance taking Basic logins (`ops` / `a long ops password`) and API keys, locking a
/// user name or an address after three failures in a minute.
async fn login_instance(server: &RedisServer, prefix: &str) -> RouteGuard {
    let keys = route_guard::ApiKeyAuthenticator::builder()
        .key(
            "a long random key for the nightly export job",
            "export",
            ["exporter"],
        )
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    RouteGuard::builder(basic_users("ops", "a long ops password", &["ops"]))
        .or(keys)
        .realm(REALM)
        .shared_store(store(server, prefix).await)
        .lockout(Lockout::after(3).within(Duration::from_secs(60)))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn login(user: &str, password: &str, peer: &str) -> actix_web::test::TestRequest {
    from_peer(peer, "/me").insert_header(basic(user, password))
}

const BASIC: &str = r#"Basic realm="test", charset="UTF-8""#;

#[actix_web::test]
async fn failed_logins_are_counted_across_instances_and_lock_known_and_unknown_users_alike() {
    let server = RedisServer::start();
    let (a, b) = (
        login_instance(&server, "t9:").await,
        login_instance(&server, "t9:").await,
    );
    let (app_a, app_b) = (app(&a).await, app(&b).await);
    let ok = call(&app_a, login("ops", "a long ops password", "10.0.0.1:1")).await;
    ok.assert_ok("ops");
    // Three failures for `ops` and three for `ghost` (who does not exist), spread over both
    // instances and over addresses, so that only the user names reach the limit.
    for (n, app) in [&app_a, &app_b, &app_a].into_iter().enumerate() {
        for user in ["ops", "ghost"] {
            let peer = format!("10.0.1.{n}:1");
            let wrong = call_full(app, login(user, "wrong password", &peer)).await;
            assert_eq!(wrong.reply.status, 401, "{wrong:?}");
            assert_eq!(wrong.challenges.first().map(String::as_str), Some(BASIC));
        }
    }
    // Now refused before the password is checked, on both instances, the right one included,
    // the same for both users.
    let mut answers = Vec::new();
    for (app, user, password) in [
        (&app_b, "ops", "a long ops password"),
        (&app_a, "ops", "a long ops password"),
        (&app_b, "ghost", "anything"),
    ] {
        let locked = poll_login(app, || login(user, password, "10.0.2.1:1")).await;
        locked.assert_refused(429, &[], password);
        let seconds: u64 = locked
            .retry_after
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        assert!((1..=60).contains(&seconds), "{locked:?}");
        answers.push((
            locked.reply.status,
            locked.challenges.clone(),
            locked.reply.body.clone(),
        ));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    // Nothing in Redis names the users.
    let keys = keys_of(&server, "t9:");
    assert!(
        keys.iter()
            .all(|k| !k.contains("ops") && !k.contains("ghost")),
        "{keys:?}"
    );
}

#[actix_web::test]
async fn failures_from_one_address_lock_that_address_for_every_name_and_api_keys() {
    let server = RedisServer::start();
    let (a, b) = (
        login_instance(&server, "t10:").await,
        login_instance(&server, "t10:").await,
    );
    let (app_a, app_b) = (app(&a).await, app(&b).await);
    for (user, app) in [("u1", &app_a), ("u2", &app_b), ("u3", &app_a)] {
        let wrong = call(app, login(user, "wrong", "192.0.2.7:1")).await;
        assert_eq!(wrong.status, 401, "{wrong:?}");
    }
    let locked = poll_login(&app_b, || {
        login("ops", "a long ops password", "192.0.2.7:9")
    })
    .await;
    assert_eq!(locked.reply.status, 429);
    let key = from_peer("192.0.2.7:9", "/me")
        .insert_header(("X-API-Key", "a long random key for the nightly export job"));
    let by_key = call_full(&app_a, key).await;
    assert_eq!(
        (by_key.reply.status, by_key.retry_after.is_some()),
        (429, true)
    );
    // Elsewhere, the same user logs in.
    call(&app_a, login("ops", "a long ops password", "192.0.2.8:1"))
        .await
        .assert_ok("ops");
    // Redis names neither the users nor the address.
    let mut seen = keys_of(&server, "t10:");
    seen.push(server.cli(&["ZRANGE", "t10:locks", "0", "-1"]));
    assert!(
        seen.iter()
            .all(|k| !k.contains("192.0.2.7") && !k.contains("u1") && !k.contains("ops")),
        "{seen:?}"
    );
}

#[actix_web::test]
async fn with_redis_down_known_locks_hold_and_logins_are_not_refused() {
    let mut server = RedisServer::start();
    let a = login_instance(&server, "t11:").await;
    let app_a = app(&a).await;
    for _ in 0..3 {
        call(&app_a, login("ghost", "wrong", "198.51.100.1:1")).await;
    }
    poll_login(&app_a, || login("ghost", "x", "198.51.100.2:1")).await;
    server.kill();
    // Let the instance notice.
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    let still = call_full(&app_a, login("ghost", "x", "198.51.100.2:1")).await;
    assert_eq!(still.reply.status, 429, "{still:?}");
    // Basic logins do not depend on the store: no 503.
    call(
        &app_a,
        login("ops", "a long ops password", "198.51.100.3:1"),
    )
    .await
    .assert_ok("ops");
    let wrong = call(&app_a, login("ops", "wrong", "198.51.100.3:1")).await;
    assert_eq!(wrong.status, 401);
    let key = from_peer("198.51.100.4:1", "/me")
        .insert_header(("X-API-Key", "a long random key for the nightly export job"));
    call(&app_a, key).await.assert_ok("export");
}

/// The answer to `make()`'s request once it is 429, within [`PATIENCE`].
async fn poll_login<S>(app: &S, make: impl Fn() -> actix_web::test::TestRequest) -> FullReply
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        let reply = call_full(app, make()).await;
        if reply.reply.status == 429 {
            return reply;
        }
        assert!(Instant::now() < deadline, "never locked: {reply:?}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

fn keys_of(server: &RedisServer, prefix: &str) -> Vec<String> {
    let keys = server.cli(&["--scan", "--pattern", &format!("{prefix}*")]);
    keys.lines().map(str::to_owned).collect()
}
