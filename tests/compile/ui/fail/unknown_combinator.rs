use route_guard::require_role;

#[require_role(one("a"))]
async fn handler() -> &'static str {
    "ok"
}

fn main() {}
