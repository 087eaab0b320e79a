//! The guard's span: a tracing subscriber sees one `route_guard` span per guarded request, with
//! the decision in its fields and the authentication inside it. In a file of its own: the
//! subscriber is the process's global one, as an application installs it.

mod common;
#[path = "common/role_routes.rs"]
mod role_routes;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::App;
use actix_web::test::init_service;
use common::*;
use route_guard::RouteGuard;

const PEER: &str = "192.0.2.10:5000";

/// A `Write` into a buffer the test reads.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[actix_web::test]
async fn each_guarded_request_is_one_span_with_the_decision_in_its_fields() {
    use tracing_subscriber::fmt::format::FmtSpan;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap_or_else(|e| panic!("{e}"));

    let jwt = jwt_builder().build().unwrap_or_else(|e| panic!("{e}"));
    let guard = RouteGuard::builder(jwt)
        .realm(REALM)
        .or(basic_users("olga", "correct horse", &["admin"]))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard).configure(role_routes::configure)).await;
    let alice = token("alice", &[]);
    call(
        &app,
        from_peer(PEER, "/admin").insert_header(bearer(&alice)),
    )
    .await
    .assert_forbidden();
    call(&app, from_peer(PEER, "/me").insert_header(bearer(&alice)))
        .await
        .assert_ok(r#"{"roles":[],"sub":"alice"}"#);
    let olga = from_peer(PEER, "/admin").insert_header(basic("olga", "correct horse"));
    call(&app, olga).await.assert_ok("hello, admin");
    let wrong = from_peer(PEER, "/admin").insert_header(basic("olga", "wrong horse"));
    assert_eq!(call(&app, wrong).await.status, 401);

    let text = String::from_utf8_lossy(&captured.0.lock().unwrap_or_else(PoisonError::into_inner))
        .into_owned();
    let spans: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("route_guard{"))
        .collect();
    let spans: Vec<&str> = spans.into_iter().filter(|l| l.contains("close")).collect();
    assert_eq!(spans.len(), 4, "{text}");
    let fields = format!(
        "route_guard{{policy=\"role(admin)\" scheme=\"bearer\" \
         issuer=\"{ISSUER}\" result=\"forbidden\" reason=\"rule\"}}"
    );
    assert!(spans[0].contains(&fields), "{}", spans[0]);
    let granted = format!(
        "route_guard{{policy=\"route_guard::require_auth\" scheme=\"bearer\" \
         issuer=\"{ISSUER}\" result=\"granted\" reason=\"none\"}}"
    );
    assert!(spans[1].contains(&granted), "{}", spans[1]);
    // Authenticated later, on the blocking pool: the span covers the wait.
    let basic = "route_guard{policy=\"role(admin)\" scheme=\"basic\" \
                 result=\"granted\" reason=\"none\"}";
    assert!(spans[2].contains(basic), "{}", spans[2]);
    let refused = "route_guard{policy=\"role(admin)\" scheme=\"basic\" \
                   result=\"unauthenticated\" reason=\"wrong_credentials\"}";
    assert!(spans[3].contains(refused), "{}", spans[3]);
    // What the authentication logs, on the blocking pool and after, is inside the span.
    let inside = text.lines().any(|line| {
        line.contains("route_guard{policy=\"role(admin)\"")
            && line.contains("Basic credentials refused")
    });
    assert!(inside, "{text}");
    // The span names no subject (the debug log, for a developer, does).
    assert!(
        spans.iter().all(|span| !span.contains("alice")),
        "{spans:?}"
    );
}
