use route_guard::require_role;

struct Service;

impl Service {
    #[require_role("admin")]
    async fn handler(&self) -> &'static str {
        "ok"
    }
}

fn main() {}
