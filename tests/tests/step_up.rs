//! Step-up authentication (RFC 9470), as a client sees it: a route that needs a stronger or a
//! more recent login than the one behind the token answers 401 with
//! `error="insufficient_user_authentication"` and the `acr_values` and `max_age` to ask the
//! authorization server for; a token whose login meets them passes. Tokens are signed by the
//! `jsonwebtoken` crate, not by route-guard.

mod common;

use actix_web::test::init_service;
use actix_web::{App, get, web};
use common::*;
use route_guard::{GuardScope, require, require_role, rule};
use serde_json::json;

#[get("/transfer")]
#[require(acr("mfa"))]
async fn transfer() -> &'static str {
    "transferred"
}

#[get("/password")]
#[require(acr("mfa", max_age = 300))]
async fn password() -> &'static str {
    "changed"
}

#[get("/recent")]
#[require(max_age(60))]
async fn recent() -> &'static str {
    "recent"
}

/// Admins with a strong login, or anyone from the hardware-key context.
#[get("/vault")]
#[require(any(all(role("admin"), acr("mfa")), acr("hwk")))]
async fn vault() -> &'static str {
    "vault"
}

/// A role and a step-up on separate guards: the role is checked first.
#[get("/audit")]
#[require_role("auditor")]
#[require(acr("mfa"))]
async fn audit() -> &'static str {
    "audit"
}

/// Hidden: a missing step-up is not announced either.
#[get("/hidden")]
#[require(acr("mfa"), hide)]
async fn hidden() -> &'static str {
    "hidden"
}

/// Never a stronger login: `not(acr(..))` asks nothing of the client.
#[get("/weak")]
#[require(not(acr("mfa")))]
async fn weak() -> &'static str {
    "weak"
}

macro_rules! app {
    () => {
        init_service(
            App::new()
                .app_data(guard())
                .service(transfer)
                .service(password)
                .service(recent)
                .service(vault)
                .service(audit)
                .service(hidden)
                .service(weak)
                .service(
                    web::scope("/admin")
                        .wrap(GuardScope::new(rule!(acr("mfa", max_age = 600))))
                        .route("/panel", web::get().to(|| async { "panel" })),
                ),
        )
        .await
    };
}

/// A token of `sub` holding `roles` for a login with context `acr` made `age` seconds ago.
fn login(roles: &[&str], acr: Option<&str>, age: Option<i64>) -> String {
    let mut claims = claims("ann", roles);
    if let Some(acr) = acr {
        claims = with(claims, "acr", json!(acr));
    }
    if let Some(age) = age {
        claims = with(claims, "auth_time", json!(now() - age));
    }
    hs256(&claims)
}

