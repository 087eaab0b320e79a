//! A guarded handler with no route macro, registered with `web::get().to(handler)`.
#![deny(warnings)]

use actix_web::{App, HttpResponse, web};
use route_guard::{require_auth, require_role};

#[require_auth]
async fn me() -> HttpResponse {
    HttpResponse::Ok().body("me")
}

#[require_role("admin")]
async fn admin() -> HttpResponse {
    HttpResponse::Ok().body("hello, admin")
}

fn main() {
    let _app = App::new()
        .route("/me", web::get().to(me))
        .service(web::resource("/admin").route(web::post().to(admin)));
}
