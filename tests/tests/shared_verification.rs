//! One verification per request, shared by every guard of a route and by `Authenticated`,
//! whether the authenticator answers at once or later; and a guard registered deeper verifies
//! with its own configuration instead of the App's.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::test::init_service;
use actix_web::{App, HttpRequest, get, web};
use common::*;
use route_guard::{
    AuthFuture, Authenticated, Authenticator, Denial, GuardScope, Identity, JwtAuthenticator,
    JwtKey, RouteGuard, TokenProblem, bearer_challenge, require_auth, require_role, rule,
};
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

/// Each request to a route with three or four extractors asking for the caller calls the
/// authenticator exactly once, and gets the answer those guards together deserve.
async fn verified_once(delay: Option<Duration>) {
    let (guard, calls) = counting(delay);
    let app = init_service(App::new().app_data(guard).service(stacked).service(around)).await;
    let cases = [
        ("/stacked", "Bearer ann:a,b", 200, "ann=ann"),
        ("/stacked", "Bearer ann:a", 403, ""),
        ("/stacked", "Bearer ann:c", 403, ""),
        ("/stacked", "Basic x", 401, ""),
        ("/around", "Bearer ann:a,b", 200, "both"),
        ("/around", "Bearer ann:b", 403, ""),
    ];
    for (path, authorization, status, body) in cases {
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
        match status {
            200 => reply.assert_ok(body),
            401 => reply.assert_bare_401(""),
            _ => reply.assert_forbidden(),
        }
    }
}

#[actix_web::test]
async fn credentials_are_verified_once_however_many_guards_ask() {
    verified_once(None).await;
}

#[actix_web::test]
async fn credentials_checked_later_are_verified_once_too() {
    verified_once(Some(Duration::from_millis(5))).await;
}

#[get("/me")]
#[require_auth]
async fn strict_me() -> &'static str {
    "me"
}

/// HS256 over the test secret, for tokens naming one of `audiences`.
fn accepting(audiences: &[&str]) -> RouteGuard {
    let builder = JwtAuthenticator::builder()
        .key(JwtKey::hs256(SECRET).unwrap_or_else(|e| panic!("{e}")))
        .issuer(ISSUER);
    let builder = audiences
        .iter()
        .fold(builder, |builder, audience| builder.audience(*audience));
    guard_with(builder.build().unwrap_or_else(|e| panic!("{e}")))
}

#[actix_web::test]
async fn a_guard_registered_deeper_verifies_with_its_own_configuration() {
    // The App's guard takes two audiences; the scope's own guard only `other-api`.
    let app = init_service(
        App::new()
            .app_data(accepting(&[AUDIENCE, "other-api"]))
            .wrap(GuardScope::new(rule!(role("user"))))
            .service(
                web::scope("/strict")
                    .app_data(accepting(&["other-api"]))
                    .service(strict_me),
            ),
    )
    .await;
    // Passes the App's guard, fails the scope's (`test-api` is not `other-api`).
    let ann = token("ann", &["user"]);
    call(&app, get("/strict/me").insert_header(bearer(&ann)))
        .await
        .assert_invalid(TokenProblem::WrongAudience, &ann);
    let other = hs256(&with(claims("ann", &["user"]), "aud", json!("other-api")));
    call(&app, get("/strict/me").insert_header(bearer(&other)))
        .await
        .assert_ok("me");
}
