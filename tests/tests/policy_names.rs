//! What a guard attribute's policy is called in decision events and metrics: its rule, in the
//! `#[require(..)]` grammar without quotes, the same for every handler with that rule and the
//! same whether the rule is spelled as a shared type or, lacking a spelling (a predicate, a
//! list over eight, a name over 64 bytes), kept on a marker type of the handler's own.

mod common;

use std::any::TypeId;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::test::init_service;
use actix_web::{App, HttpRequest, get};
use common::*;
use route_guard::observe::Decision;
use route_guard::{Identity, RouteGuard, require, require_ip, require_role};

#[get("/admin")]
#[require_role("admin")]
async fn admin() -> &'static str {
    "admin"
}

#[get("/admin-too")]
#[require(role("admin"))]
async fn admin_too() -> &'static str {
    "admin"
}

#[get("/mixed")]
#[require(all(scope("read"), not(role("banned")), acr("mfa", max_age = 300)))]
async fn mixed() -> &'static str {
    "mixed"
}

#[get("/eight")]
#[require_role(any("a", "b", "c", "d", "e", "f", "g", "h"))]
async fn eight() -> &'static str {
    "eight"
}

/// Nine alternatives: more than a type spells, so a marker of the handler's own.
#[get("/nine")]
#[require_role(any("a", "b", "c", "d", "e", "f", "g", "h", "i"))]
async fn nine() -> &'static str {
    "nine"
}

/// A 64-byte role name: the longest a type spells.
#[get("/sixty-four")]
#[require_role("a-role-name-of-sixty-four-bytes-the-longest-that-a-type-spells-x")]
async fn sixty_four() -> &'static str {
    "sixty-four"
}

/// A 65-byte role name: longer than a type spells.
#[get("/long")]
#[require_role("a-role-name-of-sixty-five-bytes-which-is-one-more-than-a-type-hol")]
async fn long() -> &'static str {
    "long"
}

#[allow(clippy::unused_async)]
async fn never(_: &Identity, _: &HttpRequest) -> bool {
    false
}

#[get("/predicate")]
#[require(policy(never))]
async fn predicate() -> &'static str {
    "predicate"
}

/// An IPv4-mapped IPv6 range reads as the IPv4 range it names.
#[get("/mapped")]
#[require_ip("::ffff:10.0.0.0/104", "2001:db8::/32")]
async fn mapped() -> &'static str {
    "mapped"
}

#[actix_web::test]
async fn policies_are_named_after_their_rule_however_it_is_kept() {
    let log: Arc<Mutex<Vec<(String, &'static str)>>> = Arc::default();
    let sink = log.clone();
    let guard = RouteGuard::builder(jwt_builder().build().unwrap_or_else(|e| panic!("{e}")))
        .on_decision(move |decision: &Decision<'_>| {
            let path = decision.request().path().to_owned();
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((path, decision.policy()));
        })
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(
        App::new()
            .app_data(guard)
            .service(admin)
            .service(admin_too)
            .service(mixed)
            .service(eight)
            .service(nine)
            .service(sixty_four)
            .service(long)
            .service(predicate)
            .service(mapped),
    )
    .await;
    let nobody = token("nobody", &[]);
    let expected = [
        ("/admin", "role(admin)"),
        ("/admin-too", "role(admin)"),
        (
            "/mixed",
            "all(scope(read), not(role(banned)), all(acr(mfa), max_age(300)))",
        ),
        (
            "/eight",
            "any(role(a), role(b), role(c), role(d), role(e), role(f), role(g), role(h))",
        ),
        (
            "/nine",
            "any(role(a), role(b), role(c), role(d), role(e), role(f), role(g), role(h), role(i))",
        ),
        (
            "/sixty-four",
            "role(a-role-name-of-sixty-four-bytes-the-longest-that-a-type-spells-x)",
        ),
        (
            "/long",
            "role(a-role-name-of-sixty-five-bytes-which-is-one-more-than-a-type-hol)",
        ),
        ("/predicate", "policy(never)"),
        ("/mapped", "ip(10.0.0.0/8, 2001:db8::/32)"),
    ];
    // Each refuses this caller (no roles, no scopes, no login context) or its address: 403.
    for (path, _) in expected {
        let reply = call(
            &app,
            from_peer("192.0.2.1:4000", path).insert_header(bearer(&nobody)),
        )
        .await;
        assert_eq!(reply.status, 403, "{path}");
    }
    let log = log.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let named: Vec<(&str, &str)> = log
        .iter()
        .map(|(path, policy)| (path.as_str(), *policy))
        .collect();
    assert_eq!(named, expected);
}

/// The extractor tuple actix-web builds for handler `F`: the guard's type, policy included.
fn extractors<F: actix_web::Handler<Args>, Args: 'static>(_: &F) -> TypeId {
    TypeId::of::<Args>()
}

#[require_role("admin")]
async fn first_admin() -> &'static str {
    "admin"
}

#[require(role("admin"))]
async fn second_admin() -> &'static str {
    "admin"
}

#[require_role("ops")]
async fn ops() -> &'static str {
    "ops"
}

#[require(policy(never))]
async fn first_predicate() -> &'static str {
    "predicate"
}

#[require(policy(never))]
async fn second_predicate() -> &'static str {
    "predicate"
}

#[test]
fn handlers_with_the_same_rule_share_one_guard_type() {
    assert_eq!(extractors(&first_admin), extractors(&second_admin));
    assert_ne!(extractors(&first_admin), extractors(&ops));
    // A predicate has no spelling as a type: each handler keeps a marker of its own.
    assert_ne!(extractors(&first_predicate), extractors(&second_predicate));
}
