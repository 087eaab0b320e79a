//! The attack catalogue (issue 6): every hostile or broken request a client can send, one named
//! row each, with the exact status, the exact challenge and a problem body that never echoes
//! the token. Rows about the request live here; rows about the token's header and signature in
//! `hostile/tokens.rs`, about its claims in `hostile/claims.rs`; requests that only a real
//! socket can carry (control bytes, oversized header blocks) in `hostile/raw.rs`.
//!
//! Every class of `docs/wire-contract.md` has rows here, even where `wire.rs` or `algorithms.rs` test
//! the same behaviour in more depth: this file is the one place a reviewer reads.

#[path = "hostile/claims.rs"]
mod claims_rows;
mod common;
#[path = "hostile/keys.rs"]
mod key_rows;
#[path = "hostile/raw.rs"]
mod raw;
#[path = "hostile/requests.rs"]
mod request_rows;
#[path = "hostile/tokens.rs"]
mod token_rows;

use actix_web::http::header::{AUTHORIZATION, HeaderValue};
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, get};
use common::*;
use route_guard::{
    JwtKey, RequestProblem, RouteGuard, TokenProblem, TokenType, require_auth, require_role,
    require_scope,
};

#[get("/me")]
#[require_auth]
async fn me() -> &'static str {
    "me"
}

#[get("/admin")]
#[require_role("admin")]
async fn admin() -> &'static str {
    "admin"
}

#[get("/scoped")]
#[require_scope("read")]
async fn scoped() -> &'static str {
    "scoped"
}

const RSA_PUBLIC: &str = include_str!("../keys/rsa.pub");
const RSA_PRIVATE: &str = include_str!("../keys/rsa.key");
const P256_PUBLIC: &str = include_str!("../keys/p256.pub");
const ATTACKER_PRIVATE: &str = include_str!("../keys/attacker-p256.key");
const ATTACKER_PUBLIC: &str = include_str!("../keys/attacker-p256.pub");

/// The server configuration a row is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// HS256 over the test secret, no `kid`; issuer and audience required.
    Hs256,
    /// The same secret, named `k1`.
    Named,
    /// An ES256 public key (`tests/keys/p256.pub`).
    Es256,
    /// An RS256 public key (`tests/keys/rsa.pub`).
    Rs256,
    /// The attacker's ES256 public key: the control proving the attacker's tokens are sound.
    AttackerTrusted,
    /// HS256, tokens accepted in `?access_token=` too (RFC 6750 §2.3).
    QueryAllowed,
    /// HS256, `typ` must be `at+jwt` (RFC 9068).
    AccessToken,
}

impl Setup {
    fn guard(self) -> RouteGuard {
        let key = |k: Result<JwtKey, route_guard::ConfigError>| {
            k.unwrap_or_else(|e| panic!("{self:?}: {e}"))
        };
        let builder = match self {
            Setup::Hs256 => jwt_builder(),
            Setup::Named => key_builder(key(JwtKey::hs256(SECRET)).with_kid("k1")),
            Setup::Es256 => key_builder(key(JwtKey::ec_pem(ES256, P256_PUBLIC))),
            Setup::Rs256 => key_builder(key(JwtKey::rsa_pem(RS256, RSA_PUBLIC))),
            Setup::AttackerTrusted => key_builder(key(JwtKey::ec_pem(ES256, ATTACKER_PUBLIC))),
            Setup::QueryAllowed => jwt_builder().allow_query_token(true),
            Setup::AccessToken => jwt_builder().token_type(TokenType::AccessToken),
        };
        guard_with(builder.build().unwrap_or_else(|e| panic!("{self:?}: {e}")))
    }
}

use jsonwebtoken::Algorithm::{ES256, RS256};

/// What the client must see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 200 from the handler.
    Ok,
    /// 401 with the bare `Bearer realm="test"` challenge: no usable credentials were sent.
    Bare,
    /// 401 `invalid_token` for exactly this problem.
    Invalid(TokenProblem),
    /// 400 `invalid_request` for exactly this problem.
    Request(RequestProblem),
    /// 403 without a challenge.
    Forbidden,
    /// 403 `insufficient_scope` naming this scope.
    Scope(&'static str),
}

