//! 16 parameters of the handler's own, the most actix-web extracts: the guard takes them over
//! and extracts them, as one tuple, after it passed.
#![deny(warnings)]

use actix_web::http::{Method, Uri};
use actix_web::{App, HttpRequest, web};
use route_guard::{Authenticated, require_role};

#[require_role("admin")]
async fn sixteen(
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
    p: HttpRequest,
) -> String {
    let requests = [a, h, i, j, k, l, m, n, p].len();
    format!(
        "{b} {c} {:?} {} {} {} {requests} {o}",
        d.into_inner(),
        e.len(),
        f.subject(),
        g.is_some(),
    )
}

fn main() {
    let _app = App::new().route("/{x}/{y}", web::post().to(sixteen));
}
