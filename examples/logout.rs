//! Logout that holds on every instance: tokens revoked by `jti`, or every token of a subject
//! ("log out everywhere"), shared through Redis when `LOGOUT_REDIS_URL` is set, in memory
//! otherwise.
//!
//! ```text
//! LOGOUT_REDIS_URL=redis://127.0.0.1:6379/ cargo run -p route-guard-examples --example logout
//! TOKEN=$(…printed at start…)
//! curl -H "Authorization: Bearer $TOKEN" localhost:8080/me                 # 200
//! curl -X POST -H "Authorization: Bearer $TOKEN" localhost:8080/logout     # 204
//! curl -H "Authorization: Bearer $TOKEN" localhost:8080/me                 # 401 invalid_token, revoked
//! ```
//!
//! Run several instances on different `LOGOUT_ADDR`s against one Redis: a logout on one is
//! refused on all of them.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, get, post, web};
use jsonwebtoken::{EncodingKey, Header};
use route_guard::store::{MemoryStore, RedisStore, SharedStore, StoreError};
use route_guard::{Authenticated, ConfigError, JwtAuthenticator, JwtKey, RouteGuard, require_auth};
use serde_json::json;

/// The HS256 secret the example's tokens are signed with, unless `LOGOUT_SECRET` says otherwise.
pub const DEV_SECRET: &str = "logout example development secret - change me in production";
/// The `iss` and `aud` of this example's tokens.
pub const ISSUER: &str = "logout-example";

#[get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> HttpResponse {
    HttpResponse::Ok().body(format!("hello, {}\n", user.subject()))
}

/// Revokes the token the request carries, on every instance.
#[post("/logout")]
#[require_auth]
async fn logout(user: Authenticated, req: HttpRequest) -> HttpResponse {
    let revoked = match req.app_data::<RouteGuard>() {
        Some(guard) => guard.revocations().revoke_identity(user.identity()).await,
        None => Err(StoreError::new("no RouteGuard")),
    };
    answer(revoked)
}

/// Revokes every token of the caller issued until now, on every instance.
#[post("/logout-everywhere")]
#[require_auth]
async fn logout_everywhere(user: Authenticated, req: HttpRequest) -> HttpResponse {
    let revoked = match req.app_data::<RouteGuard>() {
        Some(guard) => guard.revocations().revoke_subject_of(user.identity()).await,
        None => Err(StoreError::new("no RouteGuard")),
    };
    answer(revoked)
}

/// 204 once every instance will refuse the token; 503 if the store did not take it (this
/// instance refuses it already, the others may not: the client should try again).
fn answer(revoked: Result<(), StoreError>) -> HttpResponse {
    match revoked {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => {
            tracing::error!(error = %e, "logout not shared");
            HttpResponse::ServiceUnavailable()
                .insert_header(("Retry-After", "5"))
                .finish()
        }
    }
}

/// The example's routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(me)
        .service(logout)
        .service(logout_everywhere);
}

/// The guard: HS256 tokens from `secret`, revocations shared through `store`.
pub fn guard(secret: &str, store: impl SharedStore) -> Result<RouteGuard, ConfigError> {
    let jwt = JwtAuthenticator::builder()
        .key(JwtKey::hs256(secret)?)
        .issuer(ISSUER)
        .audience(ISSUER)
        .build()?;
    RouteGuard::builder(jwt)
        .realm("logout")
        .shared_store(store)
        .build()
}

/// A token for `sub` with the identifier `jti`, valid for an hour.
pub fn mint(secret: &str, sub: &str, jti: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = json!({
        "iss": ISSUER, "aud": ISSUER, "sub": sub, "jti": jti, "iat": now, "exp": now + 3600,
    });
    let key = EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&Header::default(), &claims, &key).unwrap_or_default()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,route_guard=debug")),
        )
        .init();
    let secret = std::env::var("LOGOUT_SECRET").unwrap_or_else(|_| DEV_SECRET.to_owned());
    let addr = std::env::var("LOGOUT_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    // One guard for every worker, built on the main runtime: one subscription per process.
    let guard = match std::env::var("LOGOUT_REDIS_URL") {
        Ok(url) => {
            let store = RedisStore::builder(url)
                .prefix("logout-example:")
                .connect()
                .await
                .map_err(std::io::Error::other)?;
            guard(&secret, store)
        }
        Err(_) => guard(&secret, MemoryStore::new()),
    }
    .map_err(std::io::Error::other)?;
    let server = HttpServer::new(move || App::new().app_data(guard.clone()).configure(routes))
        .workers(2)
        .bind(&addr)?;
    println!("logout example listening on http://{addr}");
    println!("a token for ada: {}\n", mint(&secret, "ada", "first-login"));
    server.run().await
}
