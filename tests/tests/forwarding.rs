//! The client address behind trusted proxies, as an attacker would probe it: a second forwarding
//! header written by the client, undecodable bytes in a hop, addresses that cannot be known.
//! Address and country rules must refuse (403) whenever the client's own words would decide.

mod common;

use std::net::IpAddr;

use actix_web::http::header::HeaderValue;
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, get};
use common::*;
use route_guard::{
    CountryCode, CountryResolver, ForwardedHeader, RouteGuard, TrustedProxies, block_countries,
    require_ip,
};

#[get("/internal")]
#[require_ip("10.0.0.0/8")]
async fn internal() -> &'static str {
    "internal"
}

#[get("/offers")]
#[block_countries("RU")]
async fn offers() -> &'static str {
    "offers"
}

/// 198.51.100.0/24 is in Russia, 203.0.113.0/24 in Germany; nothing else is known.
struct Table;

impl CountryResolver for Table {
    fn country(&self, ip: IpAddr) -> Option<CountryCode> {
        let code = match ip.to_string() {
            ip if ip.starts_with("198.51.100.") => "RU",
            ip if ip.starts_with("203.0.113.") => "DE",
            _ => return None,
        };
        CountryCode::new(code)
    }
}

const PROXY: &str = "127.0.0.1:5000";

fn guard(header: Option<ForwardedHeader>) -> RouteGuard {
    let proxies = TrustedProxies::new(["127.0.0.1/32"]).unwrap();
    let proxies = match header {
        Some(header) => proxies.reading(header),
        None => proxies,
    };
    behind(proxies).countries(Table).build().unwrap()
}

macro_rules! app {
    ($header:expr) => {
        init_service(
            App::new()
                .app_data(guard($header))
                .service(internal)
                .service(offers),
        )
        .await
    };
}

/// A request to `path` from `peer` with these header lines, in this order.
fn request(peer: &str, path: &str, lines: &[(&str, &[u8])]) -> TestRequest {
    lines
        .iter()
        .fold(from_peer(peer, path), |req, (name, value)| {
            req.append_header((*name, HeaderValue::from_bytes(value).unwrap()))
        })
}

async fn status_of(header: Option<ForwardedHeader>, req: TestRequest) -> Reply {
    let app = app!(header);
    call(&app, req).await
}

const XFF_OUTSIDE: (&str, &[u8]) = ("x-forwarded-for", b"198.51.100.7");
const XFF_INSIDE: (&str, &[u8]) = ("x-forwarded-for", b"10.0.0.1");
const FWD_OUTSIDE: (&str, &[u8]) = ("forwarded", b"for=198.51.100.7");
const FWD_INSIDE: (&str, &[u8]) = ("forwarded", b"for=10.0.0.1");

#[actix_web::test]
async fn a_client_written_forwarded_header_beside_the_proxys_is_not_believed() {
    // The proxy appended X-Forwarded-For; the client wrote Forwarded. Either order of lines.
    for lines in [[XFF_OUTSIDE, FWD_INSIDE], [FWD_INSIDE, XFF_OUTSIDE]] {
        let reply = status_of(None, request(PROXY, "/internal", &lines)).await;
        reply.assert_forbidden();
        let reply = status_of(None, request(PROXY, "/offers", &lines)).await;
        reply.assert_forbidden();
    }
    // Both headers point inside: still unknown by default, since one of them is the client's.
    let reply = status_of(None, request(PROXY, "/internal", &[XFF_INSIDE, FWD_INSIDE])).await;
    reply.assert_forbidden();
}

