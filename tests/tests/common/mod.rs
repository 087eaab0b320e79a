//! Shared fixtures: a test issuer, its keys, token minting and a client's view of a response.
#![allow(dead_code, unreachable_pub)] // each test crate uses its own subset

pub mod npm;
pub mod pypi;
pub mod redis_server;

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header;
use actix_web::test::{self, TestRequest};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use route_guard::{JwtAuthenticator, JwtAuthenticatorBuilder, JwtKey, RouteGuard};
use serde_json::{Value, json};

pub const SECRET: &[u8] = b"route-guard test secret: 32+ bytes of entropy";
pub const ISSUER: &str = "https://issuer.test";
pub const AUDIENCE: &str = "test-api";
pub const REALM: &str = "test";

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Claims of a valid token for `sub` with `roles`.
pub fn claims(sub: &str, roles: &[&str]) -> Value {
    json!({ "sub": sub, "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 600, "roles": roles })
}

/// Claims with `key` set to `value` (or removed, for `Value::Null`).
pub fn with(mut claims: Value, key: &str, value: Value) -> Value {
    if let Some(map) = claims.as_object_mut() {
        if value.is_null() {
            map.remove(key);
        } else {
            map.insert(key.to_owned(), value);
        }
    }
    claims
}

pub fn sign(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(header, claims, key).expect("test token signs")
}

/// An HS256 token signed with [`SECRET`].
pub fn hs256(claims: &Value) -> String {
    sign(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET),
    )
}

/// A token for `sub` holding `roles`, valid for ten minutes.
pub fn token(sub: &str, roles: &[&str]) -> String {
    hs256(&claims(sub, roles))
}

/// The test authenticator: HS256 over [`SECRET`], issuer and audience required.
pub fn jwt_builder() -> JwtAuthenticatorBuilder {
    JwtAuthenticator::builder()
        .key(JwtKey::hs256(SECRET).expect("secret is long enough"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
}

pub fn guard_with(jwt: JwtAuthenticator) -> RouteGuard {
    RouteGuard::builder(jwt)
        .realm(REALM)
        .build()
        .expect("realm is valid")
}

pub fn guard() -> RouteGuard {
    guard_with(jwt_builder().build().expect("config is valid"))
}

pub fn bearer(token: &str) -> (header::HeaderName, String) {
    (header::AUTHORIZATION, format!("Bearer {token}"))
}

/// What a client sees of a response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub challenge: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// Asserts a problem document with this status and nothing of `secret` in it.
    pub fn assert_problem(&self, status: u16, secret: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.content_type.as_deref(),
            Some("application/problem+json"),
            "{self:?}"
        );
        let body = self.json();
        assert_eq!(body["status"], status, "{self:?}");
        assert_eq!(body["type"], "about:blank", "{self:?}");
        assert!(
            body["title"].is_string() && body["detail"].is_string(),
            "{self:?}"
        );
        if !secret.is_empty() {
            assert!(
                !self.body.contains(secret),
                "body echoes the credential: {self:?}"
            );
            let challenge = self.challenge.as_deref().unwrap_or("");
            assert!(
                !challenge.contains(secret),
                "challenge echoes the credential: {self:?}"
            );
        }
    }

    /// Asserts 401 with a bare `Bearer realm="test"` challenge.
    pub fn assert_bare_401(&self, secret: &str) {
        self.assert_problem(401, secret);
        assert_eq!(
            self.challenge.as_deref(),
            Some(r#"Bearer realm="test""#),
            "{self:?}"
        );
    }

    /// Asserts 401 `invalid_token` whose description contains `description`.
    pub fn assert_invalid_token(&self, description: &str, secret: &str) {
        self.assert_problem(401, secret);
        let challenge = self.challenge.as_deref().unwrap_or("");
        let expected = r#"Bearer realm="test", error="invalid_token", error_description=""#;
        assert!(challenge.starts_with(expected), "{self:?}");
        assert!(
            challenge.contains(description),
            "wanted {description:?}: {self:?}"
        );
    }

    /// Asserts 403 with a problem body and no challenge.
    pub fn assert_forbidden(&self) {
        self.assert_problem(403, "");
        assert_eq!(self.challenge, None, "{self:?}");
    }
}

pub async fn call<S, B>(app: &S, req: TestRequest) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(app, req.to_request()).await;
    let text = |name| {
        res.headers()
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let status = res.status().as_u16();
    let challenge = text(header::WWW_AUTHENTICATE);
    let content_type = text(header::CONTENT_TYPE);
    let body = test::read_body(res).await;
    Reply {
        status,
        challenge,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

pub fn get(path: &str) -> TestRequest {
    TestRequest::get().uri(path)
}

/// Unpadded base64url (RFC 4648 §5), as JWS segments are encoded.
pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWS of exactly this header and payload text (duplicates, odd types and all), signed
/// with `key` for `alg`: what a hostile or broken issuer can produce, beyond what
/// `jsonwebtoken::encode` would.
pub fn jws(header: &str, payload: &str, alg: Algorithm, key: &EncodingKey) -> String {
    let message = format!("{}.{}", b64url(header), b64url(payload));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg)
        .unwrap_or_else(|e| panic!("test token signs: {e}"));
    format!("{message}.{signature}")
}

/// [`jws`] with HS256 and [`SECRET`].
pub fn hs256_raw(header: &str, payload: &str) -> String {
    jws(
        header,
        payload,
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET),
    )
}

// Exact refusals: the whole challenge a client sees, not a fragment of it.

/// The `Bearer` challenge for `error` with `description`, in realm [`REALM`].
pub fn bearer_error(error: &str, description: &str) -> String {
    format!(r#"Bearer realm="test", error="{error}", error_description="{description}""#)
}

impl Reply {
    /// Asserts 401 with exactly `Bearer realm="test", error="invalid_token",
    /// error_description="<description>"`: `description` written out, as the wire shows it.
    pub fn assert_invalid_described(&self, description: &str, secret: &str) {
        self.assert_problem(401, secret);
        let wanted = bearer_error("invalid_token", description);
        assert_eq!(self.challenge.as_deref(), Some(wanted.as_str()), "{self:?}");
    }

    /// Asserts 401 `invalid_token` for exactly `problem`, as the hostile catalogue does.
    pub fn assert_invalid(&self, problem: route_guard::TokenProblem, secret: &str) {
        self.assert_invalid_described(problem.description(), secret);
    }

    /// Asserts 400 `invalid_request` for exactly `problem`, with a `Bearer` challenge.
    pub fn assert_invalid_request(&self, problem: route_guard::RequestProblem, secret: &str) {
        self.assert_problem(400, secret);
        let wanted = bearer_error("invalid_request", problem.description());
        assert_eq!(self.challenge.as_deref(), Some(wanted.as_str()), "{self:?}");
    }

    /// Asserts 403 `insufficient_scope` asking for exactly `scopes` (space-separated).
    pub fn assert_insufficient_scope(&self, scopes: &str, secret: &str) {
        self.assert_problem(403, secret);
        let wanted = format!(
            r#"{}, scope="{scopes}""#,
            bearer_error(
                "insufficient_scope",
                "The access token lacks a required scope"
            )
        );
        assert_eq!(self.challenge.as_deref(), Some(wanted.as_str()), "{self:?}");
    }

    /// Asserts 404 with a problem body and no challenge: a hidden route's refusal.
    pub fn assert_hidden(&self) {
        self.assert_problem(404, "");
        assert_eq!(self.challenge, None, "{self:?}");
    }

    /// Asserts 200 with exactly `body` and no challenge.
    pub fn assert_ok(&self, body: &str) {
        assert_eq!((self.status, self.body.as_str()), (200, body), "{self:?}");
        assert_eq!(self.challenge, None, "{self:?}");
    }
}

/// What a client sees of a response that may carry several challenges, and `Retry-After`.
#[derive(Debug)]
pub struct FullReply {
    /// The status, first challenge, content type and body.
    pub reply: Reply,
    /// Every `WWW-Authenticate` line, in order.
    pub challenges: Vec<String>,
    /// The `Retry-After` value, if any.
    pub retry_after: Option<String>,
}

impl FullReply {
    /// Asserts a problem document with `status`, exactly these challenge lines and nothing of
    /// `secret` in the body or any challenge.
    pub fn assert_refused(&self, status: u16, challenges: &[&str], secret: &str) {
        self.reply.assert_problem(status, secret);
        assert_eq!(self.challenges, challenges, "{self:?}");
        if !secret.is_empty() {
            assert!(
                self.challenges.iter().all(|c| !c.contains(secret)),
                "a challenge echoes the credential: {self:?}"
            );
        }
    }
}

/// Sends `req` and reads every challenge line and `Retry-After` besides what [`call`] reads.
pub async fn call_full<S, B>(app: &S, req: TestRequest) -> FullReply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(app, req.to_request()).await;
    let text = |v: &header::HeaderValue| v.to_str().unwrap_or("").to_owned();
    let challenges: Vec<String> = res
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .map(text)
        .collect();
    let retry_after = retry_after(res.headers());
    let status = res.status().as_u16();
    let content_type = res.headers().get(header::CONTENT_TYPE).map(text);
    let body = test::read_body(res).await;
    FullReply {
        reply: Reply {
            status,
            challenge: challenges.first().cloned(),
            content_type,
            body: String::from_utf8_lossy(&body).into_owned(),
        },
        challenges,
        retry_after,
    }
}

/// The `Retry-After` value of `headers`, as text.
pub fn retry_after(headers: &header::HeaderMap) -> Option<String> {
    headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `segment` with its first character changed to another base64url character: it still
/// decodes, to other bytes (the first character carries no padding bits).
pub fn flip_first(segment: &str) -> String {
    let replacement = if segment.starts_with('e') { "f" } else { "e" };
    format!("{replacement}{}", segment.get(1..).unwrap_or_default())
}

/// `jwt` with the first character of its signature flipped: well formed, no longer verifying.
pub fn tampered(jwt: &str) -> String {
    match jwt.rsplit_once('.') {
        Some((message, signature)) => format!("{message}.{}", flip_first(signature)),
        None => flip_first(jwt),
    }
}

// Fixtures that several test files built for themselves.

/// A JWT configuration around `key`, with [`ISSUER`] and [`AUDIENCE`] required.
pub fn key_builder(key: JwtKey) -> JwtAuthenticatorBuilder {
    JwtAuthenticator::builder()
        .key(key)
        .issuer(ISSUER)
        .audience(AUDIENCE)
}

/// The test guard's configuration (see [`guard`]) believing the forwarding headers of peers in
/// `proxies`; add a country resolver or other options, then build.
pub fn behind(proxies: route_guard::TrustedProxies) -> route_guard::RouteGuardBuilder {
    let jwt = jwt_builder().build().expect("config is valid");
    RouteGuard::builder(jwt)
        .realm(REALM)
        .trusted_proxies(proxies)
}

/// The test guard believing the forwarding headers of peers in these CIDR `ranges`.
pub fn proxied_guard(ranges: &[&str]) -> RouteGuard {
    let proxies = route_guard::TrustedProxies::new(ranges).expect("ranges are CIDRs");
    behind(proxies).build().expect("config is valid")
}

/// A GET of `path` from the socket address `peer` (`192.0.2.1:80`, `[2001:db8::1]:443`).
pub fn from_peer(peer: &str, path: &str) -> TestRequest {
    let addr = peer
        .parse()
        .unwrap_or_else(|e| panic!("{peer} is no socket address: {e}"));
    get(path).peer_addr(addr)
}

/// An `Authorization: Basic` header for `user` and `password` (RFC 7617).
pub fn basic(user: &str, password: &str) -> (header::HeaderName, String) {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    (header::AUTHORIZATION, format!("Basic {encoded}"))
}

/// Basic logins for one `user` with `password` and `roles` (Argon2-hashed, as in production):
/// checking a password is asynchronous (a blocking-pool hash), unlike a token.
pub fn basic_users(user: &str, password: &str, roles: &[&str]) -> route_guard::BasicAuthenticator {
    let hash = route_guard::hash_password(password).expect("a password hashes");
    let users = route_guard::Argon2Users::new()
        .user(user, &hash, roles.iter().copied())
        .expect("the hash is valid");
    route_guard::BasicAuthenticator::new(users).expect("config is valid")
}

/// Two token issuers of one's own, each with its own HS256 secret: `(iss, secret)`.
pub const STAFF: (&str, &[u8]) = (
    "https://sso.example.com/realms/staff",
    b"the staff issuer's secret: 32 bytes or more of it",
);
/// See [`STAFF`].
pub const PARTNERS: (&str, &[u8]) = (
    "https://partners.example.net",
    b"the partners' issuer's secret, long enough as well",
);

/// A verifier of `issuer`'s tokens alone: its secret, its `iss`, [`AUDIENCE`].
pub fn issuer_with_secret((iss, secret): (&str, &[u8])) -> JwtAuthenticatorBuilder {
    JwtAuthenticator::builder()
        .key(JwtKey::hs256(secret).expect("the secret is long enough"))
        .issuer(iss)
        .audience(AUDIENCE)
}

/// A token of `issuer` (see [`STAFF`]) for `sub` with `roles`, signed by jsonwebtoken.
pub fn issued_by((iss, secret): (&str, &[u8]), sub: &str, roles: &[&str]) -> String {
    sign(
        &Header::new(Algorithm::HS256),
        &json!({ "iss": iss, "sub": sub, "aud": AUDIENCE, "exp": now() + 600, "roles": roles }),
        &EncodingKey::from_secret(secret),
    )
}
