use route_guard::require_role;

#[require_role]
async fn handler() -> &'static str {
    "ok"
}

fn main() {}
