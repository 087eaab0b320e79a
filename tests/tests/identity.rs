//! One verification per request, shared by every guard and by `Authenticated`; typed claims;
//! authenticators that answer later; hand-written policies.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::test::init_service;
use actix_web::{App, HttpRequest, get, web};
use common::*;
use route_guard::{
    AuthFuture, Authenticated, Authenticator, Denial, Guarded, Identity, Policy, RouteGuard, Rule,
    bearer_challenge, require_auth, require_role,
};
use serde::Deserialize;
use serde_json::{Map, json};

/// Accepts `Bearer <subject>:<role>,<role>` and counts its calls; answers at once, or after a
/// timer when `delay` is set, to exercise the asynchronous path.
struct Counting {
    calls: Arc<AtomicUsize>,
    delay: Option<Duration>,
}

impl Authenticator for Counting {
    fn authenticate(&self, req: &HttpRequest) -> AuthFuture {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let value = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let result = match value
            .strip_prefix("Bearer ")
            .and_then(|rest| rest.split_once(':'))
        {
            Some((subject, roles)) => Ok(Arc::new(Identity::new(
                subject,
                roles.split(',').filter(|r| !r.is_empty()),
                Map::new(),
            ))),
            None => Err(Denial::MissingCredentials),
        };
        match self.delay {
            None => AuthFuture::ready(result),
            Some(delay) => AuthFuture::new(async move {
                actix_web::rt::time::sleep(delay).await;
                result
            }),
        }
    }

    fn challenge(&self, realm: &str, denial: Denial) -> String {
        bearer_challenge(realm, denial)
    }
}

#[get("/stacked")]
#[require_auth]
#[require_role("a")]
#[require_role(any("b", "c"))]
async fn stacked(user: Authenticated, again: Authenticated) -> String {
    format!("{}={}", user.subject(), again.subject())
}

#[require_role("a")]
#[get("/around")]
#[require_role("b")]
async fn around() -> &'static str {
    "both"
}

fn counting(delay: Option<Duration>) -> (RouteGuard, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let guard = RouteGuard::builder(Counting {
        calls: calls.clone(),
        delay,
    })
    .realm(REALM)
    .build();
    (guard.unwrap_or_else(|e| panic!("{e}")), calls)
}

#[actix_web::test]
async fn credentials_are_verified_once_however_many_guards_ask() {
    for delay in [None, Some(Duration::from_millis(5))] {
        let (guard, calls) = counting(delay);
        let app = init_service(App::new().app_data(guard).service(stacked).service(around)).await;
        let cases = [
            ("/stacked", "Bearer ann:a,b", 200),
            ("/stacked", "Bearer ann:a", 403),
            ("/stacked", "Bearer ann:c", 403),
            ("/stacked", "Basic x", 401),
            ("/around", "Bearer ann:a,b", 200),
            ("/around", "Bearer ann:b", 403),
        ];
        for (path, authorization, status) in cases {
            let before = calls.load(Ordering::SeqCst);
            let reply = call(
                &app,
                get(path).insert_header(("authorization", authorization)),
            )
            .await;
            assert_eq!(
                reply.status, status,
                "{path} {authorization} {delay:?}: {reply:?}"
            );
            assert_eq!(
                calls.load(Ordering::SeqCst) - before,
                1,
                "{path} {authorization} {delay:?}"
            );
            if status == 200 && path == "/stacked" {
                assert_eq!(reply.body, "ann=ann");
            }
            if status == 401 {
                reply.assert_bare_401("");
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct TenantClaims {
    tenant: String,
    #[serde(default)]
    level: u8,
}

#[get("/tenant")]
async fn tenant(user: Authenticated<TenantClaims>) -> String {
    format!(
        "{} of {} at {}",
        user.subject(),
        user.claims().tenant,
        user.claims().level
    )
}

#[actix_web::test]
async fn typed_claims_are_deserialized_and_unfit_claims_are_401() {
    let app = init_service(App::new().app_data(guard()).service(tenant)).await;
    let good = hs256(&with(
        with(claims("ann", &[]), "tenant", json!("acme")),
        "level",
        json!(3),
    ));
    let reply = call(&app, get("/tenant").insert_header(bearer(&good))).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "ann of acme at 3")
    );

    for bad in [
        claims("ann", &[]),
        with(claims("ann", &[]), "tenant", json!(7)),
    ] {
        let jwt = hs256(&bad);
        call(&app, get("/tenant").insert_header(bearer(&jwt)))
            .await
            .assert_invalid_token("not usable", &jwt);
    }
    // `Authenticated` alone requires authentication.
    call(&app, get("/tenant")).await.assert_bare_401("");
}

struct Auditors;

impl Policy for Auditors {
    const RULE: Rule = Rule::Any(&[Rule::Role("auditor"), Rule::Role("admin")]);
}

async fn audit(proof: Guarded<Auditors>) -> String {
    let who = proof.identity().map_or("nobody", Identity::subject);
    format!("audited by {who}")
}

#[actix_web::test]
async fn a_hand_written_policy_guards_like_an_attribute() {
    let app = init_service(
        App::new()
            .app_data(guard())
            .route("/audit", web::get().to(audit)),
    )
    .await;
    let reply = call(
        &app,
        get("/audit").insert_header(bearer(&token("ann", &["auditor"]))),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "audited by ann"));
    call(
        &app,
        get("/audit").insert_header(bearer(&token("bob", &["user"]))),
    )
    .await
    .assert_forbidden();
    call(&app, get("/audit")).await.assert_bare_401("");
}

#[get("/me")]
#[require_auth]
async fn strict_me() -> &'static str {
    "me"
}

