//! Guards above `#[utoipa::path]`, whatever else sits between them and the function: each
//! operation is documented by its guards, and utoipa still reads the parameters as written.
#![deny(warnings)]

use actix_web::{App, get, web};
use route_guard::{MaybeAuthenticated, optional_auth, require_auth, require_role, require_scope};
use utoipa::OpenApi;

#[require_auth]
#[utoipa::path(responses((status = 200, description = "me")))]
#[get("/me")]
async fn me() -> &'static str {
    "me"
}

#[require_role(any("admin", "auditor"))]
#[utoipa::path(responses((status = 200, description = "an item")), extensions(("x-team" = json!("items"))),)]
#[require_scope("read:items")]
#[get("/items/{id}")]
async fn read_item(id: web::Path<u32>) -> String {
    id.to_string()
}

/// Documented with utoipa's own method and path, wired with `.to()`.
#[require_role("admin")]
#[utoipa::path(get, path = "/admin", responses((status = 200, description = "admin")))]
async fn admin() -> &'static str {
    "admin"
}

#[optional_auth]
#[utoipa::path(responses((status = 200, description = "hello")))]
#[get("/hello")]
async fn hello(user: MaybeAuthenticated) -> String {
    user.into_inner().map_or("stranger".into(), |u| u.subject().to_owned())
}

/// Without utoipa, `#[optional_auth]` leaves the handler as it is.
#[optional_auth]
async fn plain(_user: MaybeAuthenticated) -> &'static str {
    "plain"
}

#[derive(OpenApi)]
#[openapi(paths(me, read_item, admin, hello))]
struct ApiDoc;

fn main() {
    let _doc = ApiDoc::openapi();
    let _app = App::new()
        .service(me)
        .service(read_item)
        .route("/admin", web::get().to(admin))
        .service(hello)
        .route("/plain", web::get().to(plain));
}
