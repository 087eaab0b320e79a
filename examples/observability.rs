//! What an operator sees of a guarded API: Prometheus metrics and an audit log line per refusal.
//!
//! ```text
//! cargo run --example observability
//! ```
//!
//! It serves `/me` (any caller with a token) and `/admin` (the `admin` role), verifying HS256
//! tokens signed with a development secret, and `/metrics`, the guard's metrics in Prometheus'
//! text format, to loopback callers only. Every refused request is written as one `audit` log
//! line: outcome, reason, policy, scheme, client address and a pseudonym of the caller, never
//! the token or the subject itself. It prints `curl` lines to try, then one to scrape the
//! counts they left.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpServer, Responder, get, web};
use jsonwebtoken::{EncodingKey, Header};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use route_guard::observe::{Decision, OnDecision};
use route_guard::{
    Authenticated, ConfigError, JwtAuthenticator, JwtKey, RouteGuard, require_auth, require_ip,
    require_role,
};
use serde_json::json;

/// The development secret tokens are signed with. Never use it in production.
pub const DEV_SECRET: &str = "observability development secret - change me in production";
/// The `iss` and `aud` every token carries.
pub const ISSUER: &str = "observability";

#[get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> impl Responder {
    web::Json(json!({ "sub": user.subject() }))
}

#[get("/admin")]
#[require_role("admin")]
async fn admin() -> &'static str {
    "hello, admin\n"
}

/// The scrape endpoint: the guard's own metrics, for loopback scrapers only.
#[get("/metrics")]
#[require_ip("127.0.0.1/32", "::1/128")]
async fn metrics(handle: web::Data<PrometheusHandle>) -> impl Responder {
    handle.render()
}

/// The example's routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config.service(me).service(admin).service(metrics);
}

/// The guard, reporting every refusal to `audit`.
pub fn guard(audit: impl OnDecision) -> Result<RouteGuard, ConfigError> {
    let jwt = JwtAuthenticator::builder()
        .key(JwtKey::hs256(DEV_SECRET)?)
        .issuer(ISSUER)
        .audience(ISSUER)
        .build()?;
    RouteGuard::builder(jwt).on_decision(audit).build()
}

/// One audit log line for `decision`: `key=value` pairs a log pipeline can parse.
pub fn audit_line(decision: &Decision<'_>) -> String {
    let shown = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    format!(
        "outcome={} status={} reason={} policy={} scheme={} client={} subject={} method={} path={}",
        decision.outcome(),
        decision.status().as_u16(),
        decision.reason(),
        decision.policy(),
        decision.scheme().unwrap_or("-"),
        shown(decision.client().map(|ip| ip.to_string())),
        shown(decision.subject().map(|subject| subject.to_string())),
        decision.request().method(),
        decision.request().path(),
    )
}

/// A token for `sub` holding `roles`, valid for `lifetime_secs` from now (negative: expired).
pub fn mint(sub: &str, roles: &[&str], lifetime_secs: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64);
    let claims = json!({
        "sub": sub, "roles": roles, "iss": ISSUER, "aud": ISSUER, "exp": now + lifetime_secs,
    });
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(DEV_SECRET.as_bytes()),
    )
    .unwrap_or_else(|e| panic!("an HS256 token always signs: {e}"))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    // Installed before the guard serves anything: the guard keeps the recorder's handles.
    let recorder = PrometheusBuilder::new()
        .install_recorder()
        .map_err(std::io::Error::other)?;
    // Without the exporter's HTTP listener, its upkeep (folding histogram samples into their
    // summaries) is the application's to run.
    let upkeep = recorder.clone();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(5));
            upkeep.run_upkeep();
        }
    });
    let audit = |decision: &Decision<'_>| println!("audit: {}", audit_line(decision));
    let guard = guard(audit).map_err(std::io::Error::other)?;
    let addr = "127.0.0.1:8081";
    let (alice, expired) = (mint("alice", &[], 3600), mint("alice", &[], -3600));
    println!("Try:");
    println!("  curl -i -H 'Authorization: Bearer {alice}' http://{addr}/me       # 200");
    println!("  curl -i http://{addr}/me                                         # 401");
    println!("  curl -i -H 'Authorization: Bearer {expired}' http://{addr}/me     # 401 expired");
    println!("  curl -i -H 'Authorization: Bearer {alice}' http://{addr}/admin    # 403");
    println!("then scrape what they left:");
    println!("  curl -s http://{addr}/metrics | grep route_guard");
    let recorder = web::Data::new(recorder);
    HttpServer::new(move || {
        App::new()
            .app_data(guard.clone())
            .app_data(recorder.clone())
            .configure(routes)
    })
    .workers(1)
    .bind(addr)?
    .run()
    .await
}
