//! A guard below `#[utoipa::path]` cannot document the operation: utoipa has expanded first.
//! The build fails at the guard, naming the order to use.

use actix_web::get;
use route_guard::require_role;

#[utoipa::path(responses((status = 200, description = "admin")))]
#[get("/admin")]
#[require_role("admin")]
async fn admin() -> &'static str {
    "admin"
}

#[utoipa::path(get, path = "/reports", responses((status = 200, description = "reports")))]
#[require_role("auditor")]
async fn reports() -> &'static str {
    "reports"
}

fn main() {}