fn step_up(acr_values: Option<&str>, max_age: Option<u32>) -> String {
    let mut challenge = format!(
        r#"Bearer realm="{REALM}", error="insufficient_user_authentication", error_description="A stronger or more recent authentication is required""#
    );
    if let Some(acr) = acr_values {
        challenge.push_str(&format!(r#", acr_values="{acr}""#));
    }
    if let Some(max_age) = max_age {
        challenge.push_str(&format!(r#", max_age="{max_age}""#));
    }
    challenge
}

#[actix_web::test]
async fn a_login_without_the_context_is_asked_to_step_up() {
    let app = app!();
    let pwd = login(&[], Some("pwd"), Some(10));
    call_full(&app, get("/transfer").insert_header(bearer(&pwd)))
        .await
        .assert_refused(401, &[&step_up(Some("mfa"), None)], &pwd);
    let none = login(&[], None, None);
    call_full(&app, get("/transfer").insert_header(bearer(&none)))
        .await
        .assert_refused(401, &[&step_up(Some("mfa"), None)], &none);
    let strong = login(&[], Some("mfa"), Some(10));
    call(&app, get("/transfer").insert_header(bearer(&strong)))
        .await
        .assert_ok("transferred");
    // Anything but the exact string: a list, a number, another case.
    for odd in [json!(["mfa"]), json!(1), json!("MFA")] {
        let token = hs256(&with(claims("ann", &[]), "acr", odd));
        let reply = call_full(&app, get("/transfer").insert_header(bearer(&token))).await;
        assert_eq!(reply.reply.status, 401, "{reply:?}");
    }
}

#[actix_web::test]
async fn a_login_too_old_is_asked_for_a_fresh_one() {
    let app = app!();
    let old = login(&[], Some("mfa"), Some(3600));
    call_full(&app, get("/password").insert_header(bearer(&old)))
        .await
        .assert_refused(401, &[&step_up(Some("mfa"), Some(300))], &old);
    let fresh = login(&[], Some("mfa"), Some(30));
    call(&app, get("/password").insert_header(bearer(&fresh)))
        .await
        .assert_ok("changed");
    // No `auth_time`, or one that is no NumericDate, is no recent login.
    let unknown = login(&[], Some("mfa"), None);
    call_full(&app, get("/password").insert_header(bearer(&unknown)))
        .await
        .assert_refused(401, &[&step_up(Some("mfa"), Some(300))], &unknown);
    let text = hs256(&with(
        with(claims("ann", &[]), "acr", json!("mfa")),
        "auth_time",
        json!("yesterday"),
    ));
    call_full(&app, get("/password").insert_header(bearer(&text)))
        .await
        .assert_refused(401, &[&step_up(Some("mfa"), Some(300))], &text);
    // max_age alone names no context.
    let stale = login(&[], None, Some(120));
    call_full(&app, get("/recent").insert_header(bearer(&stale)))
        .await
        .assert_refused(401, &[&step_up(None, Some(60))], &stale);
    let now = login(&[], None, Some(0));
    call(&app, get("/recent").insert_header(bearer(&now)))
        .await
        .assert_ok("recent");
}

#[actix_web::test]
async fn alternatives_name_every_context_and_other_refusals_come_first() {
    let app = app!();
    // Neither an admin nor a hardware key: a new login could pass (through `hwk`), so it is a
    // step-up, and the challenge names every context the rule asks for.
    let pwd = login(&[], Some("pwd"), Some(5));
    call_full(&app, get("/vault").insert_header(bearer(&pwd)))
        .await
        .assert_refused(401, &[&step_up(Some("mfa hwk"), None)], &pwd);
    let admin = login(&["admin"], Some("mfa"), Some(5));
    call(&app, get("/vault").insert_header(bearer(&admin)))
        .await
        .assert_ok("vault");
    // A role the caller lacks is a 403, whatever a new login could bring.
    call(&app, get("/audit").insert_header(bearer(&pwd)))
        .await
        .assert_forbidden();
    let auditor = login(&["auditor"], Some("pwd"), Some(5));
    call_full(&app, get("/audit").insert_header(bearer(&auditor)))
        .await
        .assert_refused(401, &[&step_up(Some("mfa"), None)], &auditor);
}

#[actix_web::test]
async fn hidden_and_negated_contexts_ask_for_nothing() {
    let app = app!();
    let pwd = login(&[], Some("pwd"), Some(5));
    call(&app, get("/hidden").insert_header(bearer(&pwd)))
        .await
        .assert_hidden();
    let strong = login(&[], Some("mfa"), Some(5));
    call(&app, get("/weak").insert_header(bearer(&strong)))
        .await
        .assert_forbidden();
    call(&app, get("/weak").insert_header(bearer(&pwd)))
        .await
        .assert_ok("weak");
}

#[actix_web::test]
async fn a_guarded_scope_asks_for_its_step_up() {
    let app = app!();
    let old = login(&[], Some("mfa"), Some(3600));
    call_full(&app, get("/admin/panel").insert_header(bearer(&old)))
        .await
        .assert_refused(401, &[&step_up(Some("mfa"), Some(600))], &old);
    let fresh = login(&[], Some("mfa"), Some(10));
    call(&app, get("/admin/panel").insert_header(bearer(&fresh)))
        .await
        .assert_ok("panel");
}

#[actix_web::test]
async fn a_password_login_that_falls_short_is_forbidden_not_asked_to_step_up() {
    // A password cannot be stepped up at an authorization server: 403, as any rule refuses.
    let guard =
        route_guard::RouteGuard::builder(jwt_builder().build().unwrap_or_else(|e| panic!("{e}")))
            .or(basic_users("ops", "a long ops password", &[]))
            .realm(REALM)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard).service(transfer).service(recent)).await;
    for path in ["/transfer", "/recent"] {
        let ops = get(path).insert_header(basic("ops", "a long ops password"));
        call(&app, ops).await.assert_forbidden();
    }
    // A token still is, in the scheme that accepted it alone.
    let pwd = login(&[], Some("pwd"), Some(10));
    call_full(&app, get("/transfer").insert_header(bearer(&pwd)))
        .await
        .assert_refused(401, &[&step_up(Some("mfa"), None)], &pwd);
}
