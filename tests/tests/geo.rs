//! Geo-blocking on a real MaxMind-format database: ip-location-db's `geo-whois-asn-country`
//! (RIR whois and ASN data, IPv4 and IPv6), installed by `npm ci` from
//! `tests/geo/package-lock.json`. Its records carry a top-level `country_code`. The lock file
//! pins one build, so the countries asserted here were read from that build and cannot drift.

mod common;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use actix_web::test::{TestRequest, init_service};
use actix_web::{App, get};
use common::*;
use route_guard::{
    CountryCode, CountryResolver, MaxMindCountries, RouteGuard, RouteGuardBuilder, TrustedProxies,
    allow_countries, block_countries, require,
};

/// Well-known addresses and their country in the pinned build: Google and Quad9 resolvers,
/// RIPE NCC, Strato and Hetzner, Free and FDN, Star Joint Venture (Pyongyang).
const KNOWN: &[(&str, &str)] = &[
    ("8.8.8.8", "US"),
    ("9.9.9.9", "US"),
    ("2001:4860:4860::8888", "US"),
    ("193.0.6.139", "NL"),
    ("2001:67c:2e8::1", "NL"),
    ("81.169.145.94", "DE"),
    ("2a01:4f8::1", "DE"),
    ("212.27.48.10", "FR"),
    ("2a01:e00::1", "FR"),
    ("80.67.169.12", "FR"),
    ("175.45.176.1", "KP"),
];

/// Addresses the database has no record for: private, loopback, link-local and TEST-NET-1.
/// (Its build maps the other documentation ranges, 198.51.100.0/24, 203.0.113.0/24 and
/// 2001:db8::/32, to countries, so they cannot stand for "unknown" here.)
const UNKNOWN: &[&str] = &["10.1.2.3", "127.0.0.1", "192.0.2.1", "::1", "fe80::1"];

const DE: &str = "81.169.145.94:4000";
const FR: &str = "[2a01:e00::1]:4000";
const US: &str = "8.8.8.8:4000";
const KP: &str = "175.45.176.1:4000";

/// The installed `.mmdb` file; `npm ci` runs at most once per process.
fn database() -> PathBuf {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        npm::ci(
            "geo",
            "the geo-blocking tests read a country database that an npm package ships",
        )
    });
    if let Err(error) = installed {
        panic!("{error}");
    }
    npm::dir("geo")
        .join("node_modules/@ip-location-db/geo-whois-asn-country-mmdb")
        .join("geo-whois-asn-country.mmdb")
}

fn countries() -> MaxMindCountries {
    let path = database();
    MaxMindCountries::open(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn builder() -> RouteGuardBuilder {
    RouteGuard::builder(jwt_builder().build().unwrap()).realm(REALM)
}

fn geo_guard() -> RouteGuard {
    builder().countries(countries()).build().unwrap()
}

/// Believes forwarding headers from 192.168.0.0/16.
fn proxied_guard() -> RouteGuard {
    builder()
        .countries(countries())
        .trusted_proxies(TrustedProxies::new(["192.168.0.0/16"]).unwrap())
        .build()
        .unwrap()
}

#[get("/eu")]
#[allow_countries("DE", "FR")]
async fn eu() -> &'static str {
    "eu"
}

#[get("/open")]
#[block_countries("KP")]
async fn open() -> &'static str {
    "open"
}

#[get("/staff")]
#[require(any(country("DE"), role("admin")))]
async fn staff() -> &'static str {
    "staff"
}

macro_rules! app {
    ($guard:expr) => {
        init_service(
            App::new()
                .app_data($guard)
                .service(eu)
                .service(open)
                .service(staff),
        )
        .await
    };
}

