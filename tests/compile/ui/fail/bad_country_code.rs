use route_guard::{allow_countries, block_countries};

#[allow_countries("DE", "de", "XX")]
async fn first() -> &'static str {
    "first"
}

#[block_countries("FR", "FR")]
async fn second() -> &'static str {
    "second"
}

fn main() {}
