//! `pub` and `pub(crate)` handlers. A rule spelled as a type names the runtime's public types;
//! a rule with a predicate gets a marker type, which takes the handler's visibility, so it is
//! never less visible than the function whose signature names it.
#![deny(warnings)]

use actix_web::{App, get, web};
use route_guard::{Identity, require, require_auth, require_role};

#[get("/public")]
#[require_auth]
pub async fn public() -> &'static str {
    "public"
}

#[require_role("admin")]
pub async fn public_wired() -> &'static str {
    "public, wired"
}

#[require_role("admin")]
#[get("/crate")]
pub(crate) async fn crate_visible() -> &'static str {
    "crate"
}

#[require_auth]
pub(crate) async fn crate_visible_wired() -> &'static str {
    "crate, wired"
}

async fn owner(_: &Identity, _: &actix_web::HttpRequest) -> bool {
    true
}

#[require(policy(owner))]
pub async fn public_by_predicate() -> &'static str {
    "public, by predicate"
}

#[require(any(role("admin"), policy(owner)))]
pub(crate) async fn crate_by_predicate() -> &'static str {
    "crate, by predicate"
}

fn main() {
    let _app = App::new()
        .service(public)
        .service(crate_visible)
        .route("/public/wired", web::get().to(public_wired))
        .route("/crate/wired", web::get().to(crate_visible_wired))
        .route("/public/owner", web::get().to(public_by_predicate))
        .route("/crate/owner", web::get().to(crate_by_predicate));
}
