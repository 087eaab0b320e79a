//! A hand-written `security(..)` beside a guard: the guard documents the operation's security
//! itself, and two declarations drift apart.

use actix_web::get;
use route_guard::require_role;

#[require_role("admin")]
#[utoipa::path(responses((status = 200, description = "admin")), security(("bearer" = ["admin"])))]
#[get("/admin")]
async fn admin() -> &'static str {
    "admin"
}

fn main() {}
