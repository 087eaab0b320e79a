//! Handlers with generics, a `where` clause, doc comments and a raw identifier as name: the
//! signature is kept as written, and a marker type (a rule with a predicate has one) is named
//! from the name without `r#`.
#![deny(warnings)]

use std::fmt::Display;

use actix_web::{App, web};
use route_guard::{Identity, require, require_auth, require_role};

/// Shows the application's data, whatever its type.
#[require_role("admin")]
async fn show<T>(data: web::Data<T>) -> String
where
    T: Display + 'static,
{
    data.to_string()
}

#[require_auth]
async fn r#type() -> &'static str {
    "ok"
}

async fn owner(_: &Identity, _: &actix_web::HttpRequest) -> bool {
    true
}

#[require(policy(owner))]
async fn r#match() -> &'static str {
    "ok"
}

fn main() {
    let _app = App::new()
        .app_data(web::Data::new(String::from("data")))
        .route("/show", web::get().to(show::<String>))
        .route("/type", web::get().to(r#type))
        .route("/match", web::get().to(r#match));
}
