use actix_web::HttpRequest;
use route_guard::{Identity, require};

async fn takes_only_the_identity(identity: &Identity) -> bool {
    identity.subject() == "root"
}

fn not_async(_: &Identity, _: &HttpRequest) -> bool {
    true
}

#[require(policy(takes_only_the_identity))]
async fn first() -> &'static str {
    "first"
}

#[require(policy = not_async)]
async fn second() -> &'static str {
    "second"
}

fn main() {}
