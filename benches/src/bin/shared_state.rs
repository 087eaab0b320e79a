//! Revocations shared through Redis, measured (`benches/shared_state.sh` drives it):
//!
//! - `shared_state serve ADDR REDIS_URL`: one actix worker with `/unguarded/admin` (no guard)
//!   and `/rg/admin` (`#[require_role("admin")]`, verified-token cache, revocations through a
//!   `RedisStore` holding 10,000 revoked tokens and 1,000 subjects logged out, so that every
//!   request looks its token up in a full view), and `/rg-memory/admin`, the same route with
//!   the default in-memory store and nothing revoked (the cached route as it was before);
//! - `shared_state token`: the HS256 admin token (with a `jti`) wrk sends;
//! - `shared_state propagation REDIS_URL N`: two guards (instances A and B, each with its own
//!   `RedisStore` and connections); N times, revoke a fresh token on A and ask B's route for it
//!   until B refuses it; prints the p50, p99 and max of those delays.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpServer, test, web};
use jsonwebtoken::Algorithm;
use route_guard::store::RedisStore;
use route_guard::{RouteGuard, TokenCache};
use route_guard_benches::routes::{guarded, unguarded};
use route_guard_benches::{ISSUER, authenticator, claims, signer};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn token(jti: &str) -> String {
    let mut claims = claims("alice", &["admin", "user"]);
    if let Some(map) = claims.as_object_mut() {
        map.insert("jti".to_owned(), jti.into());
    }
    signer(Algorithm::HS256).sign(&claims)
}

async fn instance(url: &str, prefix: &str) -> std::io::Result<RouteGuard> {
    let store = RedisStore::builder(url)
        .prefix(prefix)
        .connect()
        .await
        .map_err(std::io::Error::other)?;
    let jwt = authenticator(
        [signer(Algorithm::HS256).key],
        Some(TokenCache::new(10_000)),
    );
    RouteGuard::builder(jwt)
        .shared_store(store)
        .build()
        .map_err(std::io::Error::other)
}

async fn serve(addr: &str, url: &str) -> std::io::Result<()> {
    let guard = instance(url, "bench-load:").await?;
    let revocations = guard.revocations();
    let exp = now() + 3600;
    for n in 0..10_000 {
        revocations
            .revoke(ISSUER, &format!("revoked-{n}"), exp)
            .await
            .map_err(std::io::Error::other)?;
    }
    for n in 0..1_000 {
        revocations
            .revoke_subject(ISSUER, &format!("gone-{n}"), now())
            .await
            .map_err(std::io::Error::other)?;
    }
    let memory = RouteGuard::new(authenticator(
        [signer(Algorithm::HS256).key],
        Some(TokenCache::new(10_000)),
    ));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(guard.clone())
            .service(web::scope("/unguarded").service(unguarded))
            .service(web::scope("/rg").service(guarded))
            .service(
                web::scope("/rg-memory")
                    .app_data(memory.clone())
                    .service(guarded),
            )
    })
    .workers(1)
    .bind(addr)?;
    eprintln!("shared_state: listening on {addr}");
    server.run().await
}

async fn propagation(url: &str, rounds: usize) -> std::io::Result<()> {
    let prefix = format!("bench-propagation-{}:", now());
    let (a, b) = (instance(url, &prefix).await?, instance(url, &prefix).await?);
    let app_b = test::init_service(App::new().app_data(b).service(guarded)).await;
    let status = |token: &str| {
        let req = test::TestRequest::get()
            .uri("/admin")
            .insert_header(("Authorization", format!("Bearer {token}")))
            .to_request();
        test::call_service(&app_b, req)
    };
    // B is ready once it has loaded the (empty) view.
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(&token("warm-up")).await.status() != 200 {
        if Instant::now() > deadline {
            return Err(std::io::Error::other("instance B never became ready"));
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    let exp = now() + 3600;
    let mut delays = Vec::with_capacity(rounds);
    for n in 0..rounds {
        let jti = format!("propagation-{n}");
        let token = token(&jti);
        // B has verified and cached the token: the revocation must beat the cache.
        if status(&token).await.status() != 200 {
            return Err(std::io::Error::other("a fresh token was refused"));
        }
        let started = Instant::now();
        a.revocations()
            .revoke(ISSUER, &jti, exp)
            .await
            .map_err(std::io::Error::other)?;
        loop {
            if status(&token).await.status() == 401 {
                break;
            }
            if started.elapsed() > Duration::from_secs(10) {
                return Err(std::io::Error::other("B never refused a revoked token"));
            }
            actix_web::rt::task::yield_now().await;
        }
        delays.push(started.elapsed());
    }
    delays.sort();
    let at = |q: f64| {
        let index = ((delays.len() as f64 * q).ceil() as usize).saturating_sub(1);
        delays.get(index).copied().unwrap_or_default()
    };
    println!(
        "revocations: {rounds}; propagation A -> B: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
    Ok(())
}

fn run(future: impl Future<Output = std::io::Result<()>>) -> std::io::Result<()> {
    actix_web::rt::System::new().block_on(future)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["token"] => {
            println!("{}", token("load"));
            Ok(())
        }
        ["serve", addr, url] => run(serve(addr, url)),
        ["propagation", url, rounds] => {
            let rounds = rounds.parse().map_err(std::io::Error::other)?;
            run(propagation(url, rounds))
        }
        _ => {
            eprintln!("usage: shared_state token | serve ADDR REDIS_URL | propagation REDIS_URL N");
            std::process::exit(2);
        }
    }
}
