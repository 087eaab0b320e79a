//! `GuardScope`: one rule over every route of a `web::scope`, handlers that tighten it, hidden
//! scopes, and exemptions, including the spellings of a path that only look exempt.
//!
//! An exemption is matched against the request's path as sent (`HttpRequest::path`), while
//! actix-web routes on the percent-decoded path. So a percent-encoded spelling of an exempt path
//! is guarded even where it routes to the exempt handler (it fails closed), and a trailing or
//! doubled slash is exempt only where `NormalizePath` has rewritten the path first.

mod common;

use actix_web::middleware::NormalizePath;
use actix_web::test::init_service;
use actix_web::{App, get, web};
use common::*;
use route_guard::{GuardScope, require_role, rule};
use serde_json::json;

#[get("/reports")]
#[require_role("auditor")]
async fn reports() -> &'static str {
    "reports"
}

async fn public_file(file: web::Path<String>) -> String {
    format!("file {}", file.into_inner())
}

/// `/admin` for admins, except `/admin/health` and `/admin/public/{file}`; `/secret` hidden.
fn admin_scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/admin")
        .wrap(
            GuardScope::new(rule!(role("admin")))
                .exempt("/admin/health")
                .exempt("/admin/public/{file}"),
        )
        .route("/users", web::get().to(|| async { "users" }))
        .route("/health", web::get().to(|| async { "ok" }))
        .route("/public/{file}", web::get().to(public_file))
        .service(reports)
}

macro_rules! app {
    () => {
        init_service(
            App::new().app_data(guard()).service(admin_scope()).service(
                web::scope("/secret")
                    .wrap(GuardScope::new(rule!(role("admin"), hide)))
                    .route("", web::get().to(|| async { "secret" })),
            ),
        )
        .await
    };
}

fn admin() -> String {
    token("root", &["admin"])
}

#[actix_web::test]
async fn a_scope_guard_covers_every_route_of_the_scope() {
    let app = app!();
    call(&app, get("/admin/users")).await.assert_bare_401("");
    call(
        &app,
        get("/admin/users").insert_header(bearer(&token("bob", &["user"]))),
    )
    .await
    .assert_forbidden();
    call(&app, get("/admin/users").insert_header(bearer(&admin())))
        .await
        .assert_ok("users");
}

#[actix_web::test]
async fn a_handlers_own_attribute_adds_to_the_scopes_rule() {
    let app = app!();
    call(&app, get("/admin/reports").insert_header(bearer(&admin())))
        .await
        .assert_forbidden();
    let both = token("root", &["admin", "auditor"]);
    call(&app, get("/admin/reports").insert_header(bearer(&both)))
        .await
        .assert_ok("reports");
    call(
        &app,
        get("/admin/reports").insert_header(bearer(&token("a", &["auditor"]))),
    )
    .await
    .assert_forbidden();
}

#[actix_web::test]
async fn a_hidden_scope_answers_404_to_everyone_it_does_not_admit() {
    // A known caller without the role, no credentials, bad ones: no challenge names a scheme.
    let app = app!();
    let expired = hs256(&with(
        claims("root", &["admin"]),
        "exp",
        json!(now() - 3600),
    ));
    for credentials in [
        Some(token("bob", &["user"])),
        None,
        Some("not.a.token".to_owned()),
        Some(expired),
    ] {
        let req = match &credentials {
            Some(token) => get("/secret").insert_header(bearer(token)),
            None => get("/secret"),
        };
        let reply = call(&app, req).await;
        assert_eq!(reply.status, 404, "{credentials:?}: {reply:?}");
        reply.assert_hidden();
    }
    call(&app, get("/secret").insert_header(bearer(&admin())))
        .await
        .assert_ok("secret");
}

#[actix_web::test]
async fn an_exempt_path_needs_no_credentials() {
    let app = app!();
    for path in ["/admin/health", "/admin/health?probe=1"] {
        call(&app, get(path)).await.assert_ok("ok");
    }
}

