use route_guard::require_role;

#[require_role("ad min")]
async fn handler() -> &'static str {
    "ok"
}

fn main() {}
