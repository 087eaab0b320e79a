use actix_web::HttpRequest;
use route_guard::require_auth;

#[require_auth]
async fn handler(
    a: HttpRequest,
    b: HttpRequest,
    c: HttpRequest,
    d: HttpRequest,
    e: HttpRequest,
    f: HttpRequest,
    g: HttpRequest,
    h: HttpRequest,
    i: HttpRequest,
    j: HttpRequest,
    k: HttpRequest,
    l: HttpRequest,
    m: HttpRequest,
    n: HttpRequest,
    o: HttpRequest,
    p: HttpRequest,
    q: HttpRequest,
) -> usize {
    [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q].len()
}

fn main() {}
