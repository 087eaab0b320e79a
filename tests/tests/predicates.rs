//! Application predicates (`policy = …`) on the wire: they decide ownership, compose with roles,
//! run only when the rest of the rule leaves the answer open, and fail closed.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::init_service;
use actix_web::{App, HttpRequest, get, web};
use common::*;
use route_guard::{Identity, require};

/// Documents and their owners, as an application keeps them.
struct Documents {
    owners: HashMap<u32, &'static str>,
    lookups: AtomicUsize,
}

/// The caller owns the document in the path. Awaits like a database would.
async fn owns_document(identity: &Identity, req: &HttpRequest) -> Result<bool, std::io::Error> {
    let documents = req
        .app_data::<web::Data<Documents>>()
        .ok_or_else(|| std::io::Error::other("no store"))?;
    documents.lookups.fetch_add(1, Ordering::SeqCst);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1)).await;
    let id: u32 = req
        .match_info()
        .get("id")
        .and_then(|id| id.parse().ok())
        .unwrap_or(0);
    match documents.owners.get(&id) {
        Some(owner) => Ok(*owner == identity.subject()),
        None if id == 666 => Err(std::io::Error::other("database is down")),
        None => Ok(false),
    }
}

#[get("/documents/{id}")]
#[require(any(role("admin"), policy = owns_document))]
async fn edit_document(path: web::Path<u32>) -> String {
    format!("editing {}", path.into_inner())
}

/// Ann owns document 1, Bob document 2; document 666 is where the database fails.
fn documents() -> web::Data<Documents> {
    web::Data::new(Documents {
        owners: [(1, "ann"), (2, "bob")].into(),
        lookups: AtomicUsize::new(0),
    })
}

async fn app(
    documents: &web::Data<Documents>,
) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
    init_service(
        App::new()
            .app_data(guard())
            .app_data(documents.clone())
            .service(edit_document),
    )
    .await
}

fn lookups(documents: &web::Data<Documents>) -> usize {
    documents.lookups.load(Ordering::SeqCst)
}

#[actix_web::test]
async fn an_owner_may_edit_their_document_and_no_other() {
    let documents = documents();
    let app = app(&documents).await;
    let ann = token("ann", &[]);
    call(&app, get("/documents/1").insert_header(bearer(&ann)))
        .await
        .assert_ok("editing 1");
    call(&app, get("/documents/2").insert_header(bearer(&ann)))
        .await
        .assert_forbidden();
    assert_eq!(lookups(&documents), 2, "the predicate decided both");
}

#[actix_web::test]
async fn a_role_that_decides_alone_spares_the_predicate() {
    let documents = documents();
    let app = app(&documents).await;
    call(
        &app,
        get("/documents/2").insert_header(bearer(&token("root", &["admin"]))),
    )
    .await
    .assert_ok("editing 2");
    assert_eq!(lookups(&documents), 0);
}

#[actix_web::test]
async fn a_failing_predicate_fails_closed_with_500_and_leaks_nothing() {
    let documents = documents();
    let app = app(&documents).await;
    let reply = call(
        &app,
        get("/documents/666").insert_header(bearer(&token("ann", &[]))),
    )
    .await;
    reply.assert_problem(500, "database");
    assert_eq!(reply.challenge, None, "{reply:?}");
    assert_eq!(lookups(&documents), 1);
}

#[actix_web::test]
async fn without_credentials_it_is_401_before_any_predicate_runs() {
    let documents = documents();
    let app = app(&documents).await;
    call(&app, get("/documents/1")).await.assert_bare_401("");
    call(
        &app,
        get("/documents/1").insert_header(bearer("not.a.token")),
    )
    .await
    .assert_invalid(route_guard::TokenProblem::Malformed, "not.a.token");
    assert_eq!(lookups(&documents), 0);
}
