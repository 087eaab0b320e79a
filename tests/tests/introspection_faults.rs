//! An introspection endpoint that breaks (issue 16): slow beyond the timeout, refusing
//! connections, answering 500, garbage or more than the size cap, refusing the resource
//! server's own credentials. Each answers 503 with `Retry-After` and no challenge, never a 401
//! that would tell a client to throw its token away, and a fault is never remembered. The
//! endpoint is a small actix-web server on 127.0.0.1 under the test's control; it also plays
//! answers a real provider would not give (bound tokens, other token types, no `sub`).
//! `introspection.rs` proves the same against a real provider.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actix_web::test::init_service;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use common::*;
use futures_util::future::join_all;
use route_guard::{
    Authenticated, IntrospectionAuthenticator, IntrospectionAuthenticatorBuilder, Preset,
    RouteGuard, require_auth, require_role,
};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_millis(500);
const CLIENT: &str = "api";
const SECRET: &str = "s3cret:with/odd&chars";

/// How the endpoint answers.
#[derive(Clone)]
enum Mode {
    /// This JSON, with status 200.
    Json(Value),
    Status(u16),
    Garbage,
    /// 1 MiB of JSON, with or without a `Content-Length`.
    Huge {
        streamed: bool,
    },
    /// Answers only after three times the client's timeout.
    Slow,
    /// Answers `{"active": true, ...}` after a pause long enough for concurrent requests.
    Pause(Value),
}

struct Endpoint {
    mode: Mutex<Mode>,
    calls: AtomicU64,
    /// What the last call sent: its `Authorization` and its form.
    last: Mutex<(Option<String>, String)>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn introspect(endpoint: web::Data<Endpoint>, req: HttpRequest, body: String) -> HttpResponse {
    endpoint.calls.fetch_add(1, Ordering::SeqCst);
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    *lock(&endpoint.last) = (authorization, body);
    let mode = lock(&endpoint.mode).clone();
    match mode {
        Mode::Json(value) => HttpResponse::Ok().json(value),
        Mode::Status(status) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
                .json(json!({"error": "invalid_client"}))
        }
        Mode::Garbage => HttpResponse::Ok()
            .content_type("text/html")
            .body("<html>maintenance</html>"),
        Mode::Huge { streamed } => {
            let body = json!({"active": true, "sub": "huge", "pad": "x".repeat(1 << 20)})
                .to_string()
                .into_bytes();
            if streamed {
                let chunks: Vec<Result<web::Bytes, actix_web::Error>> = body
                    .chunks(16 * 1024)
                    .map(|c| Ok(web::Bytes::copy_from_slice(c)))
                    .collect();
                HttpResponse::Ok()
                    .content_type("application/json")
                    .streaming(futures_util::stream::iter(chunks))
            } else {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body)
            }
        }
        Mode::Slow => {
            actix_web::rt::time::sleep(TIMEOUT * 3).await;
            HttpResponse::Ok().json(json!({"active": true, "sub": "late"}))
        }
        Mode::Pause(value) => {
            actix_web::rt::time::sleep(Duration::from_millis(300)).await;
            HttpResponse::Ok().json(value)
        }
    }
}

/// An RFC 8414 metadata document naming the endpoint (no OpenID discovery is served).
async fn metadata(req: HttpRequest) -> HttpResponse {
    let base = format!("http://{}", req.app_config().host());
    HttpResponse::Ok().json(json!({
        "issuer": base,
        "introspection_endpoint": format!("{base}/introspect"),
    }))
}

/// Starts an endpoint answering as `mode`; returns its state and address.
fn serve(mode: Mode) -> (web::Data<Endpoint>, SocketAddr) {
    let endpoint = web::Data::new(Endpoint {
        mode: Mutex::new(mode),
        calls: AtomicU64::new(0),
        last: Mutex::new((None, String::new())),
    });
    let data = endpoint.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/introspect", web::post().to(introspect))
            .route(
                "/.well-known/oauth-authorization-server",
                web::get().to(metadata),
            )
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(0)
    .bind("127.0.0.1:0")
    .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    (endpoint, addr)
}

fn set(endpoint: &Endpoint, mode: Mode) {
    *lock(&endpoint.mode) = mode;
}

fn active(extra: Value) -> Value {
    let mut answer = json!({"active": true, "sub": "alice", "iss": ISSUER, "aud": AUDIENCE,
                            "exp": now() + 600, "scope": "read", "token_type": "Bearer"});
    if let (Some(answer), Some(extra)) = (answer.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            answer.insert(key.clone(), value.clone());
        }
    }
    answer
}

fn builder(addr: SocketAddr) -> IntrospectionAuthenticatorBuilder {
    IntrospectionAuthenticator::builder()
        .endpoint(format!("http://{addr}/introspect"))
        .client_secret_basic(CLIENT, SECRET)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .timeout(TIMEOUT)
        .retry_after(Duration::from_secs(3))
}

