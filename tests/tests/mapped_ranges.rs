//! IPv4-mapped IPv6 ranges in address rules (issue 12). Client addresses are compared in their
//! IPv4 form, so `::ffff:10.0.0.0/104` is read at compile time as the `10.0.0.0/8` it stands
//! for; as written it could never match anyone.

mod common;

use actix_web::test::{TestRequest, init_service};
use actix_web::{App, get};
use common::*;
use route_guard::{deny_ip, require, require_ip};

#[get("/internal")]
#[require_ip("::ffff:10.0.0.0/104")]
async fn internal() -> &'static str {
    "internal"
}

#[get("/open")]
#[deny_ip("::ffff:198.51.100.0/120")]
async fn open() -> &'static str {
    "open"
}

#[get("/ops")]
#[require(any(role("admin"), ip("::ffff:10.0.0.0/104")))]
async fn ops() -> &'static str {
    "ops"
}

#[get("/one")]
#[require_ip("::ffff:10.1.2.3")]
async fn one() -> &'static str {
    "one"
}

fn from(peer: &str, path: &str) -> TestRequest {
    get(path).peer_addr(peer.parse().unwrap_or_else(|e| panic!("{e}")))
}

#[actix_web::test]
async fn ipv4_mapped_ranges_match_the_ipv4_clients_they_name() {
    let app = init_service(
        App::new()
            .app_data(guard())
            .service(internal)
            .service(open)
            .service(ops)
            .service(one),
    )
    .await;
    for (peer, path, body) in [
        ("10.1.2.3:4000", "/internal", "internal"),
        ("[::ffff:10.1.2.3]:4000", "/internal", "internal"),
        ("10.1.2.3:4000", "/ops", "ops"),
        ("10.1.2.3:4000", "/one", "one"),
        ("203.0.113.5:4000", "/open", "open"),
    ] {
        let reply = call(&app, from(peer, path)).await;
        assert_eq!(
            (
                reply.status,
                reply.body.as_str(),
                reply.challenge.as_deref()
            ),
            (200, body, None),
            "{peer} {path}"
        );
    }
    for (peer, path) in [
        ("11.0.0.1:4000", "/internal"),
        ("10.1.2.4:4000", "/one"),
        ("198.51.100.9:4000", "/open"),
        ("[::ffff:198.51.100.9]:4000", "/open"),
    ] {
        call(&app, from(peer, path)).await.assert_forbidden();
    }
    // Outside the range, `any` falls back on the role: no credentials is a 401 challenge.
    call(&app, from("11.0.0.1:4000", "/ops"))
        .await
        .assert_bare_401("");
}
