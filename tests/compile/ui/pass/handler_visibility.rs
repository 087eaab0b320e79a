//! `pub` and `pub(crate)` handlers: the generated marker type takes the handler's visibility,
//! so it is never less visible than the function whose signature names it.
#![deny(warnings)]

use actix_web::{App, get, web};
use route_guard::{require_auth, require_role};

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

fn main() {
    let _app = App::new()
        .service(public)
        .service(crate_visible)
        .route("/public/wired", web::get().to(public_wired))
        .route("/crate/wired", web::get().to(crate_visible_wired));
}
