//! An OpenAPI document for a guarded app, served at `/openapi.json`: every operation's
//! security, refusals and the security schemes come from the guards and the `RouteGuard`.
//!
//! ```sh
//! cargo run --example openapi
//! curl http://127.0.0.1:8080/openapi.json
//! ```
//!
//! `tests/tests/openapi.rs` validates the document and checks each operation against its guard.

use actix_web::web::{self, Json, ServiceConfig};
use actix_web::{App, HttpServer, get};
use route_guard::{
    ApiKeyAuthenticator, Argon2Users, Authenticated, BasicAuthenticator, ConfigError, GuardScope,
    JwtAuthenticator, JwtKey, RouteGuard, hash_password, require, require_auth, require_role,
    require_scope, rule,
};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify as _, OpenApi};

/// The development secret the demo verifies HS256 tokens with.
pub const DEV_SECRET: &str = "openapi example: a development secret of 32+ bytes";

#[require_auth]
#[utoipa::path(responses((status = 200, description = "The caller's subject")))]
#[get("/me")]
async fn me(user: Authenticated) -> String {
    user.subject().to_owned()
}

#[require_role(any("admin", "auditor"))]
#[utoipa::path(responses((status = 200, description = "The numbers")))]
#[get("/reports")]
async fn reports() -> &'static str {
    "numbers"
}

#[require_scope("read:items")]
#[utoipa::path(responses(
    (status = 200, description = "One item"),
    (status = 404, description = "No such item"),
))]
#[get("/items/{id}")]
async fn read_item(id: web::Path<u32>) -> String {
    format!("item {id}")
}

/// Operators: from the internal network without credentials, or as an admin from anywhere;
/// everyone else is told there is no such route.
#[require(any(role("admin"), ip("10.0.0.0/8")), hide)]
#[utoipa::path(responses((status = 200, description = "Operations status")))]
#[get("/ops")]
async fn ops() -> &'static str {
    "ops"
}

/// Inside the `/admin` scope, guarded by its `GuardScope`.
#[utoipa::path(get, path = "/admin/users", responses((status = 200, description = "The users")))]
async fn admin_users() -> &'static str {
    "users"
}

/// Exempt from the `/admin` scope's guard.
#[utoipa::path(get, path = "/admin/health", responses((status = 200, description = "Up")))]
async fn admin_health() -> &'static str {
    "ok"
}

#[derive(OpenApi)]
#[openapi(paths(me, reports, read_item, ops, admin_users, admin_health))]
struct ApiDoc;

/// The `/admin` scope's guard.
pub fn admin_scope() -> GuardScope {
    GuardScope::new(rule!(role("admin"))).exempt("/admin/health")
}

/// Bearer JWTs, Basic logins for `olga`, and an API key for the nightly export job.
pub fn guard(secret: &str) -> Result<RouteGuard, ConfigError> {
    let jwt = JwtAuthenticator::builder()
        .key(JwtKey::hs256(secret)?)
        .build()?;
    let hash = hash_password("olga's password")?;
    let users = BasicAuthenticator::new(Argon2Users::new().user("olga", &hash, ["auditor"])?)?;
    let keys = ApiKeyAuthenticator::builder()
        .key(
            "a long random key for the nightly export job",
            "export-job",
            ["auditor"],
        )
        .build()?;
    RouteGuard::builder(jwt)
        .or(users)
        .or(keys)
        .realm("openapi-example")
        .build()
}

/// The document: what utoipa generates, documented by the guard.
pub fn document(guard: &RouteGuard) -> Document {
    let mut doc = ApiDoc::openapi();
    guard
        .openapi()
        .scope("/admin", &admin_scope())
        .modify(&mut doc);
    doc
}

/// The routes, `/openapi.json` included.
pub fn routes(doc: Document) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        cfg.service(me)
            .service(reports)
            .service(read_item)
            .service(ops)
            .service(
                web::scope("/admin")
                    .wrap(admin_scope())
                    .route("/users", web::get().to(admin_users))
                    .route("/health", web::get().to(admin_health)),
            )
            .route(
                "/openapi.json",
                web::get().to(move || {
                    let doc = doc.clone();
                    async move { Json(doc) }
                }),
            );
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("OPENAPI_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let guard = guard(DEV_SECRET)?;
    let doc = document(&guard);
    println!("the document: curl http://{addr}/openapi.json");
    HttpServer::new(move || {
        App::new()
            .app_data(guard.clone())
            .configure(routes(doc.clone()))
    })
    .bind(&addr)?
    .run()
    .await?;
    Ok(())
}
