//! Roles from the application's own database: tokens say who the caller is, an embedded SQLite
//! database says what they may do.
//!
//! ```text
//! cargo run --example sqlite_roles
//! ```
//!
//! Tokens are HS256, signed with `SQLITE_ROLES_SECRET` (a development default when unset), with
//! `iss = aud = "sqlite-roles"` and no roles at all. After authentication, the guard's
//! enrichment hook reads the caller's roles from the `user_roles` table of the database file
//! `SQLITE_ROLES_DB` (default `sqlite_roles.db`, created and seeded on first run). Change a row
//! and the next request sees it: no restart, no new token. If the database fails, guarded
//! routes answer 503 rather than guess.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpServer, Responder, get, web};
use jsonwebtoken::{EncodingKey, Header};
use route_guard::{
    AuthResult, Authenticated, ConfigError, Denial, Identity, JwtAuthenticator, JwtKey, RouteGuard,
    require_auth, require_role,
};
use rusqlite::Connection;
use serde_json::json;

/// The development secret used when `SQLITE_ROLES_SECRET` is unset. Never use it in production.
pub const DEV_SECRET: &str = "sqlite-roles development secret - change me in production";
/// The `iss` and `aud` of this example's tokens.
pub const ISSUER: &str = "sqlite-roles";

/// The application's role store: one SQLite connection shared by every worker.
#[derive(Clone)]
pub struct RoleStore {
    connection: Arc<Mutex<Connection>>,
}

impl RoleStore {
    /// Opens (or creates) the database at `path`; `":memory:"` for a private in-memory one.
    pub fn open(path: &str) -> rusqlite::Result<Self> {
        let connection = Connection::open(path)?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS user_roles (
                 subject TEXT NOT NULL,
                 role    TEXT NOT NULL,
                 PRIMARY KEY (subject, role)
             )",
        )?;
        Ok(RoleStore {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` on the connection, on actix's blocking pool: SQLite calls block.
    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let connection = self.connection.clone();
        web::block(move || {
            let connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&connection)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
    }

    /// Gives `subject` the role `role`.
    pub async fn grant(&self, subject: &str, role: &str) -> Result<(), String> {
        let (subject, role) = (subject.to_owned(), role.to_owned());
        self.with(move |db| {
            db.execute(
                "INSERT OR IGNORE INTO user_roles (subject, role) VALUES (?1, ?2)",
                (&subject, &role),
            )
            .map(drop)
        })
        .await
    }

    /// Takes `role` away from `subject`.
    pub async fn revoke(&self, subject: &str, role: &str) -> Result<(), String> {
        let (subject, role) = (subject.to_owned(), role.to_owned());
        self.with(move |db| {
            db.execute(
                "DELETE FROM user_roles WHERE subject = ?1 AND role = ?2",
                (&subject, &role),
            )
            .map(drop)
        })
        .await
    }

    /// Runs raw SQL, for the demo's set-up (and for tests that break the database).
    pub async fn execute(&self, sql: &'static str) -> Result<(), String> {
        self.with(move |db| db.execute_batch(sql)).await
    }

    /// The roles of `subject`.
    pub async fn roles_of(&self, subject: &str) -> Result<Vec<String>, String> {
        let subject = subject.to_owned();
        self.with(move |db| {
            let mut query =
                db.prepare_cached("SELECT role FROM user_roles WHERE subject = ?1 ORDER BY role")?;
            let roles = query.query_map([&subject], |row| row.get(0))?;
            roles.collect()
        })
        .await
    }

    /// The enrichment hook: the token's identity plus the roles the database grants.
    pub async fn enrich(&self, identity: Arc<Identity>) -> AuthResult {
        match self.roles_of(identity.subject()).await {
            Ok(roles) => Ok(Arc::new(identity.with_extra_roles(roles))),
            Err(error) => {
                tracing::error!(%error, "sqlite-roles: cannot read roles");
                Err(Denial::Unavailable {
                    retry_after_secs: 5,
                })
            }
        }
    }
}

#[get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> impl Responder {
    web::Json(json!({ "sub": user.subject(), "roles": user.roles() }))
}

#[get("/admin")]
#[require_role("admin")]
async fn admin() -> &'static str {
    "hello, admin\n"
}

/// The example's routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config.service(me).service(admin);
}

/// The guard: HS256 tokens from `secret`, roles from `store`.
pub fn guard(secret: &str, store: RoleStore) -> Result<RouteGuard, ConfigError> {
    let jwt = JwtAuthenticator::builder()
        .key(JwtKey::hs256(secret)?)
        .issuer(ISSUER)
        .audience(ISSUER)
        .build()?;
    RouteGuard::builder(jwt)
        .realm("sqlite-roles")
        .enrich(move |identity: Arc<Identity>| {
            let store = store.clone();
            async move { store.enrich(identity).await }
        })
        .build()
}

/// A token for `sub`, valid for an hour. It carries no roles: those come from the database.
pub fn mint(secret: &str, sub: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = json!({ "iss": ISSUER, "aud": ISSUER, "sub": sub, "iat": now, "exp": now + 3600 });
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
    let secret = std::env::var("SQLITE_ROLES_SECRET").unwrap_or_else(|_| DEV_SECRET.to_owned());
    let path = std::env::var("SQLITE_ROLES_DB").unwrap_or_else(|_| "sqlite_roles.db".to_owned());
    let addr = std::env::var("SQLITE_ROLES_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let store = RoleStore::open(&path).map_err(std::io::Error::other)?;
    store
        .grant("ada", "admin")
        .await
        .map_err(std::io::Error::other)?;
    let guard = guard(&secret, store).map_err(std::io::Error::other)?;
    let server = HttpServer::new(move || App::new().app_data(guard.clone()).configure(routes))
        .workers(2)
        .bind(&addr)?;
    println!("sqlite-roles listening on http://{addr}; roles from {path}\n");
    for who in ["ada", "ursula"] {
        let token = mint(&secret, who);
        println!("# {who}\ncurl -i -H 'Authorization: Bearer {token}' http://{addr}/admin\n");
    }
    println!(
        "# make ursula an admin, then ask again:\nsqlite3 {path} \"INSERT INTO user_roles VALUES ('ursula', 'admin')\""
    );
    server.run().await
}
