//! The policies example answers as its printed lines say: typed roles through the hierarchy,
//! ownership, and scopes, with the example's realm in every challenge.

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../examples/policies.rs"]
mod example;

mod common;

use actix_web::App;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{call, call_full};
use example::mint;

async fn app()
-> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
    let guard = example::guard().unwrap_or_else(|e| panic!("{e}"));
    init_service(
        App::new()
            .app_data(guard)
            .app_data(example::documents())
            .configure(example::routes),
    )
    .await
}

fn with_token(req: TestRequest, path: &str, token: &str) -> TestRequest {
    req.uri(path)
        .insert_header(("authorization", format!("Bearer {token}")))
}

#[actix_web::test]
async fn viewers_and_those_above_them_list_documents() {
    let app = app().await;
    for (sub, role) in [("ada", "admin"), ("ed", "editor"), ("vic", "viewer")] {
        let token = mint(sub, &[role], "");
        let reply = call(&app, with_token(TestRequest::get(), "/documents", &token)).await;
        reply.assert_ok("[1, 2]\n");
    }
    let nobody = mint("nobody", &[], "");
    call(&app, with_token(TestRequest::get(), "/documents", &nobody))
        .await
        .assert_forbidden();
}

#[actix_web::test]
async fn owners_and_editors_edit_a_document() {
    let app = app().await;
    let olga = mint("olga", &[], "");
    let reply = call(&app, with_token(TestRequest::put(), "/documents/1", &olga)).await;
    reply.assert_ok("document 1 saved\n");
    call(&app, with_token(TestRequest::put(), "/documents/2", &olga))
        .await
        .assert_forbidden();
    for (sub, role) in [("ed", "editor"), ("ada", "admin")] {
        let token = mint(sub, &[role], "");
        let reply = call(&app, with_token(TestRequest::put(), "/documents/2", &token)).await;
        reply.assert_ok("document 2 saved\n");
    }
}

#[actix_web::test]
async fn exports_need_the_scope_whatever_the_roles() {
    let app = app().await;
    let bot = mint("bot", &[], "export:read");
    let reply = call(&app, with_token(TestRequest::get(), "/exports", &bot)).await;
    reply.assert_ok("exported\n");
    let ada = mint("ada", &["admin"], "openid");
    call_full(&app, with_token(TestRequest::get(), "/exports", &ada))
        .await
        .assert_refused(
            403,
            &[
                r#"Bearer realm="policies", error="insufficient_scope", error_description="The access token lacks a required scope", scope="export:read""#,
            ],
            &ada,
        );
}

#[actix_web::test]
async fn every_route_asks_a_caller_without_credentials_to_authenticate() {
    let app = app().await;
    for req in [
        TestRequest::get().uri("/documents"),
        TestRequest::put().uri("/documents/1"),
        TestRequest::get().uri("/exports"),
    ] {
        call_full(&app, req)
            .await
            .assert_refused(401, &[r#"Bearer realm="policies""#], "");
    }
}
