use route_guard::require_auth;

#[require_auth("x")]
async fn handler() -> &'static str {
    "ok"
}

fn main() {}
