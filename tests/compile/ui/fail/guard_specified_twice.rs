use route_guard::require_role;

#[require_role("admin")]
#[require_role("admin")]
async fn handler() -> &'static str {
    "ok"
}

fn main() {}
