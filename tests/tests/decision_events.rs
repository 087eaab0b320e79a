//! Decision events: the application's hook hears each refusal (and each grant on request) with
//! its reason, policy, scheme, issuer, client and a pseudonym, never the subject itself; a hook
//! that panics changes nothing the client sees.

mod common;

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::test::init_service;
use actix_web::{App, get, web};
use common::*;
use route_guard::observe::{Decision, Outcome};
use route_guard::refusal::Cause;
use route_guard::{
    GuardScope, RouteGuard, RouteGuardBuilder, TrustedProxies, require_auth, require_ip,
    require_role, rule,
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

#[get("/internal")]
#[require_ip("10.0.0.0/8")]
async fn internal() -> &'static str {
    "internal"
}

async fn report() -> &'static str {
    "report"
}

/// What a test keeps of a decision: owned, comparable.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    outcome: Outcome,
    status: u16,
    reason: &'static str,
    error: &'static str,
    cause: Option<Cause>,
    policy: &'static str,
    scheme: Option<&'static str>,
    issuer: Option<String>,
    client: Option<IpAddr>,
    subject: Option<String>,
    path: String,
}

type Log = Arc<Mutex<Vec<Seen>>>;

fn recording(builder: RouteGuardBuilder) -> (RouteGuardBuilder, Log) {
    let log = Log::default();
    let sink = log.clone();
    let builder = builder.on_decision(move |decision: &Decision<'_>| {
        let seen = Seen {
            outcome: decision.outcome(),
            status: decision.status().as_u16(),
            reason: decision.reason(),
            error: decision.error_code(),
            cause: decision.cause(),
            policy: decision.policy(),
            scheme: decision.scheme(),
            issuer: decision.issuer().map(str::to_owned),
            client: decision.client(),
            subject: decision.subject().map(|subject| subject.to_string()),
            path: decision.request().path().to_owned(),
        };
        sink.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(seen);
    });
    (builder, log)
}

fn seen(log: &Log) -> Vec<Seen> {
    std::mem::take(&mut *log.lock().unwrap_or_else(PoisonError::into_inner))
}

fn jwt_guard() -> RouteGuardBuilder {
    RouteGuard::builder(jwt_builder().build().unwrap_or_else(|e| panic!("{e}"))).realm(REALM)
}

