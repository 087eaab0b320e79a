//! Role and scope claims given as one string are split on the ASCII space (U+0020) alone, as
//! RFC 6749 §3.3 delimits scopes (issue 12): `"Team\u{A0}admin"` is one role, not `admin`.

mod common;

use actix_web::test::init_service;
use actix_web::{App, get};
use common::*;
use route_guard::{require_role, require_scope};
use serde_json::json;

#[get("/admin")]
#[require_role("admin")]
async fn admin() -> &'static str {
    "admin"
}

#[get("/write")]
#[require_scope("write")]
async fn write() -> &'static str {
    "write"
}

fn holding(claim: &str, names: &str) -> String {
    hs256(&with(claims("u", &[]), claim, json!(names)))
}

#[actix_web::test]
async fn only_the_ascii_space_separates_names() {
    let app = init_service(App::new().app_data(guard()).service(admin).service(write)).await;
    for names in ["admin", "team admin", "team  admin "] {
        let reply = call(
            &app,
            get("/admin").insert_header(bearer(&holding("roles", names))),
        )
        .await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "admin"),
            "{names:?}"
        );
    }
    for names in [
        "Team\u{A0}admin",
        "team\tadmin",
        "team\u{2003}admin",
        "team\nadmin",
    ] {
        call(
            &app,
            get("/admin").insert_header(bearer(&holding("roles", names))),
        )
        .await
        .assert_forbidden();
    }

    let reply = call(
        &app,
        get("/write").insert_header(bearer(&holding("scope", "read write"))),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "write"));
    let token = holding("scope", "read\u{A0}write");
    let reply = call(&app, get("/write").insert_header(bearer(&token))).await;
    reply.assert_problem(403, &token);
    assert_eq!(
        reply.challenge.as_deref(),
        Some(
            r#"Bearer realm="test", error="insufficient_scope", error_description="The access token lacks a required scope", scope="write""#
        )
    );
}
