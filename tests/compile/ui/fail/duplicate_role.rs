use route_guard::require_role;

#[require_role(any("a", "a"))]
async fn handler() -> &'static str {
    "ok"
}

fn main() {}