fn built(builder: RouteGuardBuilder) -> RouteGuard {
    builder.build().unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! app {
    ($guard:expr) => {
        init_service(
            App::new()
                .app_data($guard)
                .service(me)
                .service(admin)
                .service(internal)
                .service(
                    web::scope("/reports")
                        .wrap(GuardScope::new(rule!(role("auditor"))))
                        .route("", web::get().to(report)),
                ),
        )
        .await
    };
}

const PEER: &str = "192.0.2.10:5000";

#[actix_web::test]
async fn refusals_are_reported_with_why_and_by_whom_and_grants_are_not() {
    let (builder, log) = recording(jwt_guard());
    let app = app!(built(builder));
    let alice = token("alice", &[]);

    call(&app, from_peer(PEER, "/me").insert_header(bearer(&alice)))
        .await
        .assert_ok("me");
    call(&app, from_peer(PEER, "/me")).await.assert_bare_401("");
    call(
        &app,
        from_peer(PEER, "/admin").insert_header(bearer(&alice)),
    )
    .await
    .assert_forbidden();
    let expired = hs256(&with(claims("alice", &[]), "exp", (now() - 600).into()));
    call(&app, from_peer(PEER, "/me").insert_header(bearer(&expired)))
        .await
        .assert_invalid(route_guard::TokenProblem::Expired, &expired);

    let events = seen(&log);
    assert_eq!(events.len(), 3, "the grant is not reported: {events:#?}");
    let client = Some(IpAddr::from([192, 0, 2, 10]));
    let missing = &events[0];
    assert_eq!(
        (
            missing.outcome,
            missing.status,
            missing.reason,
            missing.error
        ),
        (Outcome::Unauthenticated, 401, "missing_credentials", "none")
    );
    assert_eq!(
        (
            missing.policy,
            missing.scheme,
            missing.cause,
            missing.client
        ),
        (
            "route_guard::require_auth",
            None,
            Some(Cause::Credentials),
            client
        )
    );
    assert_eq!(missing.subject, None);
    let forbidden = &events[1];
    assert_eq!(
        (forbidden.outcome, forbidden.status, forbidden.reason),
        (Outcome::Forbidden, 403, "rule")
    );
    assert_eq!(forbidden.policy, "role(admin)");
    assert_eq!(forbidden.scheme, Some("bearer"));
    assert_eq!(forbidden.issuer.as_deref(), Some(ISSUER));
    assert_eq!(forbidden.cause, Some(Cause::Rule));
    assert_eq!(forbidden.client, client);
    assert_eq!(forbidden.path, "/admin");
    let pseudonym = forbidden.subject.clone().unwrap_or_default();
    assert_eq!(pseudonym.len(), 16, "{pseudonym:?}");
    assert!(!pseudonym.contains("alice"));
    let stale = &events[2];
    assert_eq!(
        (stale.outcome, stale.reason, stale.error, stale.scheme),
        (
            Outcome::Unauthenticated,
            "expired",
            "invalid_token",
            Some("bearer")
        )
    );
    // A token that did not verify names no subject: its claims are not to be believed.
    assert_eq!(
        (stale.subject.as_deref(), stale.issuer.as_deref()),
        (None, None)
    );
}

#[actix_web::test]
async fn grants_are_reported_on_request_and_a_caller_keeps_one_pseudonym() {
    let (builder, log) = recording(jwt_guard().report_grants(true));
    let app = app!(built(builder));
    let (alice, bob) = (token("alice", &[]), token("bob", &[]));
    for token in [&alice, &alice, &bob] {
        call(&app, from_peer(PEER, "/me").insert_header(bearer(token)))
            .await
            .assert_ok("me");
    }
    call(
        &app,
        from_peer(PEER, "/admin").insert_header(bearer(&alice)),
    )
    .await
    .assert_forbidden();

    let events = seen(&log);
    let outcomes: Vec<_> = events.iter().map(|e| (e.outcome, e.reason)).collect();
    assert_eq!(
        outcomes,
        [
            (Outcome::Granted, "none"),
            (Outcome::Granted, "none"),
            (Outcome::Granted, "none"),
            (Outcome::Forbidden, "rule"),
        ]
    );
    assert_eq!((events[0].status, events[0].cause), (200, None));
    let subjects: Vec<_> = events.iter().map(|e| e.subject.clone()).collect();
    assert!(subjects.iter().all(Option::is_some), "{subjects:?}");
    assert_eq!(subjects[0], subjects[1], "alice is one pseudonym");
    assert_eq!(subjects[0], subjects[3], "whatever she is refused");
    assert_ne!(subjects[0], subjects[2], "bob is another");
}

#[actix_web::test]
async fn one_pseudonym_key_gives_every_instance_the_same_pseudonyms() {
    let key = "a 32-byte secret shared by every instance";
    let alice = token("alice", &[]);
    let mut pseudonyms = Vec::new();
    for key in [Some(key), Some(key), None] {
        let builder = jwt_guard().report_grants(true);
        let builder = match key {
            Some(key) => builder.pseudonym_key(key),
            None => builder,
        };
        let (builder, log) = recording(builder);
        let app = app!(built(builder));
        call(&app, from_peer(PEER, "/me").insert_header(bearer(&alice)))
            .await
            .assert_ok("me");
        pseudonyms.push(seen(&log).remove(0).subject);
    }
    assert_eq!(pseudonyms[0], pseudonyms[1], "the same key");
    assert_ne!(pseudonyms[0], pseudonyms[2], "a random key");

    let short = jwt_guard().pseudonym_key("too short").build();
    let error = short.map(|_| ()).unwrap_err().to_string();
    assert!(error.contains("at least 32"), "{error}");
}

/// The JWT guard that also takes Basic logins of `olga` (password `correct horse`), an admin.
fn with_olga() -> RouteGuardBuilder {
    jwt_guard().or(basic_users("olga", "correct horse", &["admin"]))
}

#[actix_web::test]
async fn address_and_basic_refusals_say_so() {
    let proxies = TrustedProxies::new(["192.0.2.0/24"]).unwrap_or_else(|e| panic!("{e}"));
    let (builder, log) = recording(with_olga().trusted_proxies(proxies));
    let app = app!(built(builder));

    let proxied = from_peer(PEER, "/internal").insert_header(("x-forwarded-for", "198.51.100.7"));
    call(&app, proxied).await.assert_forbidden();
    let wrong = from_peer(PEER, "/me").insert_header(basic("olga", "wrong horse"));
    assert_eq!(call(&app, wrong).await.status, 401);
    let outsider = from_peer(PEER, "/reports").insert_header(basic("olga", "correct horse"));
    call(&app, outsider).await.assert_forbidden();

    let events = seen(&log);
    assert_eq!(events.len(), 3, "{events:#?}");
    let address = &events[0];
    assert_eq!(
        (address.reason, address.cause, address.scheme),
        ("address_rule", Some(Cause::Address), None)
    );
    assert_eq!(address.client, Some(IpAddr::from([198, 51, 100, 7])));
    assert_eq!(address.policy, "ip(10.0.0.0/8)");
    let password = &events[1];
    assert_eq!(
        (password.reason, password.error, password.scheme),
        ("wrong_credentials", "invalid_token", Some("basic"))
    );
    // `rule!` is named where it is written.
    let scope = &events[2];
    assert!(scope.policy.starts_with("decision_events:"), "{scope:?}");
    assert_eq!((scope.reason, scope.scheme), ("rule", Some("basic")));
    assert_eq!(scope.issuer, None);
}

#[actix_web::test]
async fn a_hook_that_panics_changes_nothing_the_client_sees() {
    let app = app!(built(
        jwt_guard().on_decision(|_: &Decision<'_>| panic!("the audit log is full"))
    ));
    let alice = token("alice", &[]);
    call(
        &app,
        from_peer(PEER, "/admin").insert_header(bearer(&alice)),
    )
    .await
    .assert_forbidden();
    call(&app, from_peer(PEER, "/me")).await.assert_bare_401("");
}
