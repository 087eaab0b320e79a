use route_guard::{require, require_role, require_scope};

#[require_role(any("admni", "editor"))]
async fn drafts() -> &'static str {
    "drafts"
}

#[require_scope("write:itmes")]
async fn write() -> &'static str {
    "written"
}

#[require(all(role("superuser"), permission("items:purge")))]
async fn purge() -> &'static str {
    "purged"
}

fn main() {}