#[actix_web::test]
async fn the_configured_header_alone_is_read() {
    let xff = Some(ForwardedHeader::XForwardedFor);
    let fwd = Some(ForwardedHeader::Forwarded);
    for (header, lines, status) in [
        (xff, [XFF_OUTSIDE, FWD_INSIDE], 403),
        (xff, [FWD_OUTSIDE, XFF_INSIDE], 200),
        (fwd, [XFF_OUTSIDE, FWD_INSIDE], 200),
        (fwd, [FWD_OUTSIDE, XFF_INSIDE], 403),
    ] {
        let reply = status_of(header, request(PROXY, "/internal", &lines)).await;
        assert_eq!(reply.status, status, "{header:?} {lines:?}: {reply:?}");
        if status == 200 {
            assert_eq!(reply.body, "internal");
        } else {
            reply.assert_forbidden();
        }
    }
    // One header alone is read by default.
    for lines in [[XFF_INSIDE], [FWD_INSIDE]] {
        let reply = status_of(None, request(PROXY, "/internal", &lines)).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "internal"));
    }
}

#[actix_web::test]
async fn x_real_ip_is_one_address_set_by_the_proxy() {
    let real = Some(ForwardedHeader::XRealIp);
    let inside: (&str, &[u8]) = ("x-real-ip", b"10.0.0.1");
    let outside: (&str, &[u8]) = ("x-real-ip", b"198.51.100.7");
    let reply = status_of(real, request(PROXY, "/internal", &[inside, XFF_OUTSIDE])).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "internal"));
    // The other headers are not read, and two X-Real-IP lines are nobody's address.
    for lines in [
        vec![outside, XFF_INSIDE],
        vec![inside, outside],
        vec![XFF_INSIDE],
    ] {
        let reply = status_of(real, request(PROXY, "/internal", &lines)).await;
        reply.assert_forbidden();
    }
}

#[actix_web::test]
async fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
    for lines in [[XFF_INSIDE, FWD_INSIDE], [FWD_INSIDE, XFF_INSIDE]] {
        let reply = status_of(None, request("198.51.100.9:1", "/internal", &lines)).await;
        reply.assert_forbidden();
        let reply = status_of(None, request("198.51.100.9:1", "/offers", &lines)).await;
        reply.assert_forbidden();
        let reply = status_of(None, request("10.9.9.9:1", "/internal", &lines)).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "internal"));
    }
}

#[actix_web::test]
async fn an_undecodable_byte_spoils_its_own_entry_not_the_line() {
    // Garbage the client wrote, then the proxy's correct entry for a Russian address.
    let garbage_first: (&str, &[u8]) = ("x-forwarded-for", b"\xff, 198.51.100.7");
    let reply = status_of(None, request(PROXY, "/offers", &[garbage_first])).await;
    reply.assert_forbidden();
    let garbage_first: (&str, &[u8]) = ("x-forwarded-for", b"\xff\xfe, 10.0.0.1");
    let reply = status_of(None, request(PROXY, "/internal", &[garbage_first])).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "internal"));
    // Where the walk reaches the bad entry (every hop to its right trusted), the client is
    // unknown: address and country rules both refuse.
    let garbage_last: (&str, &[u8]) = ("x-forwarded-for", b"10.0.0.1, \xff");
    for path in ["/internal", "/offers"] {
        let reply = status_of(None, request(PROXY, path, &[garbage_last])).await;
        reply.assert_forbidden();
    }
    let forwarded: (&str, &[u8]) = ("forwarded", b"for=\"\xff\", for=203.0.113.4");
    let reply = status_of(None, request(PROXY, "/offers", &[forwarded])).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "offers"));
}

#[actix_web::test]
async fn an_unknown_address_is_refused_by_block_lists_a_known_one_of_no_country_is_not() {
    // No peer address at all (a test request built without one).
    let reply = status_of(None, get("/offers")).await;
    reply.assert_forbidden();
    // A known address the resolver has no country for passes a block-list.
    let reply = status_of(None, request("192.0.2.1:1", "/offers", &[])).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "offers"));
    let reply = status_of(None, request("203.0.113.1:1", "/offers", &[])).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "offers"));
    let reply = status_of(None, request("198.51.100.1:1", "/offers", &[])).await;
    reply.assert_forbidden();
}
