use route_guard::require;

#[require(any("admin", role("auditor")))]
async fn handler() -> &'static str {
    "ok"
}

fn main() {}
