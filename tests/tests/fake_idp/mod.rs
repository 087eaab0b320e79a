//! A fake identity provider for fault tests: an actix-web server on 127.0.0.1 publishing a
//! JWKS of two ES256 keys (`k1`, and `k2` after a rotation), and failing on demand. It also
//! serves a discovery document naming itself, and [`Gate`] gives a test an address that
//! stays its own while the provider behind it goes down and comes back.
#![allow(dead_code, unreachable_pub)] // each test crate uses its own subset

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use route_guard::{Jwks, JwtAuthenticator};
use serde_json::{Value, json};

use crate::common::*;

pub const FAST: Duration = Duration::from_millis(300);
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// The provider's two signing keys: `k1` in use, `k2` after a rotation.
pub fn signing_key(kid: &str) -> EncodingKey {
    let pem = match kid {
        "k1" => include_str!("../../keys/p256.key"),
        _ => include_str!("../../keys/attacker-p256.key"),
    };
    EncodingKey::from_ec_pem(pem.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

pub fn public_jwk(kid: &str) -> Value {
    public_jwk_of(kid, kid)
}

/// The public half of the provider's key `signer`, published under `kid` (none if empty): a provider that
/// replaces the key material behind a `kid` publishes `public_jwk_of("k1", "k2")`.
pub fn public_jwk_of(kid: &str, signer: &str) -> Value {
    let mut jwk = Jwk::from_encoding_key(&signing_key(signer), Algorithm::ES256)
        .unwrap_or_else(|e| panic!("{e}"));
    // An empty `kid` publishes the key without one.
    jwk.common.key_id = (!kid.is_empty()).then(|| kid.to_owned());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::ES256);
    serde_json::to_value(jwk).unwrap_or_default()
}

/// A token signed by the provider's key `kid`.
pub fn token_of(kid: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    sign(&header, &claims("svc", &[]), &signing_key(kid))
}

/// A token naming a `kid` nobody published. Unknown keys are refused before any signature
/// check, so the signature need not be real.
pub fn invented(i: usize) -> String {
    let header = json!({"alg": "ES256", "kid": format!("invented-{i}")}).to_string();
    format!(
        "{}.{}.c2ln",
        b64url(header),
        b64url(claims("x", &[]).to_string())
    )
}

/// How the fake provider answers `/jwks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Keys,
    Status500,
    Garbage,
    /// 10 MiB with a `Content-Length`, holding a foreign key set: were the cap not enforced,
    /// the real tokens would stop verifying.
    Huge,
    /// The same, streamed without a `Content-Length`.
    HugeStream,
    /// Answers (with the foreign set) only after three times the fetch timeout.
    Slow,
    /// Answers (with the published keys) only once the test calls [`Provider::release`].
    Hold,
    /// The published keys, padded to exactly `bytes` bytes of JSON, with a `Content-Length`
    /// or `streamed` without one.
    Sized {
        bytes: usize,
        streamed: bool,
    },
    /// A 302 to the address given to [`Provider::redirect_to`].
    Redirect,
}

/// The fake provider's state, shared with the test.
#[derive(Default)]
pub struct Provider {
    mode: Mutex<Option<Mode>>,
    /// `(kid, signer)`: which key is published under which `kid`.
    published: Mutex<Vec<(&'static str, &'static str)>>,
    /// Requests to the key set, wherever it is published.
    hits: AtomicU64,
    released: AtomicBool,
    cache_control: Mutex<Option<&'static str>>,
    redirect_to: Mutex<String>,
    /// Requests to `/target`, the redirect target that always serves the published keys.
    target_hits: AtomicU64,
    /// The provider's own address (`http://127.0.0.1:PORT`), its issuer in discovery.
    base: Mutex<String>,
    /// Where discovery says the keys are (`/jwks` unless moved); other key paths are 404.
    jwks_path: Mutex<Option<&'static str>>,
    discovery_down: AtomicBool,
    discovery_hits: AtomicU64,
}

impl Provider {
    pub fn set(&self, mode: Mode, published: &[&'static str]) {
        let pairs: Vec<_> = published.iter().map(|&kid| (kid, kid)).collect();
        self.publish(mode, &pairs);
    }

    /// Publishes the key `signer` under each `kid` of `(kid, signer)`.
    pub fn publish(&self, mode: Mode, published: &[(&'static str, &'static str)]) {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner) = Some(mode);
        *self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = published.to_vec();
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }

