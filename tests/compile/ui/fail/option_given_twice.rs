use route_guard::require_role;

#[require_role("admin", hide, hide)]
async fn handler() -> &'static str {
    "ok"
}

fn main() {}
