//! The application's own error pages (`render_errors`): a renderer chooses the body, never the
//! status or the challenge, and a request it declines still gets the problem document.

mod common;

use actix_web::http::header;
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, HttpResponse, web};
use common::*;
use route_guard::{Denial, GuardScope, Refusal, RouteGuard, TokenProblem, rule};
use serde_json::json;

const HTML: &str = "text/html; charset=utf-8";

/// Renders HTML pages for browsers (whatever asks for `text/html`), and tries, in vain, to
/// answer 200 and replace the challenge.
fn html_pages() -> RouteGuard {
    let jwt = jwt_builder().build().unwrap_or_else(|e| panic!("{e}"));
    RouteGuard::builder(jwt)
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
            Some(
                HttpResponse::Ok()
                    .insert_header((header::WWW_AUTHENTICATE, "Nothing"))
                    .content_type(HTML)
                    .body(page),
            )
        })
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! app {
    () => {
        init_service(
            App::new().app_data(html_pages()).service(
                web::scope("/admin")
                    .wrap(GuardScope::new(rule!(role("admin"))))
                    .route("/users", web::get().to(|| async { "users" })),
            ),
        )
        .await
    };
}

fn from_a_browser() -> TestRequest {
    get("/admin/users").insert_header((header::ACCEPT, "text/html"))
}

/// Asserts the renderer's page, with the status and the challenge lines the guard decided: the
/// renderer's own `WWW-Authenticate: Nothing` is not among them.
fn assert_page(full: &FullReply, status: u16, challenges: &[&str], page: &str) {
    let reply = &full.reply;
    assert_eq!(reply.status, status, "{full:?}");
    assert_eq!(full.challenges, challenges, "{full:?}");
    assert_eq!(reply.content_type.as_deref(), Some(HTML), "{full:?}");
    assert_eq!(reply.body, page, "{full:?}");
}

#[actix_web::test]
async fn a_page_for_missing_credentials_keeps_401_and_the_bare_challenge() {
    let app = app!();
    let reply = call_full(&app, from_a_browser()).await;
    assert_page(
        &reply,
        401,
        &[r#"Bearer realm="test""#],
        "<h1>Please sign in</h1>",
    );
}

#[actix_web::test]
async fn a_page_for_an_invalid_token_keeps_its_invalid_token_challenge() {
    let app = app!();
    let expired = hs256(&with(claims("ann", &[]), "exp", json!(now() - 3600)));
    let reply = call_full(&app, from_a_browser().insert_header(bearer(&expired))).await;
    let challenge = bearer_error("invalid_token", TokenProblem::Expired.description());
    assert_page(&reply, 401, &[&challenge], "<h1>Please sign in</h1>");
    assert!(!reply.reply.body.contains(&expired), "{reply:?}");
}

#[actix_web::test]
async fn a_page_for_a_forbidden_caller_keeps_403_and_adds_no_challenge() {
    let app = app!();
    let bob = token("bob", &[]);
    let reply = call_full(&app, from_a_browser().insert_header(bearer(&bob))).await;
    assert_page(&reply, 403, &[], "<h1>Not for you</h1>");
}

#[actix_web::test]
async fn a_request_the_renderer_declines_gets_the_problem_document() {
    let app = app!();
    call(&app, get("/admin/users")).await.assert_bare_401("");
    call(
        &app,
        get("/admin/users").insert_header(bearer(&token("bob", &[]))),
    )
    .await
    .assert_forbidden();
}
