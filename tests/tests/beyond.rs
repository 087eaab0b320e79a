//! Optional authentication, whole-scope guards (with CORS preflight), the application's own
//! error pages and 404 hiding, as a client sees them.

mod common;

use actix_cors::Cors;
use actix_web::http::header;
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, HttpResponse, get, web};
use common::*;
use route_guard::{
    Denial, GuardScope, MaybeAuthenticated, Refusal, RouteGuard, require_role, rule,
};
use serde_json::json;

#[get("/greeting")]
async fn greeting(user: MaybeAuthenticated) -> String {
    match user.into_inner() {
        Some(user) => format!("hello, {}", user.subject()),
        None => "hello, stranger".to_owned(),
    }
}

#[get("/optional-by-option")]
async fn by_option(user: Option<route_guard::Authenticated>) -> String {
    format!("{}", user.is_some())
}

#[actix_web::test]
async fn optional_auth_is_anonymous_only_without_credentials() {
    let app = init_service(
        App::new()
            .app_data(guard())
            .service(greeting)
            .service(by_option),
    )
    .await;
    let reply = call(&app, get("/greeting")).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "hello, stranger")
    );
    let reply = call(
        &app,
        get("/greeting").insert_header(bearer(&token("ann", &[]))),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "hello, ann"));

    // Presented but invalid: 401, never silently anonymous.
    let expired = hs256(&with(
        claims("ann", &[]),
        "exp",
        serde_json::json!(now() - 3600),
    ));
    call(&app, get("/greeting").insert_header(bearer(&expired)))
        .await
        .assert_invalid_token("expired", &expired);
    call(&app, get("/greeting").insert_header(bearer("not.a.jwt")))
        .await
        .assert_invalid_token("malformed", "not.a.jwt");
    let reply = call(
        &app,
        get("/greeting")
            .append_header(bearer("a"))
            .append_header(bearer("b")),
    )
    .await;
    assert_eq!(reply.status, 400);
    // Credentials in a scheme this app does not accept are not anonymity either: the client
    // meant to authenticate, and the challenge tells it how.
    let reply = call(
        &app,
        get("/greeting").insert_header(("authorization", "Basic YTpi")),
    )
    .await;
    reply.assert_bare_401("YTpi");

    // What actix-web's own `Option<T>` does, for contrast: an invalid token becomes `None`.
    let reply = call(
        &app,
        get("/optional-by-option").insert_header(bearer(&expired)),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "false"));
}

#[get("/reports")]
#[require_role("auditor")]
async fn scoped_reports() -> &'static str {
    "reports"
}

macro_rules! scoped_app {
    ($guard:expr) => {
        init_service(
            App::new()
                .app_data($guard)
                .service(
                    web::scope("/admin")
                        .wrap(GuardScope::new(rule!(role("admin"))).exempt("/admin/health"))
                        .route("/users", web::get().to(|| async { "users" }))
                        .route("/health", web::get().to(|| async { "ok" }))
                        .service(scoped_reports),
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
async fn a_scope_guard_covers_every_route_and_handlers_can_tighten_it() {
    let app = scoped_app!(guard());
    call(&app, get("/admin/users")).await.assert_bare_401("");
    call(
        &app,
        get("/admin/users").insert_header(bearer(&token("bob", &["user"]))),
    )
    .await
    .assert_forbidden();
    let admin = token("root", &["admin"]);
    let reply = call(&app, get("/admin/users").insert_header(bearer(&admin))).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "users"));

    // Exempt: no credentials needed.
    assert_eq!(call(&app, get("/admin/health")).await.body, "ok");

    // The handler's own attribute adds to the scope's rule.
    call(&app, get("/admin/reports").insert_header(bearer(&admin)))
        .await
        .assert_forbidden();
    let both = token("root", &["admin", "auditor"]);
    assert_eq!(
        call(&app, get("/admin/reports").insert_header(bearer(&both)))
            .await
            .status,
        200
    );
    call(
        &app,
        get("/admin/reports").insert_header(bearer(&token("a", &["auditor"]))),
    )
    .await
    .assert_forbidden();

    // Hidden scope: 404 to everyone it does not admit, with no challenge naming a scheme:
    // a known caller without the role, no credentials, bad ones.
    for credentials in [
        Some(token("bob", &["user"])),
        None,
        Some("not.a.token".to_owned()),
        Some(hs256(&with(
            claims("root", &["admin"]),
            "exp",
            json!(now() - 3600),
        ))),
    ] {
        let req = match &credentials {
            Some(token) => get("/secret").insert_header(bearer(token)),
            None => get("/secret"),
        };
        let reply = call(&app, req).await;
        reply.assert_problem(404, "");
        assert_eq!(reply.challenge, None, "{credentials:?}: {reply:?}");
    }
    let admin = get("/secret").insert_header(bearer(&token("root", &["admin"])));
    let reply = call(&app, admin).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "secret"));
}

#[actix_web::test]
async fn cors_preflight_is_never_answered_401_or_403() {
    let app = scoped_app!(guard());
    for path in ["/admin/users", "/admin/reports", "/secret"] {
        let preflight = TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri(path)
            .insert_header((header::ORIGIN, "https://app.example"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "GET"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization"));
        let reply = call(&app, preflight).await;
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        assert_eq!(reply.challenge, None);
    }
    // The actual cross-origin request is still guarded.
    let req = get("/admin/users").insert_header((header::ORIGIN, "https://app.example"));
    call(&app, req).await.assert_bare_401("");
}

#[actix_web::test]
async fn the_applications_error_pages_keep_status_and_challenge() {
    let jwt = jwt_builder().build().unwrap();
    let html = RouteGuard::builder(jwt)
        .realm(REALM)
        .render_errors(|refusal: &Refusal<'_>| {
            let browser = refusal
                .request()
                .headers()
                .get(header::ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"));
            if !browser {
                return None;
            }
            let page = match refusal.denial() {
                Denial::MissingCredentials | Denial::InvalidToken(_) => "<h1>Please sign in</h1>",
                _ => "<h1>Not for you</h1>",
            };
            // A renderer cannot downgrade the status or drop the challenge.
            Some(
                HttpResponse::Ok()
                    .insert_header((header::WWW_AUTHENTICATE, "Nothing"))
                    .content_type("text/html; charset=utf-8")
                    .body(page),
            )
        })
        .build()
        .unwrap();
    let app = scoped_app!(html);

    let page = get("/admin/users").insert_header((header::ACCEPT, "text/html"));
    let reply = call(&app, page).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.challenge.as_deref(), Some(r#"Bearer realm="test""#));
    assert_eq!(
        reply.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(reply.body, "<h1>Please sign in</h1>");

    let forbidden = get("/admin/users")
        .insert_header((header::ACCEPT, "text/html"))
        .insert_header(bearer(&token("bob", &[])));
    let reply = call(&app, forbidden).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (403, "<h1>Not for you</h1>")
    );
    assert_eq!(reply.challenge, None);

    let expired = hs256(&with(
        claims("ann", &[]),
        "exp",
        serde_json::json!(now() - 3600),
    ));
    let reply = call(
        &app,
        get("/admin/users")
            .insert_header((header::ACCEPT, "text/html"))
            .insert_header(bearer(&expired)),
    )
    .await;
    assert_eq!(reply.status, 401);
    assert!(
        reply
            .challenge
            .as_deref()
            .is_some_and(|c| c.contains("invalid_token"))
    );
    assert!(!reply.body.contains(&expired));

    // An API client still gets the problem document.
    call(&app, get("/admin/users")).await.assert_bare_401("");
}
