//! A guarded demo server a newcomer can curl.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! It verifies HS256 tokens signed with `QUICKSTART_SECRET` (a development default when unset)
//! that carry `iss = aud = "quickstart"`, and prints ready-to-paste `curl` lines with fresh
//! tokens for a user, an auditor and an admin, plus one for each kind of failure.
//! Set `QUICKSTART_ADDR` to listen elsewhere than 127.0.0.1:8080, and `RUST_LOG=debug` to see
//! why each request was refused.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpServer, Responder, get, web};
use jsonwebtoken::{EncodingKey, Header};
use route_guard::{
    Authenticated, ConfigError, JwtAuthenticator, JwtKey, RouteGuard, require_auth, require_role,
};
use serde_json::json;

/// The development secret used when `QUICKSTART_SECRET` is unset. Never use it in production.
pub const DEV_SECRET: &str = "quickstart development secret - change me in production";
/// The `iss` and `aud` every quickstart token carries.
pub const ISSUER: &str = "quickstart";
/// How long printed tokens stay valid.
pub const TOKEN_LIFETIME_SECS: u64 = 3600;

#[get("/public")]
async fn public() -> &'static str {
    "anyone can read this\n"
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

#[get("/reports")]
#[require_role(any("admin", "auditor"))]
async fn reports() -> &'static str {
    "quarterly numbers\n"
}

/// The quickstart's routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(public)
        .service(me)
        .service(admin)
        .service(reports);
}

/// The guard: HS256 tokens from `secret`, issued by and for `quickstart`.
pub fn guard(secret: &str) -> Result<RouteGuard, ConfigError> {
    let jwt = JwtAuthenticator::builder()
        .key(JwtKey::hs256(secret)?)
        .issuer(ISSUER)
        .audience(ISSUER)
        .build()?;
    RouteGuard::builder(jwt).realm("quickstart").build()
}

/// A token for `sub` holding `roles`, expiring `lifetime` seconds from now (negative: expired).
pub fn mint(secret: &str, sub: &str, roles: &[&str], lifetime: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = json!({
        "iss": ISSUER,
        "aud": ISSUER,
        "sub": sub,
        "roles": roles,
        "iat": now,
        "exp": now.saturating_add_signed(lifetime),
    });
    let key = EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&Header::default(), &claims, &key).unwrap_or_default()
}

/// One line to paste: what it shows, the status it gets, the `Authorization` value it sends
/// (if any) and the path it asks for.
pub struct Example {
    /// What the line demonstrates.
    pub what: &'static str,
    /// The status the server answers with.
    pub status: u16,
    /// The `Authorization` header value, if the line sends one.
    pub authorization: Option<String>,
    /// The path requested.
    pub path: &'static str,
}

impl Example {
    /// The `curl` command for this example against `base` (e.g. `http://127.0.0.1:8080`).
    pub fn curl(&self, base: &str) -> String {
        match &self.authorization {
            Some(value) => format!("curl -i -H 'Authorization: {value}' {base}{}", self.path),
            None => format!("curl -i {base}{}", self.path),
        }
    }
}

/// The printed examples, with freshly minted tokens.
pub fn examples(secret: &str) -> Vec<Example> {
    let lifetime = TOKEN_LIFETIME_SECS as i64;
    let user = mint(secret, "ursula", &["user"], lifetime);
    let auditor = mint(secret, "audrey", &["auditor"], lifetime);
    let ada = mint(secret, "ada", &["admin"], lifetime);
    let expired = mint(secret, "ada", &["admin"], -3600);
    let bearer = |token: &str| Some(format!("Bearer {token}"));
    let example = |what, status, authorization, path| Example {
        what,
        status,
        authorization,
        path,
    };
    vec![
        example("no guard", 200, None, "/public"),
        example(
            "any authenticated caller: who am I?",
            200,
            bearer(&user),
            "/me",
        ),
        example("the admin is let in", 200, bearer(&ada), "/admin"),
        example(
            "an auditor reads reports",
            200,
            bearer(&auditor),
            "/reports",
        ),
        example(
            "a user is known but not allowed",
            403,
            bearer(&user),
            "/admin",
        ),
        example(
            "an auditor is not an admin",
            403,
            bearer(&auditor),
            "/admin",
        ),
        example("no Authorization header", 401, None, "/admin"),
        example(
            "a token without the `Bearer ` prefix",
            401,
            Some(ada.clone()),
            "/admin",
        ),
        example("an expired token", 401, bearer(&expired), "/admin"),
    ]
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,route_guard=debug")),
        )
        .with_writer(std::io::stderr)
        .init();

    let addr = std::env::var("QUICKSTART_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let secret = std::env::var("QUICKSTART_SECRET").unwrap_or_else(|_| {
        eprintln!("QUICKSTART_SECRET is unset: using the development secret {DEV_SECRET:?}\n");
        DEV_SECRET.to_owned()
    });
    let guard =
        guard(&secret).map_err(|e| std::io::Error::other(format!("QUICKSTART_SECRET: {e}")))?;
    let server = HttpServer::new(move || App::new().app_data(guard.clone()).configure(routes))
        .workers(2)
        .bind(&addr)?;

    let base = format!("http://{addr}");
    println!("route-guard quickstart listening on {base}");
    println!(
        "Paste these (tokens are valid for an hour; RUST_LOG=debug shows each refusal's reason):\n"
    );
    for example in examples(&secret) {
        println!(
            "# {}: {}\n{}\n",
            example.status,
            example.what,
            example.curl(&base)
        );
    }
    server.run().await
}
