//! `#[routes]` with several method attributes: the guard goes above, below or between them.
#![deny(warnings)]

use actix_web::{App, routes};
use route_guard::{require_auth, require_role};

#[routes]
#[get("/below")]
#[post("/below")]
#[require_role("admin")]
async fn below() -> &'static str {
    "ok"
}

#[require_auth]
#[routes]
#[get("/above")]
#[post("/above")]
async fn above() -> &'static str {
    "ok"
}

#[routes]
#[get("/between")]
#[require_auth]
#[post("/between")]
async fn between() -> &'static str {
    "ok"
}

fn main() {
    let _app = App::new().service(below).service(above).service(between);
}
