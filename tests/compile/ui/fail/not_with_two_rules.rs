use route_guard::require_role;

#[require_role(not("guest", "banned"))]
async fn handler() -> &'static str {
    "ok"
}

fn main() {}
