//! CORS preflight through guarded scopes and routes: `actix-cors` wrapping the `App` answers it
//! before any guard, so a preflight is never 401 or 403; the actual request is still guarded.

mod common;

use actix_cors::Cors;
use actix_web::http::{Method, header};
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, get, web};
use common::*;
use route_guard::{GuardScope, require_role, rule};

#[get("/reports")]
#[require_role("auditor")]
async fn reports() -> &'static str {
    "reports"
}

macro_rules! app {
    () => {
        init_service(
            App::new()
                .app_data(guard())
                .service(
                    web::scope("/admin")
                        .wrap(GuardScope::new(rule!(role("admin"))))
                        .route("/users", web::get().to(|| async { "users" }))
                        .service(reports),
                )
                .service(
                    web::scope("/secret")
                        .wrap(GuardScope::new(rule!(role("admin"), hide)))
                        .route("", web::get().to(|| async { "secret" })),
                )
                .wrap(
                    Cors::default()
                        .allowed_origin("https://app.example")
                        .allowed_methods(["GET"])
                        .allowed_headers([header::AUTHORIZATION]),
                ),
        )
        .await
    };
}

#[actix_web::test]
async fn cors_preflight_is_never_answered_401_or_403() {
    let app = app!();
    // A scope guard, a handler's own attribute under it, and a hidden scope.
    for path in ["/admin/users", "/admin/reports", "/secret"] {
        let preflight = TestRequest::default()
            .method(Method::OPTIONS)
            .uri(path)
            .insert_header((header::ORIGIN, "https://app.example"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "GET"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization"));
        let reply = call(&app, preflight).await;
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        assert_eq!(reply.challenge, None);
    }
}

#[actix_web::test]
async fn the_actual_cross_origin_request_is_still_guarded() {
    let app = app!();
    let req = get("/admin/users").insert_header((header::ORIGIN, "https://app.example"));
    call(&app, req).await.assert_bare_401("");
    let req = get("/secret").insert_header((header::ORIGIN, "https://app.example"));
    call(&app, req).await.assert_hidden();
}
