use route_guard::{require, require_scope};

#[require(scope(read_items))]
async fn first() -> &'static str {
    "first"
}

#[require_scope(42)]
async fn second() -> &'static str {
    "second"
}

fn main() {}