    /// Lets the requests that [`Mode::Hold`] keeps waiting answer.
    pub fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
    }

    /// The `Cache-Control` header of the key set's answers.
    pub fn cache_control(&self, value: Option<&'static str>) {
        *lock(&self.cache_control) = value;
    }

    /// Where [`Mode::Redirect`] sends the key set's clients.
    pub fn redirect_to(&self, location: &str) {
        location.clone_into(&mut lock(&self.redirect_to));
    }

    pub fn target_hits(&self) -> u64 {
        self.target_hits.load(Ordering::SeqCst)
    }

    /// The issuer the discovery document names: the provider's own address.
    pub fn issuer(&self) -> String {
        lock(&self.base).clone()
    }

    /// Publishes the key set at `path` (`/jwks` or `/keys-moved`); the other answers 404.
    pub fn move_keys(&self, path: &'static str) {
        *lock(&self.jwks_path) = Some(path);
    }

    /// Makes discovery answer 500 (down) or the document.
    pub fn discovery_down(&self, down: bool) {
        self.discovery_down.store(down, Ordering::SeqCst);
    }

    pub fn discovery_hits(&self) -> u64 {
        self.discovery_hits.load(Ordering::SeqCst)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn keys_of(provider: &Provider) -> Vec<Value> {
    lock(&provider.published)
        .iter()
        .map(|&(kid, signer)| public_jwk_of(kid, signer))
        .collect()
}

/// The published keys as exactly `bytes` bytes of JSON (padded with an unknown member).
fn sized_body(keys: Vec<Value>, bytes: usize) -> Vec<u8> {
    let head = format!(r#"{{"keys":{},"pad":""#, Value::Array(keys));
    let pad = bytes
        .checked_sub(head.len() + 2)
        .unwrap_or_else(|| panic!("{bytes} bytes cannot hold the key set"));
    let body = format!("{head}{}\"}}", "x".repeat(pad));
    assert_eq!(body.len(), bytes);
    body.into_bytes()
}

fn streamed(body: Vec<u8>) -> HttpResponse {
    let chunks = body
        .chunks(64 * 1024)
        .map(|c| Ok::<_, actix_web::Error>(web::Bytes::copy_from_slice(c)))
        .collect::<Vec<_>>();
    HttpResponse::Ok()
        .content_type("application/json")
        .streaming(futures_util::stream::iter(chunks))
}

pub async fn jwks(provider: web::Data<Provider>, req: HttpRequest) -> HttpResponse {
    provider.hits.fetch_add(1, Ordering::SeqCst);
    if lock(&provider.jwks_path).is_some_and(|path| path != req.path()) {
        return HttpResponse::NotFound().finish();
    }
    let mode = *lock(&provider.mode);
    let mut response = answer(&provider, mode.unwrap_or(Mode::Keys)).await;
    if let Some(value) = *lock(&provider.cache_control) {
        response.headers_mut().insert(
            actix_web::http::header::CACHE_CONTROL,
            actix_web::http::header::HeaderValue::from_static(value),
        );
    }
    response
}

async fn answer(provider: &Provider, mode: Mode) -> HttpResponse {
    let foreign = || json!({"keys": [public_jwk("k2")], "pad": "x".repeat(10 << 20)}).to_string();
    match mode {
        Mode::Keys => HttpResponse::Ok().json(json!({ "keys": keys_of(provider) })),
        Mode::Status500 => HttpResponse::InternalServerError().json(json!({"error": "down"})),
        Mode::Garbage => HttpResponse::Ok()
            .content_type("text/html")
            .body("<html>maintenance"),
        Mode::Huge => HttpResponse::Ok()
            .content_type("application/json")
            .body(foreign()),
        Mode::HugeStream => streamed(foreign().into_bytes()),
        Mode::Slow => {
            actix_web::rt::time::sleep(TIMEOUT * 3).await;
            HttpResponse::Ok().body(foreign())
        }
        Mode::Hold => {
            while !provider.released.load(Ordering::SeqCst) {
                actix_web::rt::time::sleep(Duration::from_millis(10)).await;
            }
            HttpResponse::Ok().json(json!({ "keys": keys_of(provider) }))
        }
        Mode::Sized {
            bytes,
            streamed: false,
        } => HttpResponse::Ok()
            .content_type("application/json")
            .body(sized_body(keys_of(provider), bytes)),
        Mode::Sized {
            bytes,
            streamed: true,
        } => streamed(sized_body(keys_of(provider), bytes)),
        Mode::Redirect => HttpResponse::Found()
            .insert_header(("location", lock(&provider.redirect_to).clone()))
            .finish(),
    }
}

/// The redirect target: the published keys, counted apart.
async fn target(provider: web::Data<Provider>) -> HttpResponse {
    provider.target_hits.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().json(json!({ "keys": keys_of(&provider) }))
}

/// OpenID Connect discovery (§4): the provider names itself and where its keys are.
async fn discovery(provider: web::Data<Provider>) -> HttpResponse {
    provider.discovery_hits.fetch_add(1, Ordering::SeqCst);
    if provider.discovery_down.load(Ordering::SeqCst) {
        return HttpResponse::InternalServerError().finish();
    }
    let issuer = provider.issuer();
    let path = lock(&provider.jwks_path).unwrap_or("/jwks");
    HttpResponse::Ok().json(json!({"issuer": issuer, "jwks_uri": format!("{issuer}{path}")}))
}

/// Starts the fake provider on a port of its own (bound to port 0, never probed and rebound).
pub fn serve(provider: &web::Data<Provider>) -> (SocketAddr, ServerHandle) {
    let data = provider.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/jwks", web::get().to(jwks))
            .route("/keys-moved", web::get().to(jwks))
            .route("/target", web::get().to(target))
            .route(
                "/.well-known/openid-configuration",
                web::get().to(discovery),
            )
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(0)
    .bind("127.0.0.1:0")
    .unwrap_or_else(|e| panic!("bind: {e}"));
    let bound = server.addrs()[0];
    *lock(&provider.base) = format!("http://{bound}");
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (bound, handle)
}

/// A loopback address that stays the test's for its whole run, so that a provider can be down
/// and come back "on the same port" without racing other processes for a freed port. While
/// closed, every connection is reset at once (a provider that is down); while open, each is
/// relayed to the backend.
pub struct Gate {
    addr: SocketAddr,
    backend: Arc<Mutex<Option<SocketAddr>>>,
}

impl Gate {
    /// A closed gate on a new port.
    pub fn closed() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let backend = Arc::new(Mutex::new(None));
        let shared = Arc::clone(&backend);
        // Blocked in accept until the test process ends.
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let target = *lock(&shared);
                match target.and_then(|target| TcpStream::connect(target).ok()) {
                    Some(upstream) => relay(client, upstream),
                    None => {
                        let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
                    }
                }
            }
        });
        Gate { addr, backend }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Relays connections to `backend` from now on.
    pub fn open(&self, backend: SocketAddr) {
        *lock(&self.backend) = Some(backend);
    }

    /// Resets connections from now on.
    pub fn close(&self) {
        *lock(&self.backend) = None;
    }
}

