//! Typed roles, OAuth scopes and an ownership predicate, side by side.
//!
//! ```text
//! cargo run --example policies
//! ```
//!
//! Listens on `POLICIES_ADDR` (default 127.0.0.1:8081) and prints `curl` lines to try.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpRequest, HttpServer, get, put, web};
use jsonwebtoken::{EncodingKey, Header};
use route_guard::{
    ConfigError, Identity, JwtAuthenticator, JwtKey, RoleHierarchy, RoleName, RouteGuard, require,
    require_role, require_scope,
};
use serde_json::json;

/// The secret of this demo; never use a literal secret in production.
pub const SECRET: &str = "policies example secret, at least 32 bytes";

/// The application's roles, declared once. `Role::Admni` would not compile.
#[derive(Clone, Copy, RoleName)]
pub enum Role {
    /// Everything, including what editors may do.
    Admin,
    /// Edits any document.
    Editor,
    /// Reads.
    Viewer,
}

/// Who owns which document: the application's own data, as a database would hold it.
#[derive(Default)]
pub struct Documents(Mutex<HashMap<u32, String>>);

/// An editor of the document: its owner. Reads app data and the path, as a policy may.
pub async fn owns_document(identity: &Identity, req: &HttpRequest) -> bool {
    let id = req
        .match_info()
        .get("id")
        .and_then(|id| id.parse::<u32>().ok());
    let documents = req.app_data::<web::Data<Documents>>();
    match (id, documents) {
        (Some(id), Some(documents)) => documents.0.lock().is_ok_and(|owners| {
            owners
                .get(&id)
                .is_some_and(|owner| owner == identity.subject())
        }),
        _ => false,
    }
}

#[get("/documents")]
#[require_role(Role::Viewer)]
async fn list_documents() -> &'static str {
    "[1, 2]\n"
}

#[put("/documents/{id}")]
#[require(any(role(Role::Editor), policy(owns_document)))]
async fn edit_document(id: web::Path<u32>) -> String {
    format!("document {id} saved\n")
}

#[get("/exports")]
#[require_scope("export:read")]
async fn exports() -> &'static str {
    "exported\n"
}

/// The example's routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(list_documents)
        .service(edit_document)
        .service(exports);
}

/// The guard, with `admin ⊇ editor ⊇ viewer`.
pub fn guard() -> Result<RouteGuard, ConfigError> {
    let hierarchy = RoleHierarchy::builder()
        .includes(Role::Admin.role_name(), [Role::Editor.role_name()])
        .includes(Role::Editor.role_name(), [Role::Viewer.role_name()])
        .build()?;
    let jwt = JwtAuthenticator::builder()
        .key(JwtKey::hs256(SECRET)?)
        .build()?;
    RouteGuard::builder(jwt)
        .realm("policies")
        .role_hierarchy(hierarchy)
        .build()
}

/// The example's documents: 1 belongs to `olga`, 2 to `peter`.
pub fn documents() -> web::Data<Documents> {
    let owners = [(1, "olga".to_owned()), (2, "peter".to_owned())]
        .into_iter()
        .collect();
    web::Data::new(Documents(Mutex::new(owners)))
}

/// A token for `sub` with `roles` and `scope`, valid for an hour.
pub fn mint(sub: &str, roles: &[&str], scope: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = json!({ "sub": sub, "roles": roles, "scope": scope, "exp": now + 3600 });
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap_or_default()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("POLICIES_ADDR").unwrap_or_else(|_| "127.0.0.1:8081".to_owned());
    let guard = guard().map_err(std::io::Error::other)?;
    let documents = documents();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(guard.clone())
            .app_data(documents.clone())
            .configure(routes)
    })
    .workers(1)
    .bind(&addr)?;
    let base = format!("http://{addr}");
    let lines = [
        (
            "200: an admin is a viewer through the hierarchy",
            "GET",
            mint("ada", &["admin"], ""),
            "/documents",
        ),
        (
            "200: olga owns document 1",
            "PUT",
            mint("olga", &[], ""),
            "/documents/1",
        ),
        (
            "403: olga does not own document 2",
            "PUT",
            mint("olga", &[], ""),
            "/documents/2",
        ),
        (
            "200: an editor edits any document",
            "PUT",
            mint("ed", &["editor"], ""),
            "/documents/2",
        ),
        (
            "403 insufficient_scope: no export:read scope",
            "GET",
            mint("ada", &["admin"], "openid"),
            "/exports",
        ),
        (
            "200: the scope is granted",
            "GET",
            mint("bot", &[], "export:read"),
            "/exports",
        ),
    ];
    println!("policies example listening on {base}\n");
    for (what, method, token, path) in lines {
        println!("# {what}\ncurl -i -X {method} -H 'Authorization: Bearer {token}' {base}{path}\n");
    }
    server.run().await
}
