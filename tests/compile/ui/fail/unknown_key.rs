use route_guard::require;

#[require(owner = crate::owns)]
async fn handler() -> &'static str {
    "ok"
}

fn main() {}
