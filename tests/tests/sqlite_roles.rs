//! The `sqlite_roles` example: roles come from an embedded SQLite database through the guard's
//! enrichment hook, change without a restart or a new token, and a broken database means 503.

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../examples/sqlite_roles.rs"]
mod sqlite_roles;

mod common;

use actix_web::App;
use actix_web::test::init_service;
use common::{bearer, call, get};
use sqlite_roles::{DEV_SECRET, RoleStore, guard, mint, routes};

#[actix_web::test]
async fn roles_are_read_from_the_database_on_every_request() {
    let store = RoleStore::open(":memory:").unwrap_or_else(|e| panic!("{e}"));
    store
        .grant("ada", "admin")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let guard = guard(DEV_SECRET, store.clone()).unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard).configure(routes)).await;
    let (ada, ursula) = (mint(DEV_SECRET, "ada"), mint(DEV_SECRET, "ursula"));
    let admin = |token: &str| get("/admin").insert_header(bearer(token));

    assert_eq!(call(&app, admin(&ada)).await.status, 200);
    call(&app, admin(&ursula)).await.assert_forbidden();
    let me = call(&app, get("/me").insert_header(bearer(&ada))).await;
    assert_eq!(
        me.json(),
        serde_json::json!({"sub": "ada", "roles": ["admin"]})
    );

    // A grant and a revocation take effect on the next request, with the same tokens.
    store
        .grant("ursula", "admin")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .revoke("ada", "admin")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(call(&app, admin(&ursula)).await.status, 200);
    call(&app, admin(&ada)).await.assert_forbidden();

    // Credentials are still checked before the database is asked.
    call(&app, get("/admin")).await.assert_problem(401, "");
    let forged = mint("another secret, also long enough for HS256!", "ursula");
    call(&app, admin(&forged))
        .await
        .assert_problem(401, &forged);
}

#[actix_web::test]
async fn a_failing_database_answers_503_not_a_guess() {
    let store = RoleStore::open(":memory:").unwrap_or_else(|e| panic!("{e}"));
    let guard = guard(DEV_SECRET, store.clone()).unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard).configure(routes)).await;
    store
        .execute("DROP TABLE user_roles")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let token = mint(DEV_SECRET, "ada");
    let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
    reply.assert_problem(503, &token);
    assert_eq!(reply.challenge, None);
}
