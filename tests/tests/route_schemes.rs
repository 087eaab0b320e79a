//! Which schemes and issuers a route accepts, as a client sees it: an API with bearer tokens
//! from two issuers for its users and Basic for a metrics scraper. A route's rule names what it
//! takes (`scheme("scraper")`, `issuer("staff")`, `authenticated`); the guard asks only the
//! authenticators that can satisfy it, and its 401 challenges only those, so a browser on a
//! bearer-only route never sees a `Basic` challenge that would pop a login dialog.

mod common;

use actix_web::test::init_service;
use actix_web::web;
use actix_web::{App, HttpResponse, get};
use common::*;
use route_guard::{
    Argon2Users, Authenticated, BasicAuthenticator, GuardScope, Issuers, RouteGuard, hash_password,
    require, require_auth, rule,
};
use serde_json::json;

/// Users only: a bearer token from either issuer.
#[get("/me")]
#[require(scheme("bearer"))]
async fn me(user: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "subject": user.subject(),
        "scheme": user.scheme(),
        "issuer": user.issuer(),
    }))
}

/// The scraper only, and only with its role.
#[get("/metrics")]
#[require(all(scheme("scraper"), role("metrics")))]
async fn metrics() -> &'static str {
    "metrics"
}

/// The scraper, or any bearer token carrying the role `metrics`.
#[get("/status")]
#[require(any(scheme("scraper"), all(scheme("bearer"), role("metrics"))))]
async fn status() -> &'static str {
    "status"
}

/// Staff tokens only.
#[get("/staff")]
#[require(issuer("staff"))]
async fn staff(user: Authenticated) -> String {
    format!("staff {}", user.subject())
}

/// Any accepted login.
#[get("/anyone")]
#[require(authenticated)]
async fn anyone(user: Authenticated) -> String {
    format!("{} by {}", user.subject(), user.scheme().unwrap_or("?"))
}

/// A scheme the guard has no authenticator for: the server is misconfigured.
#[get("/kerberos")]
#[require(scheme("kerberos"))]
async fn kerberos() -> &'static str {
    "never"
}

/// No scheme named: every authenticator is asked.
#[get("/open")]
#[require_auth]
async fn open(user: Authenticated) -> String {
    format!("{} by {}", user.subject(), user.scheme().unwrap_or("?"))
}