/// One attack: a named request and the answer it must get.
struct Row {
    name: String,
    setup: Setup,
    uri: String,
    /// The `Authorization` lines, as raw bytes.
    lines: Vec<Vec<u8>>,
    /// Text the response must not contain (the token), when long enough to be telling.
    secret: String,
    expect: Expect,
}

/// A row sending `Authorization: Bearer <token>` to `/admin` of [`Setup::Hs256`].
fn row(name: impl Into<String>, token: &str, expect: Expect) -> Row {
    Row {
        name: name.into(),
        setup: Setup::Hs256,
        uri: "/admin".to_owned(),
        lines: vec![format!("Bearer {token}").into_bytes()],
        secret: token.to_owned(),
        expect,
    }
}

impl Row {
    fn on(mut self, setup: Setup) -> Self {
        self.setup = setup;
        self
    }

    fn at(mut self, uri: impl Into<String>) -> Self {
        self.uri = uri.into();
        self
    }

    /// Replaces the `Authorization` lines.
    fn lines<I: IntoIterator<Item = B>, B: AsRef<[u8]>>(mut self, lines: I) -> Self {
        self.lines = lines.into_iter().map(|l| l.as_ref().to_vec()).collect();
        self
    }

    fn request(&self) -> TestRequest {
        self.lines.iter().fold(get(&self.uri), |req, line| {
            let value = HeaderValue::from_bytes(line)
                .unwrap_or_else(|e| panic!("{}: not a header value: {e}", self.name));
            req.append_header((AUTHORIZATION, value))
        })
    }

    /// Whether `reply` is what this row deserves; panics with the row's name otherwise.
    fn check(&self, reply: &Reply) {
        let secret = if self.secret.len() >= 12 {
            self.secret.as_str()
        } else {
            ""
        };
        let challenge = reply.challenge.as_deref();
        match self.expect {
            Expect::Ok => assert_eq!(reply.status, 200, "{reply:?}"),
            Expect::Bare => reply.assert_bare_401(secret),
            Expect::Invalid(problem) => {
                reply.assert_problem(401, secret);
                let wanted = format!(
                    r#"Bearer realm="test", error="invalid_token", error_description="{}""#,
                    problem.description()
                );
                assert_eq!(challenge, Some(wanted.as_str()), "{reply:?}");
            }
            Expect::Request(problem) => {
                reply.assert_problem(400, secret);
                let wanted = format!(
                    r#"Bearer realm="test", error="invalid_request", error_description="{}""#,
                    problem.description()
                );
                assert_eq!(challenge, Some(wanted.as_str()), "{reply:?}");
            }
            Expect::Forbidden => {
                reply.assert_problem(403, secret);
                assert_eq!(challenge, None, "{reply:?}");
            }
            Expect::Scope(scope) => {
                reply.assert_problem(403, secret);
                let wanted = format!(
                    r#"Bearer realm="test", error="insufficient_scope", error_description="The access token lacks a required scope", scope="{scope}""#
                );
                assert_eq!(challenge, Some(wanted.as_str()), "{reply:?}");
            }
        }
    }
}

/// Runs `rows`, one fresh app per setup the rows name, and reports every row that got the
/// wrong answer. Every row runs: the setups come from the rows, not from a list beside them.
async fn run(rows: Vec<Row>) {
    let mut failures = Vec::new();
    let mut setups: Vec<Setup> = Vec::new();
    for row in &rows {
        if !setups.contains(&row.setup) {
            setups.push(row.setup);
        }
    }
    let mut ran = 0;
    for setup in setups {
        let app = init_service(
            App::new()
                .app_data(setup.guard())
                .service(me)
                .service(admin)
                .service(scoped),
        )
        .await;
        for row in rows.iter().filter(|row| row.setup == setup) {
            let reply = call(&app, row.request()).await;
            let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                row.check(&reply);
            }));
            if checked.is_err() {
                failures.push(row.name.clone());
            }
            ran += 1;
        }
    }
    assert_eq!(ran, rows.len(), "every row runs");
    assert!(failures.is_empty(), "rows that failed: {failures:#?}");
}

