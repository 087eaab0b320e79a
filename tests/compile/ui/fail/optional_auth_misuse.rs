//! `#[optional_auth]` documents a handler that takes `MaybeAuthenticated`: on any other it is
//! refused, and, like the guards, it goes above `#[utoipa::path]`.

use actix_web::get;
use route_guard::{MaybeAuthenticated, optional_auth};

#[optional_auth]
async fn no_extractor() -> &'static str {
    "who?"
}

#[optional_auth(anyone)]
async fn with_arguments(_user: MaybeAuthenticated) -> &'static str {
    "hi"
}

#[utoipa::path(responses((status = 200, description = "hello")))]
#[get("/hello")]
#[optional_auth]
async fn hello(_user: MaybeAuthenticated) -> &'static str {
    "hello"
}

fn main() {}
