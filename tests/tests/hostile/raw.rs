//! Rows only a real socket can carry: control bytes and line folding that no `HeaderValue` can
//! hold, header blocks over actix-web's limits. Each goes to a real server on 127.0.0.1, and a
//! valid request after each proves the server still answers.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use actix_web::{App, HttpServer};
use route_guard::{RequestProblem, TokenProblem};

use super::{Expect, Setup, admin};
use crate::common::*;

/// Who must answer a raw request.
enum Wire {
    /// The guard, exactly as a [`super::Row`] with this expectation.
    Guard(Expect),
    /// actix-web's HTTP/1 parser, with this status, before any guard runs; or a closed
    /// connection, when the server stops reading an oversized header block (RFC 9112 §2.2
    /// allows it).
    Parser(u16),
}

/// The `Authorization` line(s) and query of each row, as bytes on the wire.
fn raw_rows(jwt: &str) -> Vec<(&'static str, String, Vec<u8>, Wire)> {
    let line = |value: &[u8]| [b"Authorization: ", value, b"\r\n"].concat();
    let bearer =
        |before: &[u8], after: &[u8]| line(&[b"Bearer ", before, jwt.as_bytes(), after].concat());
    let at = "/admin".to_owned();
    vec![
        (
            "NUL byte in the token",
            at.clone(),
            bearer(b"\0", b""),
            Wire::Parser(400),
        ),
        (
            "control byte 0x01 in the token",
            at.clone(),
            bearer(b"", b"\x01"),
            Wire::Parser(400),
        ),
        (
            "DEL in the token",
            at.clone(),
            bearer(b"\x7f", b""),
            Wire::Parser(400),
        ),
        (
            "bare CR in the token",
            at.clone(),
            bearer(b"a\rb", b""),
            Wire::Parser(400),
        ),
        (
            "escape sequence in the token",
            at.clone(),
            bearer(b"\x1b[31m", b""),
            Wire::Parser(400),
        ),
        (
            "obsolete line folding",
            at.clone(),
            line(&[b"Bearer\r\n ", jwt.as_bytes()].concat()),
            Wire::Parser(400),
        ),
        (
            "raw 0xFF byte in the token",
            at.clone(),
            bearer(b"\xff", b""),
            Wire::Guard(Expect::Invalid(TokenProblem::Malformed)),
        ),
        (
            "two Authorization lines on the wire",
            at.clone(),
            [bearer(b"", b""), bearer(b"", b"")].concat(),
            Wire::Guard(Expect::Request(RequestProblem::DuplicateAuthorization)),
        ),
        (
            "token in the query string on the wire",
            format!("/admin?access_token={jwt}"),
            Vec::new(),
            Wire::Guard(Expect::Bare),
        ),
        (
            "64 KiB token on the wire",
            at.clone(),
            line(format!("Bearer {}", "a".repeat(64 * 1024)).as_bytes()),
            Wire::Guard(Expect::Invalid(TokenProblem::TooLong)),
        ),
        (
            "200 KiB token on the wire",
            at.clone(),
            line(format!("Bearer {}", "a".repeat(200 * 1024)).as_bytes()),
            Wire::Parser(431),
        ),
        (
            "100 header lines",
            at,
            (0..100)
                .flat_map(|i| format!("X-Pad-{i}: {i}\r\n").into_bytes())
                .collect(),
            Wire::Parser(431),
        ),
    ]
}

#[actix_web::test]
async fn requests_on_a_real_socket() {
    let server = HttpServer::new(|| App::new().app_data(Setup::Hs256.guard()).service(admin))
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let jwt = token("root", &["admin"]);
    let mut failures = Vec::new();
    for (name, path, lines, wire) in raw_rows(&jwt) {
        let request = [
            format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n").as_bytes(),
            &lines,
            b"\r\n",
        ]
        .concat();
        let reply = exchange(addr, request).await;
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check(name, &reply, &wire, &jwt)
        }));
        let alive = exchange(addr, format!("GET /admin HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer {jwt}\r\n\r\n").into_bytes()).await;
        if ok.is_err() || alive.as_ref().map(|r| r.status) != Some(200) {
            failures.push(name);
        }
    }
    handle.stop(true).await;
    assert!(failures.is_empty(), "rows that failed: {failures:#?}");
}

fn check(name: &str, reply: &Option<Reply>, wire: &Wire, jwt: &str) {
    match (wire, reply) {
        (Wire::Guard(expect), Some(reply)) => super::row(name, jwt, *expect).check(reply),
        (Wire::Parser(status), Some(reply)) => {
            assert_eq!(reply.status, *status, "{name}: {reply:?}");
            assert_eq!(reply.challenge, None, "{name}: {reply:?}");
            assert!(!reply.body.contains(jwt), "{name}: {reply:?}");
        }
        // The server may close an oversized request's connection before answering.
        (Wire::Parser(431), None) => {}
        (_, None) => panic!("{name}: no answer"),
    }
}

/// Sends `request` and reads the whole answer; `None` when the connection fails first.
async fn exchange(addr: SocketAddr, request: Vec<u8>) -> Option<Reply> {
    actix_web::rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        // The server may stop reading an oversized request; answer what it sent anyway.
        let _ = stream.write_all(&request);
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        parse(&answer)
    })
    .await
    .ok()
    .flatten()
}

/// A client's view of a raw HTTP/1.1 answer.
fn parse(answer: &[u8]) -> Option<Reply> {
    let text = String::from_utf8_lossy(answer);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let header = |name: &str| {
        head.split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    Some(Reply {
        status,
        challenge: header("www-authenticate"),
        content_type: header("content-type"),
        body: body.to_owned(),
    })
}
