//! Credentials other than bearer headers, as a client sees them: Basic against argon2 hashes,
//! API keys, tokens in a cookie, several schemes on one guard (one challenge line per scheme),
//! and roles loaded by the application's enrichment hook.

mod common;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::test::init_service;
use actix_web::{App, get};
use common::*;
use route_guard::{
    ApiKeyAuthenticator, Argon2Users, AuthResult, Authenticated, BasicAuthenticator, Denial,
    Identity, RequestProblem, RouteGuard, TokenProblem, hash_password, require_auth, require_role,
    require_scope,
};

#[get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> String {
    user.subject().to_owned()
}

#[get("/admin")]
#[require_role("admin")]
async fn admin(user: Authenticated) -> String {
    format!("admin {}", user.subject())
}

#[get("/scoped")]
#[require_scope("read:reports")]
async fn scoped() -> &'static str {
    "scoped"
}

const API_KEY: &str = "rg_test_export_job_5c0f6d0e9b8a4c3d";

fn basic_users() -> BasicAuthenticator {
    let hash = hash_password("correct horse").unwrap_or_else(|e| panic!("{e}"));
    let users = Argon2Users::new()
        .user("alice", &hash, ["admin"])
        .and_then(|u| u.user("bob", &hash, ["user"]))
        .unwrap_or_else(|e| panic!("{e}"));
    BasicAuthenticator::new(users).unwrap_or_else(|e| panic!("{e}"))
}