#[actix_web::test]
async fn a_trailing_or_doubled_slash_is_not_the_exempt_path() {
    let app = app!();
    for path in ["/admin/health/", "/admin/health//", "/admin//health"] {
        let reply = call(&app, get(path)).await;
        assert_eq!(reply.status, 401, "{path}: {reply:?}");
        reply.assert_bare_401("");
        // Nor is it the health route: an admin gets actix-web's 404.
        let reply = call(&app, get(path).insert_header(bearer(&admin()))).await;
        assert_eq!(reply.status, 404, "{path}: {reply:?}");
    }
}

#[actix_web::test]
async fn behind_normalize_path_a_trailing_slash_is_the_exempt_path_and_nothing_more() {
    let app = init_service(
        App::new()
            .app_data(guard())
            .wrap(NormalizePath::trim())
            .service(admin_scope()),
    )
    .await;
    for path in ["/admin/health/", "/admin//health", "//admin/health"] {
        call(&app, get(path)).await.assert_ok("ok");
    }
    // The rewritten path of a guarded route is still guarded.
    for path in ["/admin/users/", "/admin//users"] {
        let reply = call(&app, get(path)).await;
        assert_eq!(reply.status, 401, "{path}: {reply:?}");
        reply.assert_bare_401("");
    }
}

#[actix_web::test]
async fn a_percent_encoded_spelling_of_the_exempt_path_is_guarded() {
    // actix-web routes these to the health handler, but the exemption names the path as sent.
    let app = app!();
    for path in [
        "/admin/%68ealth",
        "/%61dmin/health",
        "/admin/health%3Fprobe=1",
    ] {
        let reply = call(&app, get(path)).await;
        assert_eq!(reply.status, 401, "{path}: {reply:?}");
        reply.assert_bare_401("");
    }
    for path in ["/admin/%68ealth", "/%61dmin/health"] {
        let reply = call(&app, get(path).insert_header(bearer(&admin()))).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "ok"), "{path}");
    }
}

#[actix_web::test]
async fn a_percent_encoded_spelling_of_a_guarded_path_is_guarded() {
    let app = app!();
    for path in ["/%61dmin/users", "/admin/%75sers", "/admin/user%73"] {
        let reply = call(&app, get(path)).await;
        assert_eq!(reply.status, 401, "{path}: {reply:?}");
        reply.assert_bare_401("");
        let user = get(path).insert_header(bearer(&token("bob", &["user"])));
        call(&app, user).await.assert_forbidden();
        let reply = call(&app, get(path).insert_header(bearer(&admin()))).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "users"),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn paths_that_only_look_exempt_are_guarded() {
    let app = app!();
    for path in [
        "/admin/HEALTH",
        "/admin/healthz",
        "/admin/health/x",
        "/admin/health;x",
        "/admin/health%2F",
        "/admin/health/../users",
        "/admin/health/%2E%2E/users",
        "/admin/health%2F..%2Fusers",
    ] {
        let reply = call(&app, get(path)).await;
        assert_eq!(reply.status, 401, "{path}: {reply:?}");
        reply.assert_bare_401("");
    }
}

#[actix_web::test]
async fn an_exempt_pattern_covers_one_segment_and_reaches_only_its_own_route() {
    let app = app!();
    call(&app, get("/admin/public/logo.png"))
        .await
        .assert_ok("file logo.png");
    // An encoded slash stays inside the segment: exempt, and the public route gets it as its
    // parameter; it never reaches `/admin/users`.
    call(&app, get("/admin/public/..%2Fusers"))
        .await
        .assert_ok("file ../users");
    for path in [
        "/admin/public/",
        "/admin/public/a/b",
        "/admin/public/x/../../users",
        "/admin/%70ublic/x",
    ] {
        let reply = call(&app, get(path)).await;
        assert_eq!(reply.status, 401, "{path}: {reply:?}");
        reply.assert_bare_401("");
    }
}
