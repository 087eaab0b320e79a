//! A guard written below `#[get]`: the route macro expands first and nests the handler inside
//! its `register()`, where the guard then expands.
#![deny(warnings)]

use actix_web::{App, get};
use route_guard::{require_auth, require_role};

#[get("/me")]
#[require_auth]
async fn me() -> &'static str {
    "me"
}

#[get("/admin")]
#[require_role("admin")]
async fn admin() -> &'static str {
    "hello, admin"
}

fn main() {
    let _app = App::new().service(me).service(admin);
}