#[actix_web::test]
async fn a_guard_registered_deeper_verifies_with_its_own_configuration() {
    // The App's guard takes two audiences; the scope's own guard only `other-api`.
    let lenient = RouteGuard::builder(
        route_guard::JwtAuthenticator::builder()
            .key(route_guard::JwtKey::hs256(SECRET).unwrap())
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .audience("other-api")
            .build()
            .unwrap(),
    )
    .realm(REALM)
    .build()
    .unwrap();
    let strict = RouteGuard::builder(
        route_guard::JwtAuthenticator::builder()
            .key(route_guard::JwtKey::hs256(SECRET).unwrap())
            .issuer(ISSUER)
            .audience("other-api")
            .build()
            .unwrap(),
    )
    .realm(REALM)
    .build()
    .unwrap();
    let app = init_service(
        App::new()
            .app_data(lenient)
            .wrap(route_guard::GuardScope::new(route_guard::rule!(role(
                "user"
            ))))
            .service(web::scope("/strict").app_data(strict).service(strict_me)),
    )
    .await;
    // Passes the App's guard, fails the scope's (`test-api` is not `other-api`).
    let reply = call(
        &app,
        get("/strict/me").insert_header(bearer(&token("ann", &["user"]))),
    )
    .await;
    reply.assert_invalid_token("audience", "");
    let other = hs256(&with(claims("ann", &["user"]), "aud", json!("other-api")));
    let reply = call(&app, get("/strict/me").insert_header(bearer(&other))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// An authenticator whose challenge no header can carry.
struct BadChallenge;

impl Authenticator for BadChallenge {
    fn authenticate(&self, _: &HttpRequest) -> AuthFuture {
        AuthFuture::ready(Err(Denial::MissingCredentials))
    }

    fn challenge(&self, realm: &str, _: Denial) -> String {
        format!("Custom realm=\"{realm}\"\r\nSet-Cookie: x=1")
    }
}

#[test]
fn a_challenge_that_is_no_header_value_is_refused_at_start_up() {
    let error = RouteGuard::builder(BadChallenge).build().unwrap_err();
    assert!(error.to_string().contains("WWW-Authenticate"), "{error}");
    let error = RouteGuard::builder(
        route_guard::JwtAuthenticator::builder()
            .key(route_guard::JwtKey::hs256(SECRET).unwrap())
            .build()
            .unwrap(),
    )
    .or(BadChallenge)
    .build()
    .unwrap_err();
    assert!(error.to_string().contains("not a valid"), "{error}");
}
