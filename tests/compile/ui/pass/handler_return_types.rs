//! The return type stays exactly as written: `Result<_, actix_web::Error>` and `impl Responder`.
#![deny(warnings)]

use actix_web::{App, HttpResponse, Responder, get, web};
use route_guard::{require_auth, require_role};

#[get("/result")]
#[require_role("admin")]
async fn result() -> Result<HttpResponse, actix_web::Error> {
    Ok(HttpResponse::Ok().body("ok"))
}

#[require_auth]
async fn result_wired() -> Result<HttpResponse, actix_web::Error> {
    Err(actix_web::error::ErrorNotFound("nothing here"))
}

#[require_auth]
#[get("/responder")]
async fn responder() -> impl Responder {
    web::Json(vec![1, 2, 3])
}

#[require_role("admin")]
async fn responder_wired() -> impl Responder {
    "ok"
}

fn main() {
    let _app = App::new()
        .service(result)
        .service(responder)
        .route("/result/wired", web::get().to(result_wired))
        .route("/responder/wired", web::get().to(responder_wired));
}
