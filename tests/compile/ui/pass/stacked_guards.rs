//! Several guards on one handler, above, below and around `#[get]`: each adds its own extractor
//! and all of them must pass.
#![deny(warnings)]

use actix_web::{App, get, web};
use route_guard::{require_auth, require_role};

#[get("/below/auth-and-role")]
#[require_auth]
#[require_role("admin")]
async fn below_auth_and_role() -> &'static str {
    "ok"
}

#[get("/below/two-roles")]
#[require_role("admin")]
#[require_role("auditor")]
async fn below_two_roles() -> &'static str {
    "ok"
}

#[require_auth]
#[require_role("admin")]
#[get("/above/auth-and-role")]
async fn above_auth_and_role() -> &'static str {
    "ok"
}

#[require_role("admin")]
#[require_role("auditor")]
#[get("/above/two-roles")]
async fn above_two_roles() -> &'static str {
    "ok"
}

#[require_auth]
#[get("/around/auth-and-role")]
#[require_role("admin")]
async fn around_auth_and_role() -> &'static str {
    "ok"
}

#[require_role("admin")]
#[get("/around/two-roles")]
#[require_role(any("auditor", "owner"))]
async fn around_two_roles() -> &'static str {
    "ok"
}

#[require_role("admin")]
#[require_auth]
#[require_role("auditor")]
async fn three_wired_with_to() -> &'static str {
    "ok"
}

fn main() {
    let _app = App::new()
        .service(below_auth_and_role)
        .service(below_two_roles)
        .service(above_auth_and_role)
        .service(above_two_roles)
        .service(around_auth_and_role)
        .service(around_two_roles)
        .route("/three", web::get().to(three_wired_with_to));
}
