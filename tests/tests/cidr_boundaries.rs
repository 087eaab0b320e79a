//! Address ranges at their edges: the first and the last address of a range are in it, the
//! addresses just before and just after are not, for IPv4 and IPv6, on octet- and
//! group-aligned prefixes and on prefixes that split one, for `require_ip` and `deny_ip`.

mod common;

use actix_web::test::{TestRequest, init_service};
use actix_web::{App, get};
use common::*;
use route_guard::{deny_ip, require_ip};

#[get("/aligned")]
#[require_ip("10.0.0.0/8", "2001:db8::/32")]
async fn aligned() -> &'static str {
    "aligned"
}

#[get("/split")]
#[require_ip("172.16.0.0/12", "2001:db8:abcd:8::/61")]
async fn split() -> &'static str {
    "split"
}

#[get("/host")]
#[require_ip("192.0.2.7/32", "2001:db8::7/128")]
async fn host() -> &'static str {
    "host"
}

#[get("/open")]
#[deny_ip(
    "198.51.100.0/24",
    "100.64.0.0/10",
    "2001:db8:bad::/48",
    "2001:db8:c000::/35"
)]
async fn open() -> &'static str {
    "open"
}

macro_rules! app {
    () => {
        init_service(
            App::new()
                .app_data(guard())
                .service(aligned)
                .service(split)
                .service(host)
                .service(open),
        )
        .await
    };
}

/// A request to `path` without credentials from `ip`, port 1.
fn from(ip: &str, path: &str) -> TestRequest {
    let peer = if ip.contains(':') {
        format!("[{ip}]:1")
    } else {
        format!("{ip}:1")
    };
    from_peer(&peer, path)
}

/// Sends `path` from each address and checks who is let in: `inside` admitted (200 with the
/// handler's body), `outside` refused (403, problem body, no challenge).
async fn check(path: &str, body: &str, inside: &[&str], outside: &[&str]) {
    let app = app!();
    for ip in inside {
        let reply = call(&app, from(ip, path)).await;
        assert_eq!(reply.status, 200, "{ip} on {path}: {reply:?}");
        reply.assert_ok(body);
    }
    for ip in outside {
        let reply = call(&app, from(ip, path)).await;
        assert_eq!(reply.status, 403, "{ip} on {path}: {reply:?}");
        reply.assert_forbidden();
    }
}

#[actix_web::test]
async fn require_ip_admits_both_ends_of_an_ipv4_range_and_nothing_beyond() {
    check(
        "/aligned",
        "aligned",
        &["10.0.0.0", "10.255.255.255", "::ffff:10.0.0.0"],
        &["9.255.255.255", "11.0.0.0", "::ffff:9.255.255.255"],
    )
    .await;
    // A /12 splits the second octet: 172.16–172.31.
    check(
        "/split",
        "split",
        &["172.16.0.0", "172.31.255.255"],
        &["172.15.255.255", "172.32.0.0"],
    )
    .await;
}

#[actix_web::test]
async fn require_ip_admits_both_ends_of_an_ipv6_range_and_nothing_beyond() {
    check(
        "/aligned",
        "aligned",
        &["2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"],
        &["2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::"],
    )
    .await;
    // A /61 splits the fourth group: 8 to f.
    check(
        "/split",
        "split",
        &["2001:db8:abcd:8::", "2001:db8:abcd:f:ffff:ffff:ffff:ffff"],
        &["2001:db8:abcd:7:ffff:ffff:ffff:ffff", "2001:db8:abcd:10::"],
    )
    .await;
}

#[actix_web::test]
async fn a_single_host_range_admits_that_address_alone() {
    check(
        "/host",
        "host",
        &["192.0.2.7", "::ffff:192.0.2.7", "2001:db8::7"],
        &["192.0.2.6", "192.0.2.8", "2001:db8::6", "2001:db8::8"],
    )
    .await;
}

#[actix_web::test]
async fn deny_ip_refuses_both_ends_of_an_ipv4_range_and_nothing_beyond() {
    // `check` lists the admitted first: here, the neighbours of the denied ranges.
    check(
        "/open",
        "open",
        &[
            "198.51.99.255",
            "198.51.101.0",
            "100.63.255.255",
            "100.128.0.0",
        ],
        &[
            "198.51.100.0",
            "198.51.100.255",
            "::ffff:198.51.100.255",
            "100.64.0.0",
            "100.127.255.255",
        ],
    )
    .await;
}

#[actix_web::test]
async fn deny_ip_refuses_both_ends_of_an_ipv6_range_and_nothing_beyond() {
    check(
        "/open",
        "open",
        &[
            "2001:db8:bac:ffff:ffff:ffff:ffff:ffff",
            "2001:db8:bae::",
            "2001:db8:bfff:ffff:ffff:ffff:ffff:ffff",
            "2001:db8:e000::",
        ],
        &[
            "2001:db8:bad::",
            "2001:db8:bad:ffff:ffff:ffff:ffff:ffff",
            // A /35 splits the third group: c000 to dfff.
            "2001:db8:c000::",
            "2001:db8:dfff:ffff:ffff:ffff:ffff:ffff",
        ],
    )
    .await;
}