fn guard(builder: IntrospectionAuthenticatorBuilder) -> RouteGuard {
    let authenticator = builder.build().unwrap_or_else(|e| panic!("{e}"));
    RouteGuard::builder(authenticator)
        .realm(REALM)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[actix_web::get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> String {
    user.subject().to_owned()
}

#[actix_web::get("/admin")]
#[require_role("admin")]
async fn admin(user: Authenticated) -> String {
    format!("admin {}", user.subject())
}

macro_rules! app {
    ($builder:expr) => {
        init_service(
            App::new()
                .app_data(guard($builder))
                .service(me)
                .service(admin),
        )
        .await
    };
}

const TOKEN: &str = "opaque-token-0123456789";

/// Asserts what a client sees of a fault: 503, `Retry-After: 3`, no challenge.
fn assert_unavailable(reply: &FullReply) {
    reply.assert_refused(503, &[], TOKEN);
    assert_eq!(reply.retry_after.as_deref(), Some("3"), "{reply:?}");
}

#[actix_web::test]
async fn every_fault_of_the_endpoint_is_503_with_retry_after_and_never_remembered() {
    let faults = [
        ("timeout", Mode::Slow),
        ("500", Mode::Status(500)),
        ("502", Mode::Status(502)),
        ("not JSON", Mode::Garbage),
        ("JSON but no object", Mode::Json(json!([true]))),
        ("oversized", Mode::Huge { streamed: false }),
        ("oversized, streamed", Mode::Huge { streamed: true }),
        ("our own secret refused", Mode::Status(401)),
    ];
    for (what, mode) in faults {
        let (endpoint, addr) = serve(mode);
        let app = app!(builder(addr).max_body(64 * 1024));
        let reply = call_full(&app, get("/me").insert_header(bearer(TOKEN))).await;
        assert_unavailable(&reply);
        // Not remembered: once the endpoint is well, the same token passes.
        set(&endpoint, Mode::Json(active(json!({}))));
        let reply = call(&app, get("/me").insert_header(bearer(TOKEN))).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "alice"),
            "{what}: {reply:?}"
        );
    }
}

#[actix_web::test]
async fn a_refused_connection_is_503() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    };
    // Nothing listens there any more.
    let app = app!(builder(port));
    let reply = call_full(&app, get("/me").insert_header(bearer(TOKEN))).await;
    assert_unavailable(&reply);
}

#[actix_web::test]
async fn the_answer_maps_to_an_identity_and_the_call_authenticates_the_api() {
    let answer = active(json!({"realm_access": {"roles": ["admin"]}}));
    let (endpoint, addr) = serve(Mode::Json(answer));
    let app = app!(builder(addr).preset(Preset::keycloak_realm()));
    let reply = call(&app, get("/admin").insert_header(bearer(TOKEN))).await;
    reply.assert_ok("admin alice");
    let (authorization, form) = lock(&endpoint.last).clone();
    // RFC 6749 §2.3.1: id and secret form-encoded, then Basic.
    let encoded = "s3cret%3Awith%2Fodd%26chars";
    assert_eq!(authorization, Some(basic(CLIENT, encoded).1), "{form}");
    assert_eq!(form, format!("token={TOKEN}&token_type_hint=access_token"));

    let app = app!(builder(addr).client_secret_post(CLIENT, SECRET));
    let reply = call(&app, get("/me").insert_header(bearer(TOKEN))).await;
    reply.assert_ok("alice");
    let (authorization, form) = lock(&endpoint.last).clone();
    assert_eq!(authorization, None);
    assert_eq!(
        form,
        format!("token={TOKEN}&token_type_hint=access_token&client_id=api&client_secret={encoded}")
    );
}

#[actix_web::test]
async fn inactive_and_unusable_answers_are_401_invalid_token() {
    let cases = [
        (json!({"active": false}), "The access token is not active"),
        (
            json!({"active": "true", "sub": "a"}),
            "The access token is not active",
        ),
        (json!({"sub": "a"}), "The access token is not active"),
        (
            active(json!({"exp": now() - 600})),
            "The access token expired",
        ),
        (
            active(json!({"nbf": now() + 600})),
            "The access token is not yet valid",
        ),
        (
            active(json!({"iss": "https://evil.test"})),
            "The token issuer is not accepted",
        ),
        (
            active(json!({"aud": "another-api"})),
            "The token audience is not accepted",
        ),
        (
            active(json!({"cnf": {"jkt": "abc"}})),
            "The access token is bound to another key or to DPoP",
        ),
        (
            active(json!({"token_type": "DPoP"})),
            "The token type is not accepted",
        ),
        (
            active(json!({"token_type": "refresh_token"})),
            "The token type is not accepted",
        ),
        (
            active(json!({"sub": null})),
            "The token lacks a required claim",
        ),
    ];
    for (answer, description) in cases {
        let (_endpoint, addr) = serve(Mode::Json(answer.clone()));
        let app = app!(builder(addr));
        let reply = call(&app, get("/me").insert_header(bearer(TOKEN))).await;
        assert_eq!(reply.status, 401, "{answer}: {reply:?}");
        reply.assert_invalid_described(description, TOKEN);
    }
}

