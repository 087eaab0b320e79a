//! Failed-login throttling on one instance (the in-memory default): 429 with `Retry-After`
//! before the password is checked, counted per user name and per client address as the trusted
//! proxies report it, and reported to the decision hook. Across instances through Redis:
//! `shared_state.rs`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, HttpResponse, get};
use common::*;
use route_guard::observe::Decision;
use route_guard::store::Lockout;
use route_guard::{Authenticated, RouteGuard, TrustedProxies, require, require_auth};

#[get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> HttpResponse {
    HttpResponse::Ok().body(user.subject().to_owned())
}

/// A route that does not exist for anyone it does not admit.
#[get("/hidden")]
#[require(authenticated, hide)]
async fn hidden() -> &'static str {
    "hidden"
}

const PASSWORD: &str = "a long ops password";

fn guard(reasons: Arc<Mutex<Vec<(String, String)>>>) -> RouteGuard {
    RouteGuard::builder(basic_users("ops", PASSWORD, &["ops"]))
        .realm(REALM)
        .trusted_proxies(TrustedProxies::new(["10.0.0.0/8"]).unwrap_or_else(|e| panic!("{e}")))
        .lockout(Lockout::after(2).within(Duration::from_secs(30)))
        .on_decision(move |decision: &Decision<'_>| {
            let mut seen = reasons.lock().unwrap_or_else(|e| e.into_inner());
            seen.push((decision.outcome().to_string(), decision.reason().to_owned()));
        })
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn app(
    guard: RouteGuard,
) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
    init_service(App::new().app_data(guard).service(me).service(hidden)).await
}

/// A login through the trusted proxy 10.0.0.1 for the client `client`.
fn via_proxy(client: &str, user: &str, password: &str) -> TestRequest {
    from_peer("10.0.0.1:443", "/me")
        .insert_header(("X-Forwarded-For", client))
        .insert_header(basic(user, password))
}

/// Lets the background count of a failure finish.
async fn settle() {
    actix_web::rt::time::sleep(Duration::from_millis(50)).await;
}

#[actix_web::test]
async fn a_user_name_is_locked_after_its_failures_whoever_sends_them() {
    let reasons = Arc::default();
    let app = app(guard(Arc::clone(&reasons))).await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        let wrong = call(&app, via_proxy(client, "ops", "wrong")).await;
        assert_eq!(wrong.status, 401, "{wrong:?}");
        settle().await;
    }
    let locked = call_full(&app, via_proxy("203.0.113.3", "ops", PASSWORD)).await;
    locked.assert_refused(429, &[], PASSWORD);
    let seconds: u64 = locked
        .retry_after
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!((1..=30).contains(&seconds), "{locked:?}");
    assert_eq!(
        locked.reply.json()["detail"],
        "Too many failed logins; retry later."
    );
    let seen = reasons.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(
        seen.last(),
        Some(&("throttled".to_owned(), "too_many_attempts".to_owned()))
    );
}

#[actix_web::test]
async fn an_unknown_user_is_locked_the_same_way() {
    let app = app(guard(Arc::default())).await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for (user, answers) in [("ops", &mut known), ("nobody", &mut unknown)] {
        for n in 0..3 {
            let reply = call_full(&app, via_proxy(&format!("198.51.100.{n}"), user, "wrong")).await;
            answers.push((reply.reply.status, reply.challenges, reply.reply.body));
            settle().await;
        }
    }
    assert_eq!(known, unknown);
    assert_eq!(
        known.iter().map(|a| a.0).collect::<Vec<_>>(),
        [401, 401, 429]
    );
}

#[actix_web::test]
async fn the_address_counted_is_the_client_behind_the_trusted_proxy() {
    let app = app(guard(Arc::default())).await;
    // Two clients behind the same proxy, each failing once under other names: neither locked.
    for (client, user) in [("192.0.2.1", "a"), ("192.0.2.2", "b")] {
        assert_eq!(call(&app, via_proxy(client, user, "x")).await.status, 401);
        settle().await;
    }
    call(&app, via_proxy("192.0.2.1", "ops", PASSWORD))
        .await
        .assert_ok("ops");
    // One client failing under two names is locked, whatever name it tries next.
    assert_eq!(
        call(&app, via_proxy("192.0.2.1", "c", "x")).await.status,
        401
    );
    settle().await;
    let locked = call(&app, via_proxy("192.0.2.1", "ops", PASSWORD)).await;
    assert_eq!(locked.status, 429, "{locked:?}");
    call(&app, via_proxy("192.0.2.2", "ops", PASSWORD))
        .await
        .assert_ok("ops");
}

#[actix_web::test]
async fn without_a_lockout_failures_are_only_refused() {
    let guard = RouteGuard::builder(basic_users("ops", PASSWORD, &["ops"]))
        .realm(REALM)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = app(guard).await;
    for _ in 0..5 {
        let wrong = call(
            &app,
            from_peer("192.0.2.9:1", "/me").insert_header(basic("ops", "x")),
        )
        .await;
        assert_eq!(wrong.status, 401);
        settle().await;
    }
    call(
        &app,
        from_peer("192.0.2.9:1", "/me").insert_header(basic("ops", PASSWORD)),
    )
    .await
    .assert_ok("ops");
}

#[actix_web::test]
async fn a_hidden_route_stays_404_when_its_caller_is_locked_out() {
    let app = app(guard(Arc::default())).await;
    for _ in 0..3 {
        let reply = call(
            &app,
            via_proxy("203.0.113.9", "ops", "wrong").uri("/hidden"),
        )
        .await;
        reply.assert_hidden();
        settle().await;
    }
    // Locked now: a 429 would tell the route exists; it answers as a missing route does.
    let locked = via_proxy("203.0.113.9", "ops", PASSWORD).uri("/hidden");
    call(&app, locked).await.assert_hidden();
    let unlocked = via_proxy("198.51.100.1", "someone", "x").uri("/me");
    assert_eq!(call(&app, unlocked).await.status, 401);
}
