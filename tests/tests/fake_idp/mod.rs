//! A fake identity provider for fault tests: an actix-web server on 127.0.0.1 publishing a
//! JWKS of two ES256 keys (`k1`, and `k2` after a rotation), and failing on demand.
#![allow(dead_code, unreachable_pub)] // each test crate uses its own subset

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
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
}

/// The fake provider's state, shared with the test.
#[derive(Default)]
pub struct Provider {
    mode: Mutex<Option<Mode>>,
    /// `(kid, signer)`: which key is published under which `kid`.
    published: Mutex<Vec<(&'static str, &'static str)>>,
    hits: AtomicU64,
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
}

pub async fn jwks(provider: web::Data<Provider>) -> HttpResponse {
    provider.hits.fetch_add(1, Ordering::SeqCst);
    let mode = *provider.mode.lock().unwrap_or_else(PoisonError::into_inner);
    let published = provider
        .published
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let keys: Vec<Value> = published
        .into_iter()
        .map(|(kid, signer)| public_jwk_of(kid, signer))
        .collect();
    let foreign = || json!({"keys": [public_jwk("k2")], "pad": "x".repeat(10 << 20)}).to_string();
    match mode.unwrap_or(Mode::Keys) {
        Mode::Keys => HttpResponse::Ok().json(json!({ "keys": keys })),
        Mode::Status500 => HttpResponse::InternalServerError().json(json!({"error": "down"})),
        Mode::Garbage => HttpResponse::Ok()
            .content_type("text/html")
            .body("<html>maintenance"),
        Mode::Huge => HttpResponse::Ok()
            .content_type("application/json")
            .body(foreign()),
        Mode::HugeStream => {
            let chunks = foreign()
                .into_bytes()
                .chunks(64 * 1024)
                .map(|c| Ok::<_, actix_web::Error>(web::Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>();
            HttpResponse::Ok().streaming(futures_util::stream::iter(chunks))
        }
        Mode::Slow => {
            actix_web::rt::time::sleep(TIMEOUT * 3).await;
            HttpResponse::Ok().body(foreign())
        }
    }
}

/// Starts the fake provider on `addr` (port 0 for any).
pub fn serve(provider: &web::Data<Provider>, addr: SocketAddr) -> (SocketAddr, ServerHandle) {
    let data = provider.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/jwks", web::get().to(jwks))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(0)
    .bind(addr)
    .unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    let bound = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (bound, handle)
}

/// A loopback address nothing listens on (yet).
pub fn free_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
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
