//! The scopes an `insufficient_scope` challenge asks for (issue 12): only those a rule requires
//! a token to hold. A scope under `not(..)` is one the token must lack; asking a client for it
//! would send it after a token that can never pass.

mod common;

use actix_web::test::init_service;
use actix_web::{App, get};
use common::*;
use route_guard::{require, require_scope};
use serde_json::json;

#[get("/reports")]
#[require_scope(all("read", not("admin")))]
async fn reports() -> &'static str {
    "reports"
}

#[get("/audit")]
#[require(all(scope("audit"), not(all(scope("export"), not(scope("signed"))))))]
async fn audit() -> &'static str {
    "audit"
}

fn with_scope(scope: &str) -> String {
    hs256(&with(claims("u", &[]), "scope", json!(scope)))
}

const CHALLENGE: &str = r#"Bearer realm="test", error="insufficient_scope", error_description="The access token lacks a required scope", scope=""#;

#[actix_web::test]
async fn a_scope_under_not_is_never_asked_for() {
    let app = init_service(App::new().app_data(guard()).service(reports).service(audit)).await;
    let reply = call(
        &app,
        get("/reports").insert_header(bearer(&with_scope("read"))),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "reports"));

    // Holding both, and holding only the forbidden one: the challenge names "read" alone,
    // which a token with exactly that scope satisfies.
    for held in ["read admin", "admin"] {
        let token = with_scope(held);
        let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
        reply.assert_problem(403, &token);
        assert_eq!(
            reply.challenge.as_deref(),
            Some(format!(r#"{CHALLENGE}read""#).as_str()),
            "{held}"
        );
    }

    // Under two `not`s a scope is required again: "signed" is asked for, "export" is not.
    let token = with_scope("export");
    let reply = call(&app, get("/audit").insert_header(bearer(&token))).await;
    reply.assert_problem(403, &token);
    assert_eq!(
        reply.challenge.as_deref(),
        Some(format!(r#"{CHALLENGE}audit signed""#).as_str())
    );
    let reply = call(
        &app,
        get("/audit").insert_header(bearer(&with_scope("audit export signed"))),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "audit"));
}
