//! Optional authentication with `MaybeAuthenticated`: anonymous only when no credentials were
//! sent; credentials that were sent and cannot be used are refused as on any guarded route.

mod common;

use actix_web::test::init_service;
use actix_web::{App, get};
use common::*;
use route_guard::{MaybeAuthenticated, RequestProblem, TokenProblem};
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

macro_rules! app {
    () => {
        init_service(
            App::new()
                .app_data(guard())
                .service(greeting)
                .service(by_option),
        )
        .await
    };
}

fn expired() -> String {
    hs256(&with(claims("ann", &[]), "exp", json!(now() - 3600)))
}

#[actix_web::test]
async fn without_credentials_the_caller_is_anonymous() {
    let app = app!();
    call(&app, get("/greeting"))
        .await
        .assert_ok("hello, stranger");
}

#[actix_web::test]
async fn a_valid_token_names_the_caller() {
    let app = app!();
    call(
        &app,
        get("/greeting").insert_header(bearer(&token("ann", &[]))),
    )
    .await
    .assert_ok("hello, ann");
}

#[actix_web::test]
async fn a_presented_but_invalid_token_is_401_never_silently_anonymous() {
    let app = app!();
    let expired = expired();
    call(&app, get("/greeting").insert_header(bearer(&expired)))
        .await
        .assert_invalid(TokenProblem::Expired, &expired);
    call(&app, get("/greeting").insert_header(bearer("not.a.jwt")))
        .await
        .assert_invalid(TokenProblem::Malformed, "not.a.jwt");
}

#[actix_web::test]
async fn two_authorization_lines_are_400_never_anonymous() {
    let app = app!();
    let reply = call(
        &app,
        get("/greeting")
            .append_header(bearer("first-token-of-two"))
            .append_header(bearer("second-token-of-two")),
    )
    .await;
    reply.assert_invalid_request(RequestProblem::DuplicateAuthorization, "first-token-of-two");
    assert!(!reply.body.contains("second-token-of-two"), "{reply:?}");
}

#[actix_web::test]
async fn credentials_in_a_scheme_the_app_does_not_accept_are_401_never_anonymous() {
    // The client meant to authenticate, and the challenge tells it how.
    let app = app!();
    call(
        &app,
        get("/greeting").insert_header(("authorization", "Basic YTpi")),
    )
    .await
    .assert_bare_401("YTpi");
}

#[actix_web::test]
async fn actix_webs_own_option_turns_an_invalid_token_into_none() {
    // What `Option<Authenticated>` does, for contrast with `MaybeAuthenticated`.
    let app = app!();
    call(
        &app,
        get("/optional-by-option").insert_header(bearer(&expired())),
    )
    .await
    .assert_ok("false");
}
