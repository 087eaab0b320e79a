#![deny(warnings)]

use route_guard::{require, require_role, require_scope};

#[require_role(any("admin", "editor"))]
async fn drafts() -> &'static str {
    "drafts"
}

#[require_scope("write:items")]
async fn write() -> &'static str {
    "written"
}

#[require(all(role("viewer"), permission("items:delete"), scope("read:items")))]
async fn delete() -> &'static str {
    "deleted"
}

#[require(any(scheme("scraper"), all(issuer("partners"), acr("hwk", max_age = 60))))]
async fn metrics() -> &'static str {
    "metrics"
}

fn main() {
    let _ = (drafts, write, delete, metrics);
    // Protected-resource metadata lists the declared scopes.
    let scopes: &[&str] = route_guard::declared_scopes!();
    assert_eq!(scopes, ["read:items", "write:items"]);
}
