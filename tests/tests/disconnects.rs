//! Clients that reset their connection while the guard is still working: in the middle of a
//! Basic password hash, or of a slow enrichment hook. Whatever the pending authentication
//! holds (a hashing permit, the request, a store's connection) must be released when the
//! client is gone, and the server must go on answering logins in normal time.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpServer, get};
use base64::Engine as _;
use common::*;
use route_guard::{
    Argon2Users, AuthResult, BasicAuthenticator, Identity, RouteGuard, hash_password, require_role,
};

#[get("/admin")]
#[require_role("admin")]
async fn admin() -> &'static str {
    "admin"
}

/// Counts the enrichments started and the ones whose future was dropped.
#[derive(Default)]
struct Tally {
    started: AtomicUsize,
    dropped: AtomicUsize,
}

/// Held by a pending enrichment; counts its drop.
struct Held(Arc<Tally>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// A server on 127.0.0.1 with Basic (alice is an admin) and bearer tokens, whose enrichment
/// hook takes a minute for the subject `slow`.
fn serve(tally: Arc<Tally>) -> SocketAddr {
    let hash = hash_password("correct horse").unwrap();
    let users = Argon2Users::new().user("alice", &hash, ["admin"]).unwrap();
    let basic = BasicAuthenticator::new(users).unwrap();
    let guard = RouteGuard::builder(jwt_builder().build().unwrap())
        .or(basic)
        .realm(REALM)
        .enrich(move |identity: Arc<Identity>| {
            let tally = tally.clone();
            async move {
                if identity.subject() == "slow" {
                    tally.started.fetch_add(1, Ordering::SeqCst);
                    let _held = Held(tally);
                    actix_web::rt::time::sleep(Duration::from_secs(60)).await;
                }
                AuthResult::Ok(identity)
            }
        })
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || App::new().app_data(guard.clone()).service(admin))
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
    std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
    addr
}

fn request(authorization: &str) -> Vec<u8> {
    format!("GET /admin HTTP/1.1\r\nHost: t\r\nAuthorization: {authorization}\r\n\r\n").into_bytes()
}

fn basic(pair: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
    format!("Basic {encoded}")
}

/// Sends the request and resets the connection (RST, not FIN) once `sent` returns.
fn send_and_reset(addr: SocketAddr, request: &[u8], sent: impl FnOnce()) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request).unwrap();
    sent();
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
}

/// The status line of a complete exchange, within a minute: a hang fails the test instead of
/// wedging it.
fn status_line(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut head = [0_u8; 12];
    stream
        .read_exact(&mut head)
        .unwrap_or_else(|e| panic!("no answer: {e}"));
    String::from_utf8_lossy(&head).into_owned()
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn resets_in_the_middle_of_a_password_hash_leave_logins_working() {
    let addr = serve(Arc::default());
    let login = request(&basic("alice:correct horse"));
    assert_eq!(status_line(addr, &login), "HTTP/1.1 200");
    for _ in 0..200 {
        // The hash is started once the request is read; a few milliseconds puts the reset in
        // the middle of it.
        send_and_reset(addr, &login, || {
            std::thread::sleep(Duration::from_millis(3))
        });
    }
    assert_eq!(status_line(addr, &login), "HTTP/1.1 200");
    let wrong = request(&basic("alice:wrong horse"));
    assert_eq!(status_line(addr, &wrong), "HTTP/1.1 401");
}

#[test]
fn resets_during_enrichment_drop_the_pending_work() {
    let tally = Arc::new(Tally::default());
    let addr = serve(tally.clone());
    let slow = request(&format!("Bearer {}", token("slow", &["admin"])));
    for round in 1..=100 {
        send_and_reset(addr, &slow, || {
            wait_until("the enrichment starts", || {
                tally.started.load(Ordering::SeqCst) == round
            });
        });
    }
    wait_until("every abandoned enrichment is dropped", || {
        tally.dropped.load(Ordering::SeqCst) == 100
    });
    let login = request(&basic("alice:correct horse"));
    assert_eq!(status_line(addr, &login), "HTTP/1.1 200");
}
