//! The `/admin` route the benchmark servers mount, without a guard (the ceiling) and with
//! `#[require_role("admin")]`, each under a scope of the server's choosing.

// actix-web's route macros turn each function into a service struct and nest the function,
// `pub` and all, inside its registration, where the lint sees a `pub` it cannot reach.
#![allow(unreachable_pub)]

use actix_web::get;
use route_guard::require_role;

/// `/admin` with no guard at all.
#[get("/admin")]
pub async fn unguarded() -> &'static str {
    "ok"
}

/// `/admin` for admins only.
#[get("/admin")]
#[require_role("admin")]
pub async fn guarded() -> &'static str {
    "ok"
}