fn relay(client: TcpStream, upstream: TcpStream) {
    let pipe = |mut from: TcpStream, mut to: TcpStream| {
        std::thread::spawn(move || {
            let _ = io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
        });
    };
    if let (Ok(client2), Ok(upstream2)) = (client.try_clone(), upstream.try_clone()) {
        pipe(client, upstream2);
        pipe(upstream, client2);
    }
}

pub fn authenticator(addr: SocketAddr, cooldown: Duration) -> JwtAuthenticator {
    JwtAuthenticator::builder()
        .jwks(
            Jwks::url(format!("http://{addr}/jwks"))
                .cooldown(cooldown)
                .refresh_interval(FAST)
                .timeout(TIMEOUT),
        )
        .issuer(ISSUER)
        .audience(AUDIENCE)
        // Every request goes to the key set, not to verified tokens remembered from before.
        .no_cache()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

pub async fn pause(duration: Duration) {
    actix_web::rt::time::sleep(duration).await;
}

/// `GET /me` behind `#[require_auth]`, answering the subject: the route the fault suites send
/// the provider's tokens to.
#[actix_web::get("/me")]
#[route_guard::require_auth]
async fn me(user: route_guard::Authenticated) -> String {
    user.subject().to_owned()
}

/// Registers [`me`].
pub fn subject_route(config: &mut web::ServiceConfig) {
    config.service(me);
}
