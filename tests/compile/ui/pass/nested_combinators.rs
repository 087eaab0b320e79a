//! `any(...)`, `all(...)` and `not(...)` nest to any depth, and a trailing comma is accepted.
#![deny(warnings)]

use actix_web::{App, get};
use route_guard::require_role;

#[get("/any")]
#[require_role(any("admin", "auditor"))]
async fn any_of_two() -> &'static str {
    "ok"
}

#[get("/all")]
#[require_role(all("finance", "manager"))]
async fn all_of_two() -> &'static str {
    "ok"
}

#[get("/all-any")]
#[require_role(all("finance", any("manager", "director")))]
async fn all_of_any() -> &'static str {
    "ok"
}

#[get("/any-all")]
#[require_role(any("admin", all("finance", any("manager", "director"),),))]
async fn any_of_all_of_any() -> &'static str {
    "ok"
}

#[get("/all-not")]
#[require_role(all("staff", not("intern"), any("admin", not(all("contractor", "remote")))))]
async fn all_not() -> &'static str {
    "ok"
}

#[get("/single")]
#[require_role(any("admin"))]
async fn single() -> &'static str {
    "ok"
}

fn main() {
    let _app = App::new()
        .service(any_of_two)
        .service(all_of_two)
        .service(all_of_any)
        .service(any_of_all_of_any)
        .service(all_not)
        .service(single);
}
