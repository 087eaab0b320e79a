//! Application code the guard calls (a predicate, the enrichment hook, the error renderer) may
//! panic. The client then gets a 500 problem document, as for any other failure of the server
//! to decide, never a reset connection, and the next request is answered as usual.

mod common;

use std::sync::Arc;

use actix_web::test::init_service;
use actix_web::{App, HttpRequest, HttpResponse, get};
use common::*;
use route_guard::{AuthResult, Identity, Refusal, RouteGuard, require, require_auth};

#[allow(clippy::panic)]
async fn panics_at_once(_: &Identity, _: &HttpRequest) -> bool {
    panic!("a predicate bug")
}

#[allow(clippy::panic)]
async fn panics_later(_: &Identity, _: &HttpRequest) -> bool {
    actix_web::rt::task::yield_now().await;
    panic!("a predicate bug after an await")
}

#[get("/at-once")]
#[require(policy(panics_at_once))]
async fn at_once() -> &'static str {
    "never"
}

#[get("/later")]
#[require(policy(panics_later))]
async fn later() -> &'static str {
    "never"
}

#[get("/me")]
#[require_auth]
async fn me() -> &'static str {
    "me"
}

macro_rules! app {
    ($guard:expr) => {
        init_service(
            App::new()
                .app_data($guard)
                .service(at_once)
                .service(later)
                .service(me),
        )
        .await
    };
}

fn admin() -> actix_web::test::TestRequest {
    get("/me").insert_header(bearer(&token("root", &["admin"])))
}

#[actix_web::test]
async fn a_panicking_predicate_answers_500() {
    let app = app!(guard());
    for path in ["/at-once", "/later"] {
        let reply = call(&app, get(path).insert_header(bearer(&token("a", &[])))).await;
        reply.assert_problem(500, "");
        assert_eq!(reply.challenge, None);
    }
    let reply = call(&app, admin()).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "me"));
}

#[actix_web::test]
#[allow(clippy::panic)]
async fn a_panicking_enrichment_hook_answers_500() {
    let sync_hook = RouteGuard::builder(jwt_builder().build().unwrap())
        .realm(REALM)
        .enrich(|identity: Arc<Identity>| {
            if identity.subject() == "root" {
                panic!("an enrichment bug");
            }
            async move { AuthResult::Ok(identity) }
        })
        .build()
        .unwrap();
    let async_hook = RouteGuard::builder(jwt_builder().build().unwrap())
        .realm(REALM)
        .enrich(|identity: Arc<Identity>| async move {
            actix_web::rt::task::yield_now().await;
            if identity.subject() == "root" {
                panic!("an enrichment bug after an await");
            }
            AuthResult::Ok(identity)
        })
        .build()
        .unwrap();
    for guard in [sync_hook, async_hook] {
        let app = app!(guard);
        call(&app, admin()).await.assert_problem(500, "");
        let other = get("/me").insert_header(bearer(&token("ann", &[])));
        let reply = call(&app, other).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "me"));
    }
}

#[actix_web::test]
#[allow(clippy::panic)]
async fn a_panicking_renderer_answers_500() {
    let guard = RouteGuard::builder(jwt_builder().build().unwrap())
        .realm(REALM)
        .render_errors(|refusal: &Refusal<'_>| -> Option<HttpResponse> {
            panic!("a renderer bug on {}", refusal.status())
        })
        .build()
        .unwrap();
    let app = app!(guard);
    let reply = call(&app, get("/me")).await;
    reply.assert_problem(500, "");
    assert_eq!(reply.challenge, None);
    let reply = call(&app, admin()).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "me"));
}
