use actix_web::web;
use route_guard::require_role;

#[require_role("admin")]
async fn handler(#[allow(unused_variables)] id: web::Path<u32>) -> &'static str {
    "ok"
}

fn main() {}
