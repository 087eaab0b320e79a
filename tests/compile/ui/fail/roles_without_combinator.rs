use route_guard::require_role;

#[require_role("a", "b")]
async fn handler() -> &'static str {
    "ok"
}

fn main() {}
