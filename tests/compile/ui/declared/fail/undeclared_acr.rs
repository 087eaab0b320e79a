use route_guard::require;

#[require(acr("mfaa", max_age = 300))]
async fn transfer() -> &'static str {
    "transferred"
}

fn main() {}
