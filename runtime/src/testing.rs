//! Test support: a built-in issuer that mints tokens, so an application tests its guarded
//! handlers in a few lines. Enabled by the `testing` feature; use it in `[dev-dependencies]`.
//!
//! ```
//! use actix_web::{App, get, test};
//! use route_guard::require_role;
//! use route_guard::testing::TestIssuer;
//!
//! #[get("/admin")]
//! #[require_role("admin")]
//! async fn admin() -> &'static str {
//!     "hello, admin"
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let issuer = TestIssuer::new();
//! let app = test::init_service(App::new().app_data(issuer.guard()).service(admin)).await;
//!
//! let req = test::TestRequest::get().uri("/admin").insert_header(issuer.bearer("ada", ["admin"]));
//! assert_eq!(test::call_service(&app, req.to_request()).await.status(), 200);
//!
//! let req = test::TestRequest::get().uri("/admin").insert_header(issuer.bearer("bob", ["user"]));
//! assert_eq!(test::call_service(&app, req.to_request()).await.status(), 403);
//! # });
//! ```
//!
//! # The test key is public
//!
//! Its private half is in this crate's source, so anyone can mint tokens it verifies. It is
//! kept out of production configurations three ways:
//!
//! - [`TestIssuer::key`] returns a [`TestKey`], which
//!   [`JwtAuthenticatorBuilder::key`](crate::JwtAuthenticatorBuilder::key) does not accept;
//!   only [`JwtAuthenticatorBuilder::test_key`] does, a method that exists with the `testing`
//!   feature alone (enable it in `[dev-dependencies]` only);
//! - an authenticator trusting the key by any other road (its PEM, [`TestIssuer::jwks`] or a
//!   fetched JWKS holding it) logs an error when it is built or the set is fetched;
//! - so does one built from a [`TestKey`] in a release build (without `debug_assertions`).
//!
//! ```compile_fail
//! # use route_guard::{JwtAuthenticator, testing::TestIssuer};
//! // A `TestKey` is not a `JwtKey`: production builders do not take it.
//! let jwt = JwtAuthenticator::builder().key(TestIssuer::new().key());
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::header::{AUTHORIZATION, HeaderName};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

use crate::{JwtAuthenticator, JwtAuthenticatorBuilder, JwtKey, RouteGuard};

/// The issuer (`iss`) of test tokens.
pub const TEST_ISSUER: &str = "https://issuer.route-guard.test";
/// The audience (`aud`) of test tokens.
pub const TEST_AUDIENCE: &str = "route-guard-test";
/// The `kid` of the test key.
pub const TEST_KID: &str = "route-guard-test-key";

// An Ed25519 key made for these tests only. Asymmetric, so a test configuration looks like a
// production one and the published half can be served as a JWKS.
const PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIF5oNA6L4OrSUQL+kkiyWc2v2rNLynqmp3S/RHn45JDJ
-----END PRIVATE KEY-----
";
const PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA8SoK9bQ67Tnn1d2woiQZhirIz9A1kOYk0KBMFfUHyPU=
-----END PUBLIC KEY-----
";
const PUBLIC_X: &str = "8SoK9bQ67Tnn1d2woiQZhirIz9A1kOYk0KBMFfUHyPU";

/// Mints EdDSA tokens with a built-in test key and configures guards that accept them.
#[derive(Clone)]
pub struct TestIssuer {
    encoding: EncodingKey,
}

impl Default for TestIssuer {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &TEST_ISSUER)
            .finish()
    }
}

impl TestIssuer {
    /// The test issuer.
    #[must_use]
    pub fn new() -> Self {
        crate::auth::jwt::install_backend();
        // The PEM is a constant checked by this module's tests; a failure is a build defect.
        #[allow(clippy::expect_used)]
        let encoding =
            EncodingKey::from_ed_pem(PRIVATE_PEM.as_bytes()).expect("the built-in test key parses");
        TestIssuer { encoding }
    }

    /// The verification key, with its `kid`, for
    /// [`JwtAuthenticatorBuilder::test_key`]. Not a [`JwtKey`]: production configurations,
    /// which take `JwtKey`s, cannot be given it by mistake.
    #[must_use]
    pub fn key(&self) -> TestKey {
        #[allow(clippy::expect_used)]
        let key = JwtKey::ed_pem(PUBLIC_PEM).expect("the built-in test key parses");
        TestKey(JwtKey {
            test_only: true,
            ..key.with_kid(TEST_KID)
        })
    }

    /// An authenticator builder that accepts this issuer's tokens: key, issuer and audience
    /// set. Add presets or claim paths as the application under test does.
    pub fn authenticator(&self) -> JwtAuthenticatorBuilder {
        JwtAuthenticator::builder()
            .test_key(self.key())
            .issuer(TEST_ISSUER)
            .audience(TEST_AUDIENCE)
    }

    /// A guard that accepts this issuer's tokens.
    #[must_use]
    pub fn guard(&self) -> RouteGuard {
        #[allow(clippy::expect_used)]
        let jwt = self
            .authenticator()
            .build()
            .expect("the test configuration is valid");
        RouteGuard::new(jwt)
    }

