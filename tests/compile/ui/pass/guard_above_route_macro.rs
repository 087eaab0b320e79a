//! A guard written above `#[get]`: the guard expands first and leaves `#[get]` on the handler.
#![deny(warnings)]

use actix_web::{App, get};
use route_guard::{require_auth, require_role};

#[require_auth]
#[get("/me")]
async fn me() -> &'static str {
    "me"
}

#[require_role("admin")]
#[get("/admin")]
async fn admin() -> &'static str {
    "hello, admin"
}

fn main() {
    let _app = App::new().service(me).service(admin);
}
