use actix_web::HttpRequest;
use route_guard::{Identity, require};

async fn answers_text(_: &Identity, _: &HttpRequest) -> String {
    "yes".to_owned()
}

#[require(any(role("admin"), policy(answers_text)))]
async fn handler() -> &'static str {
    "ok"
}

fn main() {}
