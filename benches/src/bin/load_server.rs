//! The load-test server: one actix worker carrying, side by side,
//!
//! - `/unguarded/admin`: no guard at all, the ceiling;
//! - `/rg/admin`: `#[require_role("admin")]` with the verified-token cache (the default);
//! - `/rg-nocache/admin`: the same handler, every request verified;
//! - `/peer/{hs256,rs256,es256,eddsa}/admin`: actix-web-httpauth + jsonwebtoken +
//!   actix-web-grants' `#[protect("admin")]`, wired as actix-web-grants' JWT example;
//! - `/reports`: the same rule for DPoP-bound tokens (RFC 9449), each request with a fresh
//!   EdDSA proof; `load_server dpop-proofs N` prints the bound token, then N proofs, one a
//!   line, for `benches/dpop_load.sh`.
//!
//! route-guard's authenticator holds all four keys; the token's algorithm picks the key, as an
//! identity provider's JWKS would. `load_server tokens` prints one admin token per algorithm
//! for `benches/load.sh`; `load_server serve [ADDR]` serves on ADDR (default 127.0.0.1:8089).
//!
//! Built with the `metrics` feature, it installs the Prometheus recorder, so that every guard
//! decision is recorded as in production, and serves what it recorded on `/metrics`.

use actix_web::{App, HttpServer, get, web};
use actix_web_httpauth::middleware::HttpAuthentication;
use route_guard::{RouteGuard, TokenCache, require_role};
use route_guard_benches::dpop::{DpopClient, PATH};
use route_guard_benches::peer::{PeerVerifier, validator};
use route_guard_benches::routes::{guarded, unguarded};
use route_guard_benches::{ALGORITHMS, authenticator, signer};

#[require_role("admin")]
async fn guarded_dpop() -> &'static str {
    "ok"
}

#[get("/admin")]
#[actix_web_grants::protect("admin")]
async fn peer() -> &'static str {
    "ok"
}

fn print_tokens() {
    for algorithm in ALGORITHMS {
        let token = signer(algorithm).token("alice", &["admin", "user"]);
        println!("{algorithm:?} {token}");
    }
}

/// The bound token and `count` proofs of it, one a line.
fn print_proofs(count: usize) {
    let client = DpopClient::new(jsonwebtoken::Algorithm::EdDSA, count);
    println!("{}", client.token);
    for proof in &client.proofs {
        println!("{proof}");
    }
}

async fn serve(addr: &str) -> std::io::Result<()> {
    let dpop = RouteGuard::new(DpopClient::new(jsonwebtoken::Algorithm::EdDSA, 0).authenticator());
    let signers: Vec<_> = ALGORITHMS.into_iter().map(signer).collect();
    let keys = || signers.iter().map(|s| s.key.clone());
    let cached = RouteGuard::new(authenticator(keys(), Some(TokenCache::new(10_000))));
    let uncached = RouteGuard::new(authenticator(keys(), None));
    let peers: Vec<_> = signers
        .iter()
        .map(|s| {
            (
                format!("/peer/{:?}", s.algorithm).to_lowercase(),
                PeerVerifier::new(s),
            )
        })
        .collect();
    #[cfg(feature = "metrics")]
    let recorder = web::Data::new(
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .set_buckets(route_guard::observe::DURATION_BUCKETS)
            .map_err(std::io::Error::other)?
            .install_recorder()
            .map_err(std::io::Error::other)?,
    );
    // Folds histogram samples into their summaries, as an application must without the
    // exporter's HTTP listener; otherwise they pile up for the whole run.
    #[cfg(feature = "metrics")]
    {
        let upkeep = recorder.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
                upkeep.run_upkeep();
            }
        });
    }
    let server = HttpServer::new(move || {
        let app = App::new();
        #[cfg(feature = "metrics")]
        let app = app.app_data(recorder.clone()).route(
            "/metrics",
            web::get().to(
                |handle: web::Data<metrics_exporter_prometheus::PrometheusHandle>| async move {
                    handle.render()
                },
            ),
        );
        let mut app = app
            .app_data(cached.clone())
            .service(web::scope("/unguarded").service(unguarded))
            .service(web::scope("/rg").service(guarded))
            .service(
                web::scope("/rg-nocache")
                    .app_data(uncached.clone())
                    .service(guarded),
            );
        app = app.service(
            web::resource(PATH)
                .app_data(dpop.clone())
                .route(web::get().to(guarded_dpop)),
        );
        for (path, verifier) in &peers {
            let auth = HttpAuthentication::bearer(validator(verifier.clone()));
            app = app.service(web::scope(path).wrap(auth).service(peer));
        }
        app
    })
    .workers(1)
    .bind(addr)?;
    eprintln!("load_server: listening on {addr}");
    server.run().await
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["tokens"] => {
            print_tokens();
            Ok(())
        }
        ["dpop-proofs", count] => {
            print_proofs(count.parse().unwrap_or(0));
            Ok(())
        }
        ["serve"] => actix_web::rt::System::new().block_on(serve("127.0.0.1:8089")),
        ["serve", addr] => actix_web::rt::System::new().block_on(serve(addr)),
        _ => {
            eprintln!(
                "usage: load_server tokens | load_server dpop-proofs N | \
                 load_server serve [127.0.0.1:PORT]"
            );
            std::process::exit(2);
        }
    }
}
