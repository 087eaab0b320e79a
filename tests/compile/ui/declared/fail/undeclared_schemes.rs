use route_guard::require;

#[require(scheme("scrapper"))]
async fn metrics() -> &'static str {
    "metrics"
}

#[require(any(issuer("stafff"), issuer("partners")))]
async fn me() -> &'static str {
    "me"
}

fn main() {}