fn from(peer: &str, path: &str) -> TestRequest {
    get(path).peer_addr(peer.parse().unwrap())
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// No credentials, a valid admin token, a token that does not validate.
fn credentials() -> [Option<String>; 3] {
    [
        None,
        Some(format!("Bearer {}", token("root", &["admin"]))),
        Some("Bearer garbage.garbage.garbage".to_owned()),
    ]
}

fn authorized(req: TestRequest, authorization: Option<&String>) -> TestRequest {
    match authorization {
        Some(value) => req.insert_header(("authorization", value.as_str())),
        None => req,
    }
}

#[test]
fn the_database_locates_well_known_addresses_over_ipv4_and_ipv6() {
    let countries = countries();
    for (address, country) in KNOWN {
        let found = countries.country(ip(address));
        assert_eq!(found, CountryCode::new(country), "{address}");
    }
    for address in UNKNOWN {
        assert_eq!(countries.country(ip(address)), None, "{address}");
    }
    // An IPv4-mapped IPv6 address is its IPv4 address.
    assert_eq!(
        countries.country(ip("::ffff:8.8.8.8")),
        CountryCode::new("US")
    );
    // The same bytes through `from_bytes` answer the same.
    let bytes = std::fs::read(database()).unwrap();
    let in_memory = MaxMindCountries::from_bytes(bytes).unwrap();
    assert_eq!(in_memory.country(ip("8.8.8.8")), CountryCode::new("US"));
    assert!(
        format!("{countries:?}").contains("country"),
        "{countries:?}"
    );
}

#[test]
fn files_that_are_not_databases_are_config_errors() {
    let dir = std::env::temp_dir().join(format!("route-guard-geo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let real = std::fs::read(database()).unwrap();
    let marker = b"\xab\xcd\xefMaxMind.com".to_vec();
    let mut hostile_metadata = marker.clone();
    hostile_metadata.extend_from_slice(b"\xe1\x4bnode_count\xc4\xff\xff\xff\xff");
    let cases: [(&str, Vec<u8>); 5] = [
        ("empty", Vec::new()),
        ("text", b"this is not a MaxMind database\n".repeat(64)),
        ("marker-only", marker),
        ("hostile-metadata", hostile_metadata),
        ("truncated", real[..real.len() / 2].to_vec()),
    ];
    for (name, bytes) in cases {
        let path = dir.join(format!("{name}.mmdb"));
        std::fs::write(&path, &bytes).unwrap();
        let error = MaxMindCountries::open(&path).expect_err(name);
        assert!(
            error.to_string().contains(&*path.to_string_lossy()),
            "{name}: the error names the file: {error}"
        );
        assert!(MaxMindCountries::from_bytes(bytes).is_err(), "{name}");
    }
    let missing = MaxMindCountries::open(dir.join("missing.mmdb"));
    assert!(missing.is_err(), "a missing file");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[actix_web::test]
async fn allowed_countries_pass_without_credentials_being_read() {
    let app = app!(geo_guard());
    for peer in [
        DE,
        FR,
        "212.27.48.10:1",
        "[2a01:4f8::1]:1",
        "[::ffff:81.169.145.94]:1",
    ] {
        for authorization in credentials() {
            let reply = call(&app, authorized(from(peer, "/eu"), authorization.as_ref())).await;
            assert_eq!((reply.status, reply.body.as_str()), (200, "eu"), "{peer}");
        }
    }
}

#[actix_web::test]
async fn other_countries_are_forbidden_whatever_the_credentials() {
    let app = app!(geo_guard());
    for (peer, path) in [(US, "/eu"), ("193.0.6.139:1", "/eu"), (KP, "/open")] {
        for authorization in credentials() {
            let reply = call(&app, authorized(from(peer, path), authorization.as_ref())).await;
            reply.assert_forbidden();
        }
    }
    for peer in [US, DE, FR] {
        let reply = call(&app, from(peer, "/open")).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "open"), "{peer}");
    }
}

#[actix_web::test]
async fn a_country_or_a_role_asks_for_credentials_only_outside_the_country() {
    let app = app!(geo_guard());
    let reply = call(&app, from(DE, "/staff")).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "staff"));
    call(&app, from(US, "/staff")).await.assert_bare_401("");
    let admin = from(US, "/staff").insert_header(bearer(&token("root", &["admin"])));
    assert_eq!(call(&app, admin).await.status, 200);
    let user = from(US, "/staff").insert_header(bearer(&token("bob", &["user"])));
    call(&app, user).await.assert_forbidden();
    let forged = from(US, "/staff").insert_header(bearer("garbage.garbage.garbage"));
    let reply = call(&app, forged).await;
    reply.assert_invalid_token("malformed", "garbage.garbage.garbage");
}

