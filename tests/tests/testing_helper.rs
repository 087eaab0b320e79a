//! The `testing` feature as a user's test suite uses it: a guarded app and minted tokens in a
//! few lines, including a JWKS-configured authenticator served the test key locally.

use actix_web::test::{self, TestRequest, init_service};
use actix_web::{App, HttpResponse, HttpServer, get, web};
use route_guard::testing::{TEST_AUDIENCE, TEST_ISSUER, TestIssuer};
use route_guard::{Jwks, JwtAuthenticator, RouteGuard, require_role};
use serde_json::json;

#[get("/admin")]
#[require_role("admin")]
async fn admin() -> &'static str {
    "hello, admin"
}

#[actix_web::test]
async fn a_guarded_handler_is_tested_in_a_few_lines() {
    let issuer = TestIssuer::new();
    let app = init_service(App::new().app_data(issuer.guard()).service(admin)).await;
    let status = |req: TestRequest| {
        let app = &app;
        async move { test::call_service(app, req.to_request()).await.status() }
    };
    let to_admin = || TestRequest::get().uri("/admin");
    assert_eq!(
        status(to_admin().insert_header(issuer.bearer("ada", ["admin"]))).await,
        200
    );
    assert_eq!(
        status(to_admin().insert_header(issuer.bearer("bob", ["user"]))).await,
        403
    );
    let expired = issuer.token("ada").roles(["admin"]).expires_in(-120).sign();
    let expired = ("authorization", format!("Bearer {expired}"));
    assert_eq!(status(to_admin().insert_header(expired)).await, 401);
    let foreign = issuer
        .token("ada")
        .roles(["admin"])
        .claim("iss", json!("https://evil.test"));
    let foreign = ("authorization", format!("Bearer {}", foreign.sign()));
    assert_eq!(status(to_admin().insert_header(foreign)).await, 401);
}

#[actix_web::test]
async fn the_test_key_can_be_served_as_a_jwks_on_127_0_0_1() {
    let issuer = TestIssuer::new();
    let jwks = issuer.jwks();
    let server = HttpServer::new(move || {
        let jwks = jwks.clone();
        App::new().route(
            "/jwks",
            web::get().to(move || {
                let jwks = jwks.clone();
                async move { HttpResponse::Ok().json(jwks) }
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap_or_else(|e| panic!("{e}"));
    let port = server.addrs()[0].port();
    let running = server.run();
    let handle = running.handle();
    actix_web::rt::spawn(running);

    let jwt = JwtAuthenticator::builder()
        .jwks(Jwks::url(format!("http://127.0.0.1:{port}/jwks")))
        .issuer(TEST_ISSUER)
        .audience(TEST_AUDIENCE)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(jwt.load_keys().await.ok(), Some(1));
    let app = init_service(App::new().app_data(RouteGuard::new(jwt)).service(admin)).await;
    let req = TestRequest::get()
        .uri("/admin")
        .insert_header(issuer.bearer("ada", ["admin"]));
    assert_eq!(
        test::call_service(&app, req.to_request()).await.status(),
        200
    );
    handle.stop(true).await;
}
