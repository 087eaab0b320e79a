//! A guarded demo server a newcomer can curl.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! It verifies HS256 tokens signed with `QUICKSTART_SECRET` (a development default when unset)
//! that carry `iss = aud = "quickstart"`, and Basic logins for one user, `olga`. It prints
//! ready-to-paste `curl` lines, grouped by the answer they get: 200, 401 (who are you?) and
//! 403 (we know who you are, and no). Set `QUICKSTART_ADDR` to listen elsewhere than
//! 127.0.0.1:8080, and `RUST_LOG=debug` to see why each request was refused.
//!
//! It trusts its own loopback as a proxy (`TrustedProxies::new(["127.0.0.1/32", "::1/128"])`),
//! so a line can show what a proxy's `X-Forwarded-For` does; behind a real proxy, trust the
//! proxy's address instead. Countries come from a small in-memory table over the
//! documentation ranges of RFC 5737; a real deployment loads a country file or a MaxMind
//! database instead.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpServer, Responder, get, web};
use jsonwebtoken::{EncodingKey, Header};
use route_guard::{
    Argon2Users, Authenticated, BasicAuthenticator, ConfigError, CountryTable, ForwardedHeader,
    JwtAuthenticator, JwtKey, MaybeAuthenticated, RouteGuard, TrustedProxies, allow_countries,
    hash_password, require_auth, require_ip, require_role, require_scope,
};
use serde_json::json;

/// The development secret used when `QUICKSTART_SECRET` is unset. Never use it in production.
pub const DEV_SECRET: &str = "quickstart development secret - change me in production";
/// The `iss` and `aud` every quickstart token carries.
pub const ISSUER: &str = "quickstart";
/// How long printed tokens stay valid.
pub const TOKEN_LIFETIME_SECS: u64 = 3600;
/// The Basic user and their password.
pub const BASIC_USER: (&str, &str) = ("olga", "correct horse battery staple");

#[get("/public")]
async fn public() -> &'static str {
    "anyone can read this\n"
}

#[get("/hello")]
async fn hello(user: MaybeAuthenticated) -> String {
    match user.into_inner() {
        Some(user) => format!("hello, {}\n", user.subject()),
        None => "hello, stranger\n".to_owned(),
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

#[get("/reports")]
#[require_role(any("admin", "auditor"))]
async fn reports() -> &'static str {
    "quarterly numbers\n"
}

#[get("/items")]
#[require_scope("read:items")]
async fn items() -> &'static str {
    "pens, paper\n"
}

/// Locked to an internal range: 403 from anywhere else, whoever is asking.
#[get("/internal")]
#[require_role("admin")]
#[require_ip("10.0.0.0/8")]
async fn internal() -> &'static str {
    "internal dashboard\n"
}

/// Geo-blocked: open only to Germany and France.
#[get("/offers")]
#[allow_countries("DE", "FR")]
async fn offers() -> &'static str {
    "offers for Germany and France\n"
}

/// The quickstart's routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(public)
        .service(hello)
        .service(me)
        .service(admin)
        .service(reports)
        .service(items)
        .service(internal)
        .service(offers);
}

/// The demo's countries: the documentation ranges of RFC 5737, given countries for the show.
pub fn countries() -> Result<CountryTable, ConfigError> {
    CountryTable::new()
        .range("192.0.2.0/24", "DE")?
        .range("198.51.100.0/24", "FR")?
        .range("203.0.113.0/24", "RU")
}

/// The guard: HS256 tokens from `secret`, issued by and for `quickstart`, or Basic for
/// [`BASIC_USER`]; the loopback trusted as a proxy that writes `X-Forwarded-For`.
pub fn guard(secret: &str) -> Result<RouteGuard, ConfigError> {
    let jwt = JwtAuthenticator::builder()
        .key(JwtKey::hs256(secret)?)
        .issuer(ISSUER)
        .audience(ISSUER)
        .build()?;
    let (user, password) = BASIC_USER;
    let users = Argon2Users::new().user(user, &hash_password(password)?, ["admin"])?;
    let proxies =
        TrustedProxies::new(["127.0.0.1/32", "::1/128"])?.reading(ForwardedHeader::XForwardedFor);
    RouteGuard::builder(jwt)
        .or(BasicAuthenticator::new(users)?)
        .realm("quickstart")
        .trusted_proxies(proxies)
        .countries(countries()?)
        .build()
}

/// A token for `sub` holding `roles` and `scope`, expiring `lifetime` seconds from now
/// (negative: expired).
pub fn mint(secret: &str, sub: &str, roles: &[&str], scope: &str, lifetime: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = json!({
        "iss": ISSUER,
        "aud": ISSUER,
        "sub": sub,
        "roles": roles,
        "scope": scope,
        "iat": now,
        "exp": now.saturating_add_signed(lifetime),
    });
    let key = EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&Header::default(), &claims, &key).unwrap_or_default()
}

/// Which of the three answers a line gets, and so the group it is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// 200: let in.
    Welcome,
    /// 401: the request lacks valid credentials.
    WhoAreYou,
    /// 403: the caller is known but not allowed, or a rule that ignores credentials refuses.
    KnownAndNo,
}