#[actix_web::test]
async fn unknown_locations_fail_allow_lists_and_pass_block_lists_by_default() {
    let app = app!(geo_guard());
    for address in UNKNOWN {
        let peer = std::net::SocketAddr::new(ip(address), 4000).to_string();
        call(&app, from(&peer, "/eu")).await.assert_forbidden();
        let reply = call(&app, from(&peer, "/open")).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "open"), "{peer}");
        // `any(country, role)`: not in the country, so the role decides.
        call(&app, from(&peer, "/staff")).await.assert_bare_401("");
        let admin = from(&peer, "/staff").insert_header(bearer(&token("root", &["admin"])));
        assert_eq!(call(&app, admin).await.status, 200, "{peer}");
    }
}

#[actix_web::test]
async fn deny_unknown_country_makes_every_country_rule_refuse_unknown_locations() {
    let guard = builder()
        .countries(countries())
        .deny_unknown_country(true)
        .build()
        .unwrap();
    let app = app!(guard);
    for address in UNKNOWN {
        let peer = std::net::SocketAddr::new(ip(address), 4000).to_string();
        for path in ["/eu", "/open"] {
            for authorization in credentials() {
                let reply = call(&app, authorized(from(&peer, path), authorization.as_ref())).await;
                reply.assert_forbidden();
            }
        }
    }
    // The rest of a rule still decides: an admin from nowhere passes `any(country, role)`.
    for address in UNKNOWN {
        let peer = std::net::SocketAddr::new(ip(address), 4000).to_string();
        let admin = from(&peer, "/staff").insert_header(bearer(&token("root", &["admin"])));
        assert_eq!(call(&app, admin).await.status, 200, "{address}");
        call(&app, from(&peer, "/staff")).await.assert_bare_401("");
        let user = from(&peer, "/staff").insert_header(bearer(&token("bob", &["user"])));
        call(&app, user).await.assert_forbidden();
    }
    // Known locations are judged as before.
    assert_eq!(call(&app, from(DE, "/eu")).await.status, 200);
    assert_eq!(call(&app, from(US, "/open")).await.status, 200);
    call(&app, from(KP, "/open")).await.assert_forbidden();
}

#[actix_web::test]
async fn a_country_rule_without_a_resolver_is_a_server_error() {
    let app = app!(guard());
    for path in ["/eu", "/open", "/staff"] {
        for authorization in credentials() {
            let reply = call(&app, authorized(from(DE, path), authorization.as_ref())).await;
            reply.assert_problem(500, "");
            assert_eq!(reply.challenge, None, "{reply:?}");
            assert_eq!(
                reply.json()["detail"],
                "The server cannot authorize this request.",
                "generic: the cause is in the log only"
            );
        }
    }
}

#[actix_web::test]
async fn forwarding_headers_from_untrusted_peers_change_nothing() {
    for guard in [geo_guard(), proxied_guard()] {
        let app = app!(guard);
        for (name, value) in [
            ("x-forwarded-for", "81.169.145.94"),
            ("forwarded", "for=81.169.145.94"),
            ("x-real-ip", "81.169.145.94"),
        ] {
            let req = from(US, "/eu").insert_header((name, value));
            call(&app, req).await.assert_forbidden();
            let req = from(KP, "/open").insert_header((name, value));
            call(&app, req).await.assert_forbidden();
        }
        let req = from(DE, "/open").insert_header(("x-forwarded-for", "175.45.176.1"));
        assert_eq!(call(&app, req).await.status, 200);
    }
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_country_is_the_first_untrusted_hop() {
    let app = app!(proxied_guard());
    let proxy = "192.168.1.1:1";
    let req = from(proxy, "/eu").insert_header(("x-forwarded-for", "81.169.145.94"));
    assert_eq!(call(&app, req).await.status, 200);
    // The client wrote a German address first; the proxy appended the real, American one.
    let req = from(proxy, "/eu").insert_header(("x-forwarded-for", "81.169.145.94, 8.8.8.8"));
    call(&app, req).await.assert_forbidden();
    let req = from(proxy, "/open").insert_header(("forwarded", r#"for="175.45.176.1:443""#));
    call(&app, req).await.assert_forbidden();
    // The proxy itself is in no country: allow-lists refuse a request it sends unforwarded.
    call(&app, from(proxy, "/eu")).await.assert_forbidden();
}