#[actix_web::test]
async fn a_client_acting_for_itself_is_its_client_id() {
    let answer = active(json!({"sub": Value::Null, "client_id": "reports-client"}));
    let mut answer = answer;
    if let Some(map) = answer.as_object_mut() {
        map.remove("sub");
    }
    let (_endpoint, addr) = serve(Mode::Json(answer));
    let app = app!(builder(addr));
    let reply = call(&app, get("/me").insert_header(bearer(TOKEN))).await;
    reply.assert_ok("reports-client");
}

#[actix_web::test]
async fn concurrent_requests_share_one_call_and_so_do_its_faults() {
    let (endpoint, addr) = serve(Mode::Pause(active(json!({}))));
    let app = app!(builder(addr));
    let replies =
        join_all((0..16).map(|_| call(&app, get("/me").insert_header(bearer(TOKEN))))).await;
    for reply in replies {
        reply.assert_ok("alice");
    }
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1);

    // A slow endpoint: every waiting request gets the one call's 503.
    set(&endpoint, Mode::Slow);
    let other = "another-opaque-token";
    let replies =
        join_all((0..8).map(|_| call_full(&app, get("/me").insert_header(bearer(other))))).await;
    for reply in replies {
        reply.assert_refused(503, &[], other);
    }
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 2);
}

#[actix_web::test]
async fn answers_are_remembered_per_whole_token() {
    let (endpoint, addr) = serve(Mode::Json(active(json!({}))));
    let app = app!(builder(addr));
    // Tokens sharing all but their last character are separate entries.
    let tokens = ["shared-prefix-token-a", "shared-prefix-token-b"];
    for token in tokens {
        let reply = call(&app, get("/me").insert_header(bearer(token))).await;
        reply.assert_ok("alice");
    }
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 2);
    set(&endpoint, Mode::Json(json!({"active": false})));
    let reply = call(&app, get("/me").insert_header(bearer(tokens[1]))).await;
    reply.assert_ok("alice");
    let fresh = call(
        &app,
        get("/me").insert_header(bearer("shared-prefix-token-c")),
    )
    .await;
    fresh.assert_invalid_described("The access token is not active", "");
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 3);
}

#[actix_web::test]
async fn the_endpoint_is_found_in_rfc_8414_metadata() {
    let (endpoint, addr) = serve(Mode::Json(json!({})));
    set(
        &endpoint,
        Mode::Json(active(json!({"iss": format!("http://{addr}")}))),
    );
    let discovered = IntrospectionAuthenticator::builder()
        .discover(format!("http://{addr}"))
        .client_secret_basic(CLIENT, SECRET)
        .audience(AUDIENCE)
        .timeout(TIMEOUT);
    let app = app!(discovered);
    let reply = call(&app, get("/me").insert_header(bearer(TOKEN))).await;
    reply.assert_ok("alice");
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn the_client_secret_is_never_printed() {
    let builder = IntrospectionAuthenticator::builder()
        .endpoint("https://idp.example/introspect")
        .client_secret_post(CLIENT, SECRET);
    assert!(!format!("{builder:?}").contains("s3cret"), "{builder:?}");
    let built = builder.build().unwrap_or_else(|e| panic!("{e}"));
    let printed = format!("{built:?}");
    assert!(
        !printed.contains("s3cret") && printed.contains("api"),
        "{printed}"
    );
    let basic = IntrospectionAuthenticator::builder()
        .endpoint("https://idp.example/introspect")
        .client_secret_basic(CLIENT, SECRET)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!format!("{basic:?}").contains("s3cret"), "{basic:?}");
}

#[test]
fn configurations_that_cannot_work_are_refused_at_start_up() {
    let refused = |builder: IntrospectionAuthenticatorBuilder| {
        builder
            .build()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let base = || IntrospectionAuthenticator::builder().client_secret_basic(CLIENT, SECRET);
    assert!(refused(base()).contains("needs an endpoint"));
    assert!(refused(base().endpoint("http://idp.example/introspect")).contains("https"));
    assert!(refused(base().discover("http://idp.example")).contains("https"));
    let no_client = IntrospectionAuthenticator::builder().endpoint("https://idp.example/i");
    assert!(refused(no_client).contains("client_secret_basic"));
    let ok = || base().endpoint("https://idp.example/i");
    assert!(refused(ok().cache_limits(0, 1)).contains("cache"));
    assert!(refused(ok().timeout(Duration::ZERO)).contains("timeout"));
    assert!(refused(ok().preset(Preset::rfc9068())).contains("audience"));
    assert!(ok().build().is_ok());
}
