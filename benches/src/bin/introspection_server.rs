//! The introspection load server: one actix worker carrying, side by side,
//!
//! - `/unguarded/admin`: no guard at all, the ceiling;
//! - `/opaque/admin`: `#[require_role("admin")]` behind an [`IntrospectionAuthenticator`],
//!   whose cache answers every request after the first.
//!
//! The introspection endpoint it asks is served by the same process on another port (its own
//! worker), answering every token active with the role `admin`: once per token, since the
//! answer is then cached. `introspection_server serve [ADDR]` serves on ADDR (default
//! 127.0.0.1:8090) and the endpoint on the next port; `benches/introspection.sh` drives it.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use route_guard::{IntrospectionAuthenticator, RouteGuard};
use route_guard_benches::routes::{guarded, unguarded};
use serde_json::json;

/// The endpoint: every token is alice's, an admin, for an hour.
async fn introspect() -> HttpResponse {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 3600;
    HttpResponse::Ok().json(json!({
        "active": true, "sub": "alice", "roles": ["admin", "user"], "scope": "read",
        "iss": route_guard_benches::ISSUER, "aud": route_guard_benches::AUDIENCE,
        "exp": exp, "token_type": "Bearer", "client_id": "bench-client",
    }))
}

async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let endpoint_addr = SocketAddr::new(addr.ip(), addr.port() + 1);
    let endpoint = HttpServer::new(|| App::new().route("/introspect", web::post().to(introspect)))
        .workers(1)
        .bind(endpoint_addr)?
        .run();
    let opaque = IntrospectionAuthenticator::builder()
        .endpoint(format!("http://{endpoint_addr}/introspect"))
        .client_secret_basic("bench-api", "bench-secret")
        .issuer(route_guard_benches::ISSUER)
        .audience(route_guard_benches::AUDIENCE)
        .cache_ttl(Duration::from_secs(600))
        .build()
        .map_err(std::io::Error::other)?;
    let guard = RouteGuard::new(opaque);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(guard.clone())
            .service(web::scope("/unguarded").service(unguarded))
            .service(web::scope("/opaque").service(guarded))
    })
    .workers(1)
    .bind(addr)?
    .run();
    eprintln!("introspection_server: listening on {addr}, endpoint on {endpoint_addr}");
    let (served, _) = futures_join(server, endpoint).await;
    served
}

/// Runs both servers until the first ends.
async fn futures_join(
    a: actix_web::dev::Server,
    b: actix_web::dev::Server,
) -> (std::io::Result<()>, std::io::Result<()>) {
    let b = actix_web::rt::spawn(b);
    let a = a.await;
    b.abort();
    (a, Ok(()))
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["serve"] => "127.0.0.1:8090".to_owned(),
        ["serve", addr] => (*addr).to_owned(),
        _ => {
            eprintln!("usage: introspection_server serve [127.0.0.1:PORT]");
            std::process::exit(2);
        }
    };
    let addr: SocketAddr = addr.parse().map_err(std::io::Error::other)?;
    actix_web::rt::System::new().block_on(serve(addr))
}
