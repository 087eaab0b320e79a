//! A guarded handler that reads the caller's claims into the application's own serde type.
#![deny(warnings)]

use actix_web::{App, get, web};
use route_guard::{Authenticated, require_auth, require_role};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct MyClaims {
    tenant: String,
    #[serde(default)]
    plan: Option<String>,
}

#[get("/tenant")]
#[require_role("admin")]
async fn tenant(user: Authenticated<MyClaims>) -> String {
    format!("{} of {}", user.subject(), user.claims().tenant)
}

#[require_auth]
async fn plan(user: Authenticated<MyClaims>) -> String {
    let claims = user.into_claims();
    format!("{claims:?}: {}", claims.plan.as_deref().unwrap_or("free"))
}

fn main() {
    let _app = App::new()
        .service(tenant)
        .route("/plan", web::get().to(plan));
}
