//! Where roles come from and how role rules combine: `any` and `all`, a space-separated string,
//! claims of the wrong type (no role, never a 500), and the configured claim path, nested or a
//! URL-shaped key (`docs/wire-contract.md`, "Where identity providers put roles and scopes").

mod common;
#[path = "common/role_routes.rs"]
mod role_routes;

use actix_web::App;
use actix_web::test::init_service;
use common::*;
use route_guard::ClaimPath;
use serde_json::json;

macro_rules! app {
    ($guard:expr) => {
        init_service(
            App::new()
                .app_data($guard)
                .configure(role_routes::configure),
        )
        .await
    };
}

#[actix_web::test]
async fn any_and_all_combine_roles() {
    let app = app!(guard());
    let cases: [(&[&str], &str, u16, &str); 8] = [
        (&["auditor"], "/reports", 200, "numbers"),
        (&["admin"], "/reports", 200, "numbers"),
        (&["user"], "/reports", 403, ""),
        (&["finance", "manager"], "/payroll", 200, "salaries"),
        (&["finance", "director"], "/payroll", 200, "salaries"),
        (&["finance"], "/payroll", 403, ""),
        (&["manager", "director"], "/payroll", 403, ""),
        (&["admin"], "/to", 200, "wired"),
    ];
    for (roles, path, status, body) in cases {
        let reply = call(&app, get(path).insert_header(bearer(&token("u", roles)))).await;
        assert_eq!(reply.status, status, "{roles:?} on {path}: {reply:?}");
        if status == 403 {
            reply.assert_forbidden();
        } else {
            reply.assert_ok(body);
        }
    }
}

#[actix_web::test]
async fn roles_may_be_a_space_separated_string() {
    let app = app!(guard());
    let jwt = hs256(&with(claims("u", &[]), "roles", json!("user admin")));
    call(&app, get("/admin").insert_header(bearer(&jwt)))
        .await
        .assert_ok("hello, admin");
}

#[actix_web::test]
async fn a_roles_claim_of_the_wrong_type_grants_no_role_and_never_500() {
    let app = app!(guard());
    for roles in [
        json!(1),
        json!({"admin": true}),
        json!([["admin"]]),
        json!(["admin", 1]),
        json!(true),
    ] {
        let jwt = hs256(&with(claims("u", &[]), "roles", roles.clone()));
        call(&app, get("/admin").insert_header(bearer(&jwt)))
            .await
            .assert_forbidden();
        let reply = call(&app, get("/me").insert_header(bearer(&jwt))).await;
        assert_eq!(reply.status, 200, "{roles}: {reply:?}");
        assert_eq!(reply.json()["roles"], json!([]));
    }
}

#[actix_web::test]
async fn roles_come_from_a_nested_claim_path_and_nowhere_else() {
    let jwt = jwt_builder()
        .roles_claim("realm_access.roles")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = app!(guard_with(jwt));
    let nested = hs256(&with(
        claims("u", &[]),
        "realm_access",
        json!({"roles": ["admin"]}),
    ));
    call(&app, get("/admin").insert_header(bearer(&nested)))
        .await
        .assert_ok("hello, admin");
    // The top-level `roles` claim is no longer read.
    call(
        &app,
        get("/admin").insert_header(bearer(&token("u", &["admin"]))),
    )
    .await
    .assert_forbidden();
}

#[actix_web::test]
async fn roles_come_from_a_url_shaped_claim_key() {
    let jwt = jwt_builder()
        .roles_claim(ClaimPath::key("https://example.com/roles"))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = app!(guard_with(jwt));
    let namespaced = hs256(&with(
        claims("u", &[]),
        "https://example.com/roles",
        json!(["admin"]),
    ));
    call(&app, get("/admin").insert_header(bearer(&namespaced)))
        .await
        .assert_ok("hello, admin");
    // Read as a path, the key would be `https://example` then `com/roles`: nothing there.
    let as_path = hs256(&with(
        claims("u", &[]),
        "https://example",
        json!({"com/roles": ["admin"]}),
    ));
    call(&app, get("/admin").insert_header(bearer(&as_path)))
        .await
        .assert_forbidden();
}
