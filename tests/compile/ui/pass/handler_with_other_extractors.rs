//! The guard is one more extractor: the handler's own extractors keep working beside it.
#![deny(warnings)]

use actix_web::{App, HttpRequest, HttpResponse, post, web};
use route_guard::{Authenticated, require_auth, require_role};
use serde::Deserialize;

#[derive(Deserialize)]
struct Page {
    offset: u32,
}

#[derive(Deserialize)]
struct Rename {
    name: String,
}

#[post("/items/{id}")]
#[require_role("editor")]
async fn rename(
    id: web::Path<u64>,
    page: web::Query<Page>,
    body: web::Json<Rename>,
    req: HttpRequest,
    user: Authenticated,
) -> HttpResponse {
    HttpResponse::Ok().body(format!(
        "{} renamed {} to {} (offset {}) at {}",
        user.subject(),
        id.into_inner(),
        body.name,
        page.offset,
        req.path(),
    ))
}

#[require_auth]
async fn whoami(req: HttpRequest, user: Authenticated) -> String {
    format!("{} at {}", user.subject(), req.path())
}

fn main() {
    let _app = App::new()
        .service(rename)
        .route("/whoami", web::get().to(whoami));
}
