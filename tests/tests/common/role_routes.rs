//! The routes the wire and role-claim suites both send to: an authenticated route, role rules
//! alone and combined, and a handler wired with `.to()`.

use actix_web::{HttpResponse, Responder, get, web};
use route_guard::{Authenticated, require_auth, require_role};
use serde_json::json;

#[get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> impl Responder {
    web::Json(json!({ "sub": user.subject(), "roles": user.roles() }))
}

#[require_role("admin")]
#[get("/admin")]
async fn admin() -> &'static str {
    "hello, admin"
}

#[get("/reports")]
#[require_role(any("admin", "auditor"))]
async fn reports() -> &'static str {
    "numbers"
}

#[get("/payroll")]
#[require_role(all("finance", any("manager", "director")))]
async fn payroll() -> &'static str {
    "salaries"
}

#[require_role("admin")]
async fn wired_with_to() -> HttpResponse {
    HttpResponse::Ok().body("wired")
}

/// Registers every route above.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .service(me)
        .service(admin)
        .service(reports)
        .service(payroll)
        .route("/to", web::get().to(wired_with_to));
}