#[actix_web::test]
async fn requests() {
    let mut rows = scheme_rows();
    rows.extend(request_rows::rows());
    run(rows).await;
}

#[actix_web::test]
async fn token_headers_and_signatures() {
    let mut rows = token_rows::rows();
    rows.extend(key_rows::rows());
    run(rows).await;
}

#[actix_web::test]
async fn token_claims() {
    run(claims_rows::rows()).await;
}

/// `iss` is a single string (RFC 7519 §4.1.1), even where jsonwebtoken takes an array.
#[actix_web::test]
async fn issuer_arrays() {
    run(claims_rows::issuer_arrays()).await;
}

/// The scheme, its case, whitespace and the bytes around the token.
fn scheme_rows() -> Vec<Row> {
    use Expect::*;
    let jwt = token("root", &["admin"]);
    let header = |name: &str, value: &[u8], expect| row(name, &jwt, expect).lines([value]);
    let with = |prefix: &str, suffix: &str| format!("{prefix}{jwt}{suffix}").into_bytes();
    vec![
        row("no Authorization header", &jwt, Bare).lines(Vec::<&[u8]>::new()),
        header("Basic scheme", b"Basic YWxpY2U6c2VjcmV0", Bare),
        header("raw JWT without a scheme", jwt.as_bytes(), Bare),
        header("Token scheme", &with("Token ", ""), Bare),
        header("tab after the scheme", &with("Bearer\t", ""), Bare),
        header("scheme glued to the token", &with("Bearer", ""), Bare),
        header("lower-case scheme", &with("bearer ", ""), Ok),
        header("upper-case scheme", &with("BEARER ", ""), Ok),
        header("mixed-case scheme", &with("bEaReR ", ""), Ok),
        header("spaces around the token", &with("  Bearer    ", "   "), Ok),
        header("empty field value", b"", Bare),
        header("whitespace-only field value", b"   \t ", Bare),
        header("scheme only", b"Bearer", Invalid(TokenProblem::Empty)),
        header("empty token", b"Bearer ", Invalid(TokenProblem::Empty)),
        header(
            "whitespace-only token",
            b"Bearer    \t  ",
            Invalid(TokenProblem::Empty),
        ),
        header(
            "two tokens",
            &with("Bearer ", " second"),
            Invalid(TokenProblem::Malformed),
        ),
        header(
            "comma after the token",
            &with("Bearer ", ","),
            Invalid(TokenProblem::Malformed),
        ),
        header(
            "tab inside the token",
            &with("Bearer a\t", ""),
            Invalid(TokenProblem::Malformed),
        ),
        header(
            "quoted token",
            &with("Bearer \"", "\""),
            Invalid(TokenProblem::Malformed),
        ),
        header(
            "U+00FF (UTF-8) in the token",
            &with("Bearer \u{ff}", ""),
            Invalid(TokenProblem::Malformed),
        ),
        header(
            "raw 0xFF byte in the token",
            b"Bearer ab\xffcd",
            Invalid(TokenProblem::Malformed),
        ),
        header(
            "raw 0x80 byte after the token",
            &[&with("Bearer ", "")[..], b"\x80"].concat(),
            Invalid(TokenProblem::Malformed),
        ),
        header("non-UTF-8 bytes as the scheme", b"\xff\xfe abc", Bare),
        header(
            "UTF-8 letter in the token",
            "Bearer é".as_bytes(),
            Invalid(TokenProblem::Malformed),
        ),
        header(
            "padding in the middle",
            b"Bearer ab=cd",
            Invalid(TokenProblem::Malformed),
        ),
        header(
            "padding only",
            b"Bearer ===",
            Invalid(TokenProblem::Malformed),
        ),
    ]
}
