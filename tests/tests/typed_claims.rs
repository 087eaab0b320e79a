//! `Authenticated<C>`: the token's claims deserialized into the application's own type; claims
//! that do not fit it are a 401 `invalid_token`, never a 500.

mod common;

use actix_web::test::init_service;
use actix_web::{App, get};
use common::*;
use route_guard::{Authenticated, TokenProblem};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
struct TenantClaims {
    tenant: String,
    #[serde(default)]
    level: u8,
}

#[get("/tenant")]
async fn tenant(user: Authenticated<TenantClaims>) -> String {
    format!(
        "{} of {} at {}",
        user.subject(),
        user.claims().tenant,
        user.claims().level
    )
}

macro_rules! app {
    () => {
        init_service(App::new().app_data(guard()).service(tenant)).await
    };
}

#[actix_web::test]
async fn typed_claims_are_deserialized() {
    let app = app!();
    let good = hs256(&with(
        with(claims("ann", &[]), "tenant", json!("acme")),
        "level",
        json!(3),
    ));
    call(&app, get("/tenant").insert_header(bearer(&good)))
        .await
        .assert_ok("ann of acme at 3");
}

#[actix_web::test]
async fn claims_that_do_not_fit_the_type_are_401_invalid_token() {
    let app = app!();
    for bad in [
        claims("ann", &[]),
        with(claims("ann", &[]), "tenant", json!(7)),
    ] {
        let jwt = hs256(&bad);
        call(&app, get("/tenant").insert_header(bearer(&jwt)))
            .await
            .assert_invalid(TokenProblem::UnusableClaims, &jwt);
    }
}

#[actix_web::test]
async fn authenticated_alone_requires_authentication() {
    let app = app!();
    call(&app, get("/tenant")).await.assert_bare_401("");
}