    /// A token for `subject`, to refine and [`sign`](TestToken::sign).
    pub fn token(&self, subject: &str) -> TestToken<'_> {
        let now = now();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(TEST_ISSUER));
        claims.insert("aud".into(), json!(TEST_AUDIENCE));
        claims.insert("sub".into(), json!(subject));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + 600));
        TestToken {
            issuer: self,
            claims,
            typ: None,
        }
    }

    /// An `Authorization: Bearer` header for `subject` holding `roles`, valid for ten minutes:
    /// ready for `TestRequest::insert_header`.
    pub fn bearer<I, S>(&self, subject: &str, roles: I) -> (HeaderName, String)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.token(subject).roles(roles).bearer()
    }

    /// The JWKS document publishing the test key, for testing a [`Jwks`](crate::Jwks)
    /// configuration against a local server.
    #[must_use]
    pub fn jwks(&self) -> Value {
        json!({ "keys": [{
            "kty": "OKP", "crv": "Ed25519", "x": PUBLIC_X,
            "kid": TEST_KID, "alg": "EdDSA", "use": "sig"
        }]})
    }
}

/// The built-in test key, as [`TestIssuer::key`] hands it out: accepted by
/// [`JwtAuthenticatorBuilder::test_key`] only. See [the module docs](self#the-test-key-is-public).
#[derive(Clone, Debug)]
pub struct TestKey(JwtKey);

impl JwtAuthenticatorBuilder {
    /// Trusts the built-in test key, for tests; exists with the `testing` feature only.
    ///
    /// Anyone can mint tokens this key verifies: a release build (without
    /// `debug_assertions`) that trusts it logs an error when the authenticator is built.
    pub fn test_key(self, key: TestKey) -> Self {
        self.key(key.0)
    }
}

/// An `Authorization: Basic` header for `user` and `password` (RFC 7617), ready for
/// `TestRequest::insert_header`.
///
/// ```
/// use route_guard::testing::basic;
///
/// let (name, value) = basic("alice", "correct horse");
/// assert_eq!(name, "authorization");
/// assert_eq!(value, "Basic YWxpY2U6Y29ycmVjdCBob3JzZQ==");
/// ```
#[must_use]
pub fn basic(user: &str, password: &str) -> (HeaderName, String) {
    let credentials = STANDARD.encode(format!("{user}:{password}"));
    (AUTHORIZATION, format!("Basic {credentials}"))
}

/// A test token being described; see [`TestIssuer::token`].
#[must_use = "call `sign` to get the token"]
pub struct TestToken<'a> {
    issuer: &'a TestIssuer,
    claims: Map<String, Value>,
    typ: Option<String>,
}

impl TestToken<'_> {
    /// Sets `roles` (as an array).
    pub fn roles<I, S>(self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let roles: Vec<String> = roles.into_iter().map(Into::into).collect();
        self.claim("roles", json!(roles))
    }

    /// Sets `scope` (space-separated, as RFC 9068 sends it).
    pub fn scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        self.claim("scope", json!(scopes.join(" ")))
    }

    /// Sets any claim; `Value::Null` removes it.
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        if value.is_null() {
            self.claims.remove(name);
        } else {
            self.claims.insert(name.to_owned(), value);
        }
        self
    }

    /// Expires `seconds` from now; negative for an expired token.
    pub fn expires_in(self, seconds: i64) -> Self {
        let exp = now() + seconds;
        self.claim("exp", json!(exp))
    }

    /// Sets the header's `typ`, e.g. `at+jwt`.
    pub fn typ(mut self, typ: &str) -> Self {
        self.typ = Some(typ.to_owned());
        self
    }

    /// An `Authorization: Bearer` header carrying the signed token, ready for
    /// `TestRequest::insert_header`.
    ///
    /// ```
    /// use route_guard::testing::TestIssuer;
    ///
    /// let issuer = TestIssuer::new();
    /// let (name, value) = issuer.token("ada").scopes(["read"]).bearer();
    /// assert_eq!(name, "authorization");
    /// let token = value.strip_prefix("Bearer ").unwrap();
    /// let jwt = issuer.authenticator().build()?;
    /// assert!(jwt.verify(token).is_ok_and(|identity| identity.has_scope("read")));
    /// # Ok::<(), route_guard::ConfigError>(())
    /// ```
    #[must_use]
    pub fn bearer(self) -> (HeaderName, String) {
        (AUTHORIZATION, format!("Bearer {}", self.sign()))
    }

    /// The signed compact JWT.
    #[must_use]
    pub fn sign(self) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(TEST_KID.to_owned());
        header.typ = self.typ.or(header.typ);
        // Signing a JSON map with a valid key cannot fail; an empty string fails verification
        // loudly in the caller's test.
        jsonwebtoken::encode(&header, &self.claims, &self.issuer.encoding).unwrap_or_default()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_carry_what_was_asked() {
        let issuer = TestIssuer::new();
        let jwt = issuer.authenticator().build().unwrap();
        let token = issuer
            .token("ada")
            .roles(["admin"])
            .claim("tenant", json!("acme"))
            .sign();
        let identity = jwt.verify(&token).unwrap();
        assert_eq!(identity.subject(), "ada");
        assert!(identity.has_role("admin"));
        assert_eq!(identity.claims()["tenant"], "acme");
        let expired = issuer.token("ada").expires_in(-3600).sign();
        assert_eq!(
            jwt.verify(&expired).err(),
            Some(crate::TokenProblem::Expired)
        );
    }

    #[test]
    fn the_published_jwks_is_the_signing_key() {
        let issuer = TestIssuer::new();
        let keys = JwtKey::from_jwks(issuer.jwks().to_string()).unwrap();
        let mut jwt = JwtAuthenticator::builder()
            .issuer(TEST_ISSUER)
            .audience(TEST_AUDIENCE);
        for key in keys {
            jwt = jwt.key(key);
        }
        let token = issuer.token("ada").sign();
        assert_eq!(
            jwt.build().unwrap().verify(&token).unwrap().subject(),
            "ada"
        );
    }
}
