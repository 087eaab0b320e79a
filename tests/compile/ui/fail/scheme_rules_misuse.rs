use route_guard::require;

#[require(all(scheme("bearer"), scheme("basic")))]
async fn both() -> &'static str {
    "a request has one scheme"
}

#[require(all(issuer("staff"), issuer("partners")))]
async fn two_issuers() -> &'static str {
    "a token has one issuer"
}

#[require(authenticated("anyone"))]
async fn with_arguments() -> &'static str {
    "authenticated takes none"
}

#[require(scheme())]
async fn no_name() -> &'static str {
    "which scheme?"
}

#[require(scheme("api key"))]
async fn spaced() -> &'static str {
    "names have no spaces"
}

fn main() {}
