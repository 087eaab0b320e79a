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
    // The status and the challenge, as a client sees them.
    let answer = |req: TestRequest| {
        let app = &app;
        async move {
            let res = test::call_service(app, req.to_request()).await;
            let challenge = res
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (res.status().as_u16(), challenge)
        }
    };
    let to_admin = || TestRequest::get().uri("/admin");
    assert_eq!(
        answer(to_admin().insert_header(issuer.bearer("ada", ["admin"]))).await,
        (200, None)
    );
    assert_eq!(
        answer(to_admin().insert_header(issuer.bearer("bob", ["user"]))).await,
        (403, None)
    );
    let refused = |description: &str| {
        let challenge = format!(
            r#"Bearer realm="api", error="invalid_token", error_description="{description}""#
        );
        (401, Some(challenge))
    };
    let expired = issuer.token("ada").roles(["admin"]).expires_in(-120).sign();
    let expired = ("authorization", format!("Bearer {expired}"));
    assert_eq!(
        answer(to_admin().insert_header(expired)).await,
        refused("The access token expired")
    );
    let foreign = issuer
        .token("ada")
        .roles(["admin"])
        .claim("iss", json!("https://evil.test"));
    let foreign = ("authorization", format!("Bearer {}", foreign.sign()));
    assert_eq!(
        answer(to_admin().insert_header(foreign)).await,
        refused("The token issuer is not accepted")
    );
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

#[get("/me")]
#[route_guard::require_auth]
async fn me(user: route_guard::Authenticated) -> String {
    user.subject().to_owned()
}

#[actix_web::test]
async fn header_helpers_give_what_a_client_sends() {
    let issuer = TestIssuer::new();
    let app = init_service(App::new().app_data(issuer.guard()).service(admin)).await;
    let req = TestRequest::get()
        .uri("/admin")
        .insert_header(issuer.token("ada").roles(["admin"]).bearer());
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "hello, admin");

    let users = route_guard::Argon2Users::new()
        .user(
            "alice",
            &route_guard::hash_password("correct horse").unwrap_or_else(|e| panic!("{e}")),
            ["admin"],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let basic_guard = RouteGuard::new(
        route_guard::BasicAuthenticator::new(users).unwrap_or_else(|e| panic!("{e}")),
    );
    let app = init_service(App::new().app_data(basic_guard).service(me)).await;
    let req = TestRequest::get()
        .uri("/me")
        .insert_header(route_guard::testing::basic("alice", "correct horse"));
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "alice");
    let req = TestRequest::get()
        .uri("/me")
        .insert_header(route_guard::testing::basic("alice", "wrong"));
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some(r#"Basic realm="api", charset="UTF-8""#),
        "{:?}",
        res.headers()
    );
}

/// What a closure logs through `tracing`, as text.
fn logged(run: impl FnOnce()) -> String {
    use std::sync::{Arc, Mutex, PoisonError};
    #[derive(Clone)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut buffer = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            buffer.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer(Arc::default());
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, run);
    let bytes = buffer
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The test key reaching an authenticator by a road other than `test_key` (here the JWKS it
/// publishes, as a production configuration might copy it) is logged as an error.
#[test]
fn trusting_the_test_key_outside_test_key_is_logged_as_an_error() {
    let issuer = TestIssuer::new();
    let keys =
        route_guard::JwtKey::from_jwks(issuer.jwks().to_string()).unwrap_or_else(|e| panic!("{e}"));
    let log = logged(|| {
        let mut builder = JwtAuthenticator::builder()
            .issuer(TEST_ISSUER)
            .audience(TEST_AUDIENCE);
        for key in keys {
            builder = builder.key(key);
        }
        assert!(builder.build().is_ok());
    });
    assert!(
        log.contains("ERROR") && log.contains("built-in TEST key"),
        "{log}"
    );
    // Through `test_key`, in a debug build, tests stay quiet.
    let quiet = logged(|| assert!(issuer.authenticator().build().is_ok()));
    if cfg!(debug_assertions) {
        assert!(!quiet.contains("TEST key"), "{quiet}");
    } else {
        assert!(quiet.contains("built-in TEST key"), "{quiet}");
    }
}