fn api_keys() -> ApiKeyAuthenticator {
    ApiKeyAuthenticator::builder()
        .key(API_KEY, "export-job", ["admin"])
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Bearer tokens first, then Basic, then API keys.
fn all_schemes() -> RouteGuard {
    let jwt = jwt_builder().build().unwrap_or_else(|e| panic!("{e}"));
    RouteGuard::builder(jwt)
        .or(basic_users())
        .or(api_keys())
        .realm(REALM)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

const BEARER: &str = r#"Bearer realm="test""#;
const BASIC: &str = r#"Basic realm="test", charset="UTF-8""#;
const API: &str = r#"ApiKey realm="test", header="x-api-key""#;

macro_rules! app {
    ($guard:expr) => {
        init_service(App::new().app_data($guard).service(me).service(admin)).await
    };
}

fn basic_only() -> RouteGuard {
    let guard = RouteGuard::builder(basic_users()).realm(REALM).build();
    guard.unwrap_or_else(|e| panic!("{e}"))
}

#[actix_web::test]
async fn basic_credentials_are_checked_against_argon2_hashes() {
    let app = app!(basic_only());
    call(
        &app,
        get("/admin").insert_header(basic("alice", "correct horse")),
    )
    .await
    .assert_ok("admin alice");
    call(
        &app,
        get("/admin").insert_header(basic("bob", "correct horse")),
    )
    .await
    .assert_forbidden();
    call_full(&app, get("/admin"))
        .await
        .assert_refused(401, &[BASIC], "");
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = app!(basic_only());
    let wrong = call_full(
        &app,
        get("/me").insert_header(basic("alice", "Correct horse")),
    )
    .await;
    let unknown = call_full(
        &app,
        get("/me").insert_header(basic("mallory", "correct horse")),
    )
    .await;
    let garbage = get("/me").insert_header((header::AUTHORIZATION, "Basic !!not-base64"));
    let garbage = call_full(&app, garbage).await;
    for refused in [&wrong, &unknown, &garbage] {
        refused.assert_refused(401, &[BASIC], "horse");
        assert!(!refused.reply.body.contains("mallory"), "{refused:?}");
    }
    let seen = |r: &FullReply| {
        (
            r.reply.status,
            r.challenges.clone(),
            r.reply.content_type.clone(),
            r.reply.body.clone(),
        )
    };
    assert_eq!(
        seen(&wrong),
        seen(&unknown),
        "the answers must not tell users apart"
    );
}

#[actix_web::test]
async fn with_several_schemes_a_401_carries_one_challenge_per_scheme() {
    let app = app!(all_schemes());
    call_full(&app, get("/me"))
        .await
        .assert_refused(401, &[BEARER, BASIC, API], "");
}

#[actix_web::test]
async fn an_unknown_scheme_is_no_credential_whatever_the_schemes() {
    let app = app!(all_schemes());
    let other = get("/me").insert_header((header::AUTHORIZATION, "Digest username=x"));
    call_full(&app, other)
        .await
        .assert_refused(401, &[BEARER, BASIC, API], "username");
}

#[actix_web::test]
async fn the_scheme_that_refused_says_why_and_the_others_stay_bare() {
    let app = app!(all_schemes());
    let malformed = bearer_error("invalid_token", TokenProblem::Malformed.description());
    call_full(&app, get("/me").insert_header(bearer("abc.def.ghi")))
        .await
        .assert_refused(401, &[&malformed, BASIC, API], "abc.def.ghi");
    // Basic's challenge has no error parameter (RFC 7617): a wrong password looks like none.
    call_full(&app, get("/me").insert_header(basic("alice", "nope")))
        .await
        .assert_refused(401, &[BEARER, BASIC, API], "nope");
}

#[actix_web::test]
async fn each_scheme_of_a_chain_lets_its_own_callers_in() {
    let app = app!(all_schemes());
    call(
        &app,
        get("/admin").insert_header(bearer(&token("ada", &["admin"]))),
    )
    .await
    .assert_ok("admin ada");
    call(
        &app,
        get("/admin").insert_header(basic("alice", "correct horse")),
    )
    .await
    .assert_ok("admin alice");
    call(&app, get("/admin").insert_header(("X-API-Key", API_KEY)))
        .await
        .assert_ok("admin export-job");
    let guessed = "rg_test_guessed_key_000000";
    call_full(&app, get("/admin").insert_header(("x-api-key", guessed)))
        .await
        .assert_refused(401, &[BEARER, BASIC, API], guessed);
}

#[actix_web::test]
async fn two_authorization_lines_stay_400_whatever_the_schemes() {
    let app = app!(all_schemes());
    let jwt = token("ada", &["admin"]);
    let twice = get("/me")
        .append_header(bearer(&jwt))
        .append_header(basic("alice", "correct horse"));
    let duplicate = bearer_error(
        "invalid_request",
        RequestProblem::DuplicateAuthorization.description(),
    );
    call_full(&app, twice)
        .await
        .assert_refused(400, &[&duplicate], &jwt);
}

/// The API key header is not a list: two lines are a malformed request whether the keys are
/// equal, different or one of them unknown, and whatever the case of the header's name. The
/// 400 carries the API key scheme's challenge alone, naming the header the key goes in.
#[actix_web::test]
async fn two_api_key_headers_are_400_with_the_api_key_challenge() {
    let keys_only = RouteGuard::builder(api_keys()).realm(REALM).build();
    let keys_only = keys_only.unwrap_or_else(|e| panic!("{e}"));
    for (name, guard) in [
        ("API keys alone", keys_only),
        ("every scheme", all_schemes()),
    ] {
        let app = app!(guard);
        for (first, second) in [
            (("x-api-key", API_KEY), ("x-api-key", API_KEY)),
            (
                ("X-API-Key", API_KEY),
                ("x-api-key", "rg_test_guessed_key_000000"),
            ),
            (
                ("x-api-key", "rg_test_guessed_key_000000"),
                ("X-Api-Key", API_KEY),
            ),
            (("x-api-key", API_KEY), ("x-api-key", "")),
        ] {
            let req = get("/admin").append_header(first).append_header(second);
            let reply = call_full(&app, req).await;
            assert_eq!(reply.reply.status, 400, "{name}: {first:?} {second:?}");
            reply.assert_refused(400, &[API], API_KEY);
        }
        // The control: one line of the same key is let in.
        call(&app, get("/admin").insert_header(("x-api-key", API_KEY)))
            .await
            .assert_ok("admin export-job");
    }
}

fn cookie_app_guard() -> RouteGuard {
    let jwt = jwt_builder()
        .cookie("session")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    guard_with(jwt)
}

/// A `Cookie` header carrying `session=<value>` between two other cookies.
fn session_cookie(value: &str) -> (header::HeaderName, String) {
    (
        header::COOKIE,
        format!("theme=dark; session={value}; lang=en"),
    )
}

#[actix_web::test]
async fn a_token_in_the_configured_cookie_is_accepted() {
    let app = app!(cookie_app_guard());
    let ada = token("ada", &["admin"]);
    call(&app, get("/admin").insert_header(session_cookie(&ada)))
        .await
        .assert_ok("admin ada");
    let forged = "abc.def.ghi";
    call(&app, get("/admin").insert_header(session_cookie(forged)))
        .await
        .assert_invalid(TokenProblem::Malformed, forged);
    // Another cookie whose name starts the same is no credential.
    let other_cookie = get("/admin").insert_header((header::COOKIE, "sessionx=abc"));
    call(&app, other_cookie).await.assert_bare_401("");
}

#[actix_web::test]
async fn a_cookie_token_beside_a_header_or_a_second_cookie_is_400() {
    let app = app!(cookie_app_guard());
    let ada = token("ada", &["admin"]);
    let both = get("/admin")
        .insert_header(session_cookie(&ada))
        .insert_header(bearer(&ada));
    call(&app, both)
        .await
        .assert_invalid_request(RequestProblem::TokenInSeveralPlaces, &ada);
    let doubled =
        get("/admin").insert_header((header::COOKIE, format!("session={ada}; session={ada}")));
    call(&app, doubled)
        .await
        .assert_invalid_request(RequestProblem::TokenInSeveralPlaces, &ada);
}

/// Carol gains `admin` from the store, Mallory is refused by it, Dora's lookup finds the store
/// down; anyone else keeps the token's roles.
fn enriched_guard() -> RouteGuard {
    let jwt = jwt_builder().build().unwrap_or_else(|e| panic!("{e}"));
    RouteGuard::builder(jwt)
        .realm(REALM)
        .enrich(|identity: Arc<Identity>| async move {
            match identity.subject() {
                "carol" => AuthResult::Ok(Arc::new(identity.with_extra_roles(["admin"]))),
                "mallory" => Err(Denial::Forbidden),
                "dora" => Err(Denial::Unavailable {
                    retry_after_secs: 7,
                }),
                _ => Ok(identity),
            }
        })
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn as_user(sub: &str) -> actix_web::test::TestRequest {
    get("/admin").insert_header(bearer(&token(sub, &["user"])))
}

#[actix_web::test]
async fn the_enrichment_hook_adds_roles() {
    let app = app!(enriched_guard());
    call(&app, as_user("carol")).await.assert_ok("admin carol");
    call(&app, as_user("bob")).await.assert_forbidden();
}

#[actix_web::test]
async fn the_enrichment_hook_refuses_a_known_caller_with_403() {
    let app = app!(enriched_guard());
    let refused = call_full(&app, as_user("mallory")).await;
    refused.assert_refused(403, &[], "");
    assert_eq!(refused.retry_after, None, "{refused:?}");
}

#[actix_web::test]
async fn a_store_that_is_down_answers_503_with_retry_after_and_blames_no_credentials() {
    let app = app!(enriched_guard());
    let down = call_full(&app, as_user("dora")).await;
    down.assert_refused(503, &[], "");
    assert_eq!(down.retry_after.as_deref(), Some("7"), "{down:?}");
}

#[actix_web::test]
async fn a_missing_scope_is_rendered_by_the_scheme_that_authenticated_the_caller() {
    let jwt = jwt_builder().build().unwrap_or_else(|e| panic!("{e}"));
    let guard = RouteGuard::builder(api_keys()).or(jwt).realm(REALM).build();
    let app = init_service(
        App::new()
            .app_data(guard.unwrap_or_else(|e| panic!("{e}")))
            .service(scoped),
    )
    .await;
    let ada = token("ada", &["admin"]);
    let reply = call_full(&app, get("/scoped").insert_header(bearer(&ada))).await;
    let scope = format!(
        r#"{}, scope="read:reports""#,
        bearer_error(
            "insufficient_scope",
            "The access token lacks a required scope"
        )
    );
    reply.assert_refused(403, &[&scope], &ada);
}
