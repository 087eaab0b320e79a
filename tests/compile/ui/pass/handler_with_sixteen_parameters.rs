//! 15 parameters of the handler's own plus the guard make 16, the most actix-web's `Handler`
//! is implemented for.
#![deny(warnings)]

use actix_web::http::{Method, Uri};
use actix_web::{App, HttpRequest, web};
use route_guard::{Authenticated, require_role};

#[require_role("admin")]
async fn fifteen(
    a: HttpRequest,
    b: Method,
    c: Uri,
    d: web::Path<(u32, u32)>,
    e: web::Query<Vec<(String, String)>>,
    f: Authenticated,
    g: Option<web::Data<String>>,
    h: HttpRequest,
    i: HttpRequest,
    j: HttpRequest,
    k: HttpRequest,
    l: HttpRequest,
    m: HttpRequest,
    n: HttpRequest,
    o: String,
) -> String {
    let requests = [a, h, i, j, k, l, m, n].len();
    format!(
        "{b} {c} {:?} {} {} {} {requests} {o}",
        d.into_inner(),
        e.len(),
        f.subject(),
        g.is_some(),
    )
}

fn main() {
    let _app = App::new().route("/{x}/{y}", web::post().to(fifteen));
}