impl Group {
    /// The heading the group is printed under.
    pub fn heading(self) -> &'static str {
        match self {
            Group::Welcome => "200: welcome",
            Group::WhoAreYou => {
                "401: who are you? (no valid credentials; WWW-Authenticate says how)"
            }
            Group::KnownAndNo => "403: we know, and no (not allowed, whatever the credentials)",
        }
    }
}

/// One line to paste: what it shows, the status it gets, the headers it sends and the path.
pub struct Example {
    /// What the line demonstrates.
    pub what: &'static str,
    /// The status the server answers with.
    pub status: u16,
    /// The headers the line sends, e.g. `Authorization`.
    pub headers: Vec<(&'static str, String)>,
    /// The path requested.
    pub path: &'static str,
}

impl Example {
    /// The group the line is printed in.
    pub fn group(&self) -> Group {
        match self.status {
            401 => Group::WhoAreYou,
            403 => Group::KnownAndNo,
            _ => Group::Welcome,
        }
    }

    /// The `curl` command for this example against `base` (e.g. `http://127.0.0.1:8080`).
    pub fn curl(&self, base: &str) -> String {
        let headers: String = self
            .headers
            .iter()
            .map(|(name, value)| format!(" -H '{name}: {value}'"))
            .collect();
        format!("curl -i{headers} {base}{}", self.path)
    }
}

/// The printed examples, with freshly minted tokens.
pub fn examples(secret: &str) -> Vec<Example> {
    let lifetime = TOKEN_LIFETIME_SECS as i64;
    let user = mint(secret, "ursula", &["user"], "profile", lifetime);
    let auditor = mint(secret, "audrey", &["auditor"], "profile", lifetime);
    let ada = mint(secret, "ada", &["admin"], "profile read:items", lifetime);
    let expired = mint(secret, "ada", &["admin"], "", -3600);
    let bearer = |token: &str| ("Authorization", format!("Bearer {token}"));
    let basic = |user: &str, password: &str| {
        use base64::Engine as _;
        let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        ("Authorization", format!("Basic {pair}"))
    };
    let from = |ip: &str| ("X-Forwarded-For", ip.to_owned());
    let (olga, password) = BASIC_USER;
    let example = |what, status, headers, path| Example {
        what,
        status,
        headers,
        path,
    };
    vec![
        example("no guard", 200, vec![], "/public"),
        example(
            "optional login: anonymous is welcome",
            200,
            vec![],
            "/hello",
        ),
        example(
            "any authenticated caller: who am I?",
            200,
            vec![bearer(&user)],
            "/me",
        ),
        example("the admin is let in", 200, vec![bearer(&ada)], "/admin"),
        example(
            "an auditor reads reports",
            200,
            vec![bearer(&auditor)],
            "/reports",
        ),
        example(
            "Basic with the right password",
            200,
            vec![basic(olga, password)],
            "/admin",
        ),
        example(
            "a token with the read:items scope",
            200,
            vec![bearer(&ada)],
            "/items",
        ),
        example(
            "the trusted proxy (here: loopback) says the client is inside 10.0.0.0/8",
            200,
            vec![bearer(&ada), from("10.1.2.3")],
            "/internal",
        ),
        example(
            "a client in Germany (192.0.2.7)",
            200,
            vec![from("192.0.2.7")],
            "/offers",
        ),
        example("no Authorization header", 401, vec![], "/admin"),
        example(
            "a token without the `Bearer ` prefix",
            401,
            vec![("Authorization", ada.clone())],
            "/admin",
        ),
        example("an expired token", 401, vec![bearer(&expired)], "/admin"),
        example(
            "Basic with a wrong password",
            401,
            vec![basic(olga, "guess")],
            "/admin",
        ),
        example(
            "Basic for a user who does not exist: the same answer, after the same work",
            401,
            vec![basic("mallory", "guess")],
            "/admin",
        ),
        example(
            "optional login, but a bad token is still refused",
            401,
            vec![bearer(&expired)],
            "/hello",
        ),
        example(
            "a user is known but not allowed",
            403,
            vec![bearer(&user)],
            "/admin",
        ),
        example(
            "an auditor is not an admin",
            403,
            vec![bearer(&auditor)],
            "/admin",
        ),
        example(
            "a token without the read:items scope (insufficient_scope)",
            403,
            vec![bearer(&user)],
            "/items",
        ),
        example(
            "locked to 10.0.0.0/8: 127.0.0.1 is refused, even with an admin's token",
            403,
            vec![bearer(&ada)],
            "/internal",
        ),
        example(
            "geo-blocked: a client in Russia (203.0.113.7), whatever the credentials",
            403,
            vec![bearer(&ada), from("203.0.113.7")],
            "/offers",
        ),
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
        "Paste these (tokens are valid for an hour; RUST_LOG=debug shows each refusal's reason):"
    );
    let examples = examples(&secret);
    for group in [Group::Welcome, Group::WhoAreYou, Group::KnownAndNo] {
        println!("\n## {}\n", group.heading());
        for example in examples.iter().filter(|example| example.group() == group) {
            println!(
                "# {}: {}\n{}\n",
                example.status,
                example.what,
                example.curl(&base)
            );
        }
    }
    server.run().await
}
