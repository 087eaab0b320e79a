//! Trusted proxies on IPv6 (`TrustedProxies::new(["2001:db8::/32"])`): peers in the range, up
//! to both of its ends, are believed; the peers just outside it, and IPv4 peers, are the client
//! whatever they forward; IPv6 hops are walked right to left in every form the headers write.

mod common;

use actix_web::test::{TestRequest, init_service};
use actix_web::{App, get};
use common::*;
use route_guard::{deny_ip, require_ip};

#[get("/internal")]
#[require_ip("10.0.0.0/8")]
async fn internal() -> &'static str {
    "internal"
}

#[get("/v6")]
#[require_ip("2001:db9::/32")]
async fn v6() -> &'static str {
    "v6"
}

#[get("/open")]
#[deny_ip("198.51.100.0/24")]
async fn open() -> &'static str {
    "open"
}

macro_rules! app {
    ($ranges:expr) => {
        init_service(
            App::new()
                .app_data(proxied_guard($ranges))
                .service(internal)
                .service(v6)
                .service(open),
        )
        .await
    };
}

const V6_PROXIES: &[&str] = &["2001:db8::/32"];
const FIRST: &str = "[2001:db8::]:443";
const LAST: &str = "[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:443";
const BEFORE: &str = "[2001:db7:ffff:ffff:ffff:ffff:ffff:ffff]:443";
const AFTER: &str = "[2001:db9::]:443";

/// A request to `path` from `peer` carrying `name: value`.
fn forwarded(peer: &str, path: &str, name: &str, value: &str) -> TestRequest {
    from_peer(peer, path).insert_header((name, value))
}

#[actix_web::test]
async fn a_peer_anywhere_in_the_ipv6_range_is_believed() {
    let app = app!(V6_PROXIES);
    for peer in [FIRST, "[2001:db8::1]:443", LAST] {
        let req = forwarded(peer, "/internal", "x-forwarded-for", "10.0.0.1");
        let reply = call(&app, req).await;
        assert_eq!(reply.status, 200, "{peer}: {reply:?}");
        reply.assert_ok("internal");
        let req = forwarded(peer, "/internal", "x-forwarded-for", "203.0.113.5");
        call(&app, req).await.assert_forbidden();
    }
}

#[actix_web::test]
async fn a_peer_just_outside_the_ipv6_range_is_the_client_whatever_it_forwards() {
    let app = app!(V6_PROXIES);
    for peer in [BEFORE, AFTER] {
        for (name, value) in [
            ("x-forwarded-for", "10.0.0.1"),
            ("forwarded", "for=10.0.0.1"),
        ] {
            let reply = call(&app, forwarded(peer, "/internal", name, value)).await;
            assert_eq!(reply.status, 403, "{peer} {name}: {reply:?}");
            reply.assert_forbidden();
        }
    }
    // 2001:db9:: is the client itself: in the `/v6` range, whatever it says.
    let req = forwarded(AFTER, "/v6", "x-forwarded-for", "203.0.113.5");
    call(&app, req).await.assert_ok("v6");
}

#[actix_web::test]
async fn an_ipv6_range_trusts_no_ipv4_peer() {
    let app = app!(V6_PROXIES);
    for peer in ["192.0.2.1:80", "[::ffff:192.0.2.1]:80"] {
        let req = forwarded(peer, "/internal", "x-forwarded-for", "10.0.0.1");
        let reply = call(&app, req).await;
        assert_eq!(reply.status, 403, "{peer}: {reply:?}");
        reply.assert_forbidden();
    }
}

#[actix_web::test]
async fn trusted_ipv6_hops_are_skipped_right_to_left() {
    let app = app!(V6_PROXIES);
    let peer = "[2001:db8::1]:443";
    // The client wrote 10.0.0.1 first; the first untrusted hop from the right is the client.
    for (chain, path, body) in [
        ("10.0.0.1, 2001:db8::7", "/internal", "internal"),
        (
            "10.0.0.1, 2001:db8::7, 2001:db8:ffff::1",
            "/internal",
            "internal",
        ),
        ("10.0.0.1, 2001:db9::7", "/v6", "v6"),
        ("10.0.0.1, [2001:db9::7]:8080", "/v6", "v6"),
    ] {
        let reply = call(&app, forwarded(peer, path, "x-forwarded-for", chain)).await;
        assert_eq!(reply.status, 200, "{chain}: {reply:?}");
        reply.assert_ok(body);
    }
    for chain in [
        "10.0.0.1, 2001:db9::7",
        "10.0.0.1, 2001:db7::1, 2001:db8::7",
    ] {
        let req = forwarded(peer, "/internal", "x-forwarded-for", chain);
        let reply = call(&app, req).await;
        assert_eq!(reply.status, 403, "{chain}: {reply:?}");
        reply.assert_forbidden();
    }
}

#[actix_web::test]
async fn forwarded_writes_ipv6_nodes_quoted_in_brackets() {
    let app = app!(V6_PROXIES);
    let peer = "[2001:db8::1]:443";
    let req = forwarded(
        peer,
        "/v6",
        "forwarded",
        r#"for="[2001:db9::7]:4711";proto=https"#,
    );
    call(&app, req).await.assert_ok("v6");
    let req = forwarded(
        peer,
        "/internal",
        "forwarded",
        r#"for=10.0.0.1, for="[2001:db8::7]""#,
    );
    call(&app, req).await.assert_ok("internal");
}

#[actix_web::test]
async fn a_trusted_ipv6_proxy_cannot_launder_a_denied_client() {
    let app = app!(V6_PROXIES);
    let peer = "[2001:db8::1]:443";
    let req = forwarded(peer, "/open", "x-forwarded-for", "198.51.100.20");
    call(&app, req).await.assert_forbidden();
    let req = forwarded(peer, "/open", "x-forwarded-for", "::ffff:198.51.100.20");
    call(&app, req).await.assert_forbidden();
    let req = forwarded(peer, "/open", "x-forwarded-for", "203.0.113.5");
    call(&app, req).await.assert_ok("open");
}

#[actix_web::test]
async fn ipv4_and_ipv6_proxies_chain() {
    let app = app!(&["2001:db8::/32", "192.168.0.0/16"]);
    let req = forwarded(
        "[2001:db8::1]:443",
        "/internal",
        "x-forwarded-for",
        "10.0.0.1, 192.168.1.1, 2001:db8::2",
    );
    call(&app, req).await.assert_ok("internal");
    let req = forwarded(
        "192.168.1.1:80",
        "/internal",
        "x-forwarded-for",
        "203.0.113.5, 2001:db8::2",
    );
    call(&app, req).await.assert_forbidden();
}
