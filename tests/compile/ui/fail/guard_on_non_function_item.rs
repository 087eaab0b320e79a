use route_guard::{require_auth, require_role};

#[require_auth]
struct Claims;

struct Service;

#[require_role("admin")]
impl Service {
    async fn handler() -> &'static str {
        "ok"
    }
}

#[require_role("admin")]
const ADMIN: &str = "admin";

fn main() {}
