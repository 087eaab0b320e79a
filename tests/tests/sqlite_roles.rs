//! The `sqlite_roles` example: roles come from an embedded SQLite database through the guard's
//! enrichment hook, change without a restart or a new token, and a broken database means 503.

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../examples/sqlite_roles.rs"]
mod sqlite_roles;

mod common;

use actix_web::App;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::init_service;
use common::{bearer, call, call_full, get};
use sqlite_roles::{DEV_SECRET, RoleStore, guard, mint, routes};

/// The example's realm, in every challenge it sends.
const BARE: &str = r#"Bearer realm="sqlite-roles""#;
const BAD_SIGNATURE: &str = r#"Bearer realm="sqlite-roles", error="invalid_token", error_description="The token signature is invalid""#;

/// The example's app over a fresh in-memory store where `ada` is an admin.
async fn app_with_ada_admin() -> (
    RoleStore,
    impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
) {
    let store = RoleStore::open(":memory:").unwrap_or_else(|e| panic!("{e}"));
    store
        .grant("ada", "admin")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let guard = guard(DEV_SECRET, store.clone()).unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard).configure(routes)).await;
    (store, app)
}

fn admin(token: &str) -> actix_web::test::TestRequest {
    get("/admin").insert_header(bearer(token))
}

#[actix_web::test]
async fn roles_are_read_from_the_database() {
    let (_store, app) = app_with_ada_admin().await;
    let (ada, ursula) = (mint(DEV_SECRET, "ada"), mint(DEV_SECRET, "ursula"));
    call(&app, admin(&ada)).await.assert_ok("hello, admin\n");
    call(&app, admin(&ursula)).await.assert_forbidden();
    let me = call(&app, get("/me").insert_header(bearer(&ada))).await;
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(
        me.json(),
        serde_json::json!({"sub": "ada", "roles": ["admin"]})
    );
}

#[actix_web::test]
async fn a_grant_and_a_revocation_take_effect_on_the_next_request_with_the_same_tokens() {
    let (store, app) = app_with_ada_admin().await;
    let (ada, ursula) = (mint(DEV_SECRET, "ada"), mint(DEV_SECRET, "ursula"));
    call(&app, admin(&ursula)).await.assert_forbidden();
    store
        .grant("ursula", "admin")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .revoke("ada", "admin")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    call(&app, admin(&ursula)).await.assert_ok("hello, admin\n");
    call(&app, admin(&ada)).await.assert_forbidden();
}

#[actix_web::test]
async fn credentials_are_checked_before_the_database_is_asked() {
    let (_store, app) = app_with_ada_admin().await;
    call_full(&app, get("/admin"))
        .await
        .assert_refused(401, &[BARE], "");
    // Ada is an admin in the database, but this token is not signed with the app's secret.
    let forged = mint("another secret, also long enough for HS256!", "ada");
    call_full(&app, admin(&forged))
        .await
        .assert_refused(401, &[BAD_SIGNATURE], &forged);
}

#[actix_web::test]
async fn a_failing_database_answers_503_not_a_guess() {
    let (store, app) = app_with_ada_admin().await;
    store
        .execute("DROP TABLE user_roles")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let token = mint(DEV_SECRET, "ada");
    for path in ["/me", "/admin"] {
        let reply = call_full(&app, get(path).insert_header(bearer(&token))).await;
        reply.assert_refused(503, &[], &token);
        assert_eq!(reply.retry_after.as_deref(), Some("5"), "{path}: {reply:?}");
    }
}