fn guard() -> RouteGuard {
    let issuers = Issuers::builder()
        .jwt("staff", issuer_with_secret(STAFF))
        .jwt("partners", issuer_with_secret(PARTNERS))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let hash = hash_password("scrape scrape scrape").unwrap_or_else(|e| panic!("{e}"));
    let users = Argon2Users::new()
        .user("prometheus", &hash, ["metrics"])
        .unwrap_or_else(|e| panic!("{e}"));
    RouteGuard::builder(issuers)
        .or(BasicAuthenticator::new(users).unwrap_or_else(|e| panic!("{e}")))
        .named("scraper")
        .realm(REALM)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! app {
    () => {
        init_service(
            App::new()
                .app_data(guard())
                .service(me)
                .service(metrics)
                .service(status)
                .service(staff)
                .service(anyone)
                .service(kerberos)
                .service(open)
                .service(
                    web::scope("/internal")
                        .wrap(GuardScope::new(rule!(scheme("scraper"))))
                        .route("/dump", web::get().to(|| async { "dump" }))
                        .service(internal_me),
                ),
        )
        .await
    };
}

/// Inside the scraper-only scope, a route whose own guard names no scheme: the scope's
/// identity is the one it sees.
#[get("/me")]
#[require_auth]
async fn internal_me(user: Authenticated) -> String {
    format!("{} by {}", user.subject(), user.scheme().unwrap_or("?"))
}

const BEARER: &str = r#"Bearer realm="test""#;
const BASIC: &str = r#"Basic realm="test", charset="UTF-8""#;
const PASSWORD: &str = "scrape scrape scrape";

#[actix_web::test]
async fn a_bearer_only_route_challenges_bearer_only_and_never_asks_basic() {
    let app = app!();
    call_full(&app, get("/me"))
        .await
        .assert_refused(401, &[BEARER], "");
    // The scraper's good password is not even checked here: Basic is not a scheme of /me.
    let scraper = get("/me").insert_header(basic("prometheus", PASSWORD));
    call_full(&app, scraper)
        .await
        .assert_refused(401, &[BEARER], PASSWORD);
    let ann = issued_by(PARTNERS, "ann", &[]);
    let reply = call(&app, get("/me").insert_header(bearer(&ann))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.json(),
        json!({ "subject": "ann", "scheme": "bearer", "issuer": "partners" })
    );
}

#[actix_web::test]
async fn a_scraper_only_route_takes_basic_alone() {
    let app = app!();
    call_full(&app, get("/metrics"))
        .await
        .assert_refused(401, &[BASIC], "");
    // A token carrying the same role name does not pass for the scraper.
    let holder = issued_by(STAFF, "mallory", &["metrics"]);
    call_full(&app, get("/metrics").insert_header(bearer(&holder)))
        .await
        .assert_refused(401, &[BASIC], &holder);
    let scraper = get("/metrics").insert_header(basic("prometheus", PASSWORD));
    call(&app, scraper).await.assert_ok("metrics");
    let wrong = get("/metrics").insert_header(basic("prometheus", "guess"));
    call_full(&app, wrong)
        .await
        .assert_refused(401, &[BASIC], "guess");
}

#[actix_web::test]
async fn a_route_taking_either_scheme_challenges_both() {
    let app = app!();
    call_full(&app, get("/status"))
        .await
        .assert_refused(401, &[BEARER, BASIC], "");
    let scraper = get("/status").insert_header(basic("prometheus", PASSWORD));
    call(&app, scraper).await.assert_ok("status");
    let holder = issued_by(STAFF, "ann", &["metrics"]);
    call(&app, get("/status").insert_header(bearer(&holder)))
        .await
        .assert_ok("status");
    let without = issued_by(STAFF, "bob", &[]);
    call(&app, get("/status").insert_header(bearer(&without)))
        .await
        .assert_forbidden();
}

#[actix_web::test]
async fn an_issuer_rule_admits_that_issuers_tokens_only() {
    let app = app!();
    let ann = issued_by(STAFF, "ann", &[]);
    call(&app, get("/staff").insert_header(bearer(&ann)))
        .await
        .assert_ok("staff ann");
    let eve = issued_by(PARTNERS, "eve", &[]);
    call(&app, get("/staff").insert_header(bearer(&eve)))
        .await
        .assert_forbidden();
    // A Basic login has no issuer at all.
    let scraper = get("/staff").insert_header(basic("prometheus", PASSWORD));
    call(&app, scraper).await.assert_forbidden();
}

#[actix_web::test]
async fn authenticated_admits_any_accepted_login_and_says_how() {
    let app = app!();
    for path in ["/anyone", "/open"] {
        call_full(&app, get(path))
            .await
            .assert_refused(401, &[BEARER, BASIC], "");
        let ann = issued_by(STAFF, "ann", &[]);
        call(&app, get(path).insert_header(bearer(&ann)))
            .await
            .assert_ok("ann by bearer");
        let scraper = get(path).insert_header(basic("prometheus", PASSWORD));
        call(&app, scraper).await.assert_ok("prometheus by scraper");
    }
}

#[actix_web::test]
async fn a_scheme_no_authenticator_has_is_a_server_error() {
    let app = app!();
    let ann = issued_by(STAFF, "ann", &[]);
    let reply = call_full(&app, get("/kerberos").insert_header(bearer(&ann))).await;
    reply.assert_refused(500, &[], &ann);
}

#[actix_web::test]
async fn a_guarded_scope_names_its_scheme_too() {
    let app = app!();
    call_full(&app, get("/internal/dump"))
        .await
        .assert_refused(401, &[BASIC], "");
    let ann = issued_by(STAFF, "ann", &[]);
    call_full(&app, get("/internal/dump").insert_header(bearer(&ann)))
        .await
        .assert_refused(401, &[BASIC], &ann);
    let scraper = get("/internal/dump").insert_header(basic("prometheus", PASSWORD));
    call(&app, scraper).await.assert_ok("dump");
    // The route's own guard takes every scheme; it keeps the identity the scope accepted.
    let scraper = get("/internal/me").insert_header(basic("prometheus", PASSWORD));
    call(&app, scraper).await.assert_ok("prometheus by scraper");
    call_full(&app, get("/internal/me").insert_header(bearer(&ann)))
        .await
        .assert_refused(401, &[BASIC], &ann);
}

#[test]
fn two_authenticators_of_one_name_are_refused() {
    let basic = || {
        let hash = hash_password("x-password").unwrap_or_else(|e| panic!("{e}"));
        let users = Argon2Users::new()
            .user("u", &hash, ["r"])
            .unwrap_or_else(|e| panic!("{e}"));
        BasicAuthenticator::new(users).unwrap_or_else(|e| panic!("{e}"))
    };
    let refused = RouteGuard::builder(basic()).or(basic()).build().map(|_| ());
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains("two authenticators are named `basic`"),
        "{message}"
    );
    assert!(
        RouteGuard::builder(basic())
            .or(basic())
            .named("scraper")
            .build()
            .is_ok()
    );
}
