//! Credentials other than bearer headers, as a client sees them: Basic against argon2 hashes,
//! API keys, tokens in a cookie, several schemes on one guard (one challenge line per scheme),
//! and roles loaded by the application's enrichment hook.

mod common;

use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header;
use actix_web::test::{self, TestRequest, init_service};
use actix_web::{App, get};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use route_guard::{
    ApiKeyAuthenticator, Argon2Users, AuthResult, Authenticated, BasicAuthenticator, Denial,
    Identity, RouteGuard, hash_password, require_auth, require_role, require_scope,
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

fn basic(user: &str, password: &str) -> (header::HeaderName, String) {
    let encoded = STANDARD.encode(format!("{user}:{password}"));
    (header::AUTHORIZATION, format!("Basic {encoded}"))
}

/// Status, every `WWW-Authenticate` line, `Retry-After` and the body.
async fn reply<S, B>(app: &S, req: TestRequest) -> (u16, Vec<String>, Option<String>, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status().as_u16();
    let text = |v: &header::HeaderValue| v.to_str().unwrap_or("").to_owned();
    let challenges = res
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .map(text)
        .collect();
    let retry = res.headers().get(header::RETRY_AFTER).map(text);
    let body = String::from_utf8_lossy(&test::read_body(res).await).into_owned();
    (status, challenges, retry, body)
}

const BEARER: &str = r#"Bearer realm="test""#;
const BASIC: &str = r#"Basic realm="test", charset="UTF-8""#;
const API: &str = r#"ApiKey realm="test", header="x-api-key""#;

macro_rules! app {
    ($guard:expr) => {
        init_service(App::new().app_data($guard).service(me).service(admin)).await
    };
}

#[actix_web::test]
async fn basic_credentials_are_checked_against_argon2_hashes() {
    let guard = RouteGuard::builder(basic_users()).realm(REALM).build();
    let app = app!(guard.unwrap_or_else(|e| panic!("{e}")));
    let ok = reply(
        &app,
        get("/admin").insert_header(basic("alice", "correct horse")),
    )
    .await;
    assert_eq!((ok.0, ok.3.as_str()), (200, "admin alice"), "{ok:?}");
    let user = reply(
        &app,
        get("/admin").insert_header(basic("bob", "correct horse")),
    )
    .await;
    assert_eq!(user.0, 403, "{user:?}");
    let missing = reply(&app, get("/admin")).await;
    assert_eq!((missing.0, missing.1), (401, vec![BASIC.to_owned()]));
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let guard = RouteGuard::builder(basic_users()).realm(REALM).build();
    let app = app!(guard.unwrap_or_else(|e| panic!("{e}")));
    let wrong = reply(
        &app,
        get("/me").insert_header(basic("alice", "Correct horse")),
    )
    .await;
    let unknown = reply(
        &app,
        get("/me").insert_header(basic("mallory", "correct horse")),
    )
    .await;
    let garbage = get("/me").insert_header((header::AUTHORIZATION, "Basic !!not-base64"));
    let garbage = reply(&app, garbage).await;
    for refused in [&wrong, &unknown, &garbage] {
        assert_eq!(refused.0, 401, "{refused:?}");
        assert_eq!(refused.1, vec![BASIC.to_owned()], "{refused:?}");
        assert!(!refused.3.contains("horse") && !refused.3.contains("mallory"));
    }
    assert_eq!(wrong, unknown, "the answers must not tell users apart");
}

#[actix_web::test]
async fn with_several_schemes_a_401_carries_one_challenge_per_scheme() {
    let app = app!(all_schemes());
    let none = reply(&app, get("/me")).await;
    assert_eq!(
        (none.0, none.1.clone()),
        (401, vec![BEARER.into(), BASIC.into(), API.into()])
    );
    let other = get("/me").insert_header((header::AUTHORIZATION, "Digest username=x"));
    assert_eq!(
        reply(&app, other).await.1,
        none.1,
        "an unknown scheme is no credential"
    );

    let bad_token = reply(&app, get("/me").insert_header(bearer("abc.def.ghi"))).await;
    assert_eq!(bad_token.0, 401);
    assert!(bad_token.1[0].starts_with(r#"Bearer realm="test", error="invalid_token""#));
    assert_eq!(&bad_token.1[1..], [BASIC, API]);

    let bad_password = reply(&app, get("/me").insert_header(basic("alice", "nope"))).await;
    assert_eq!(
        (bad_password.0, bad_password.1),
        (401, vec![BEARER.into(), BASIC.into(), API.into()])
    );
}

#[actix_web::test]
async fn each_scheme_of_a_chain_lets_its_own_callers_in() {
    let app = app!(all_schemes());
    let jwt = reply(
        &app,
        get("/admin").insert_header(bearer(&token("ada", &["admin"]))),
    )
    .await;
    assert_eq!(jwt.3, "admin ada");
    let pass = reply(
        &app,
        get("/admin").insert_header(basic("alice", "correct horse")),
    )
    .await;
    assert_eq!(pass.3, "admin alice");
    let key = reply(&app, get("/admin").insert_header(("X-API-Key", API_KEY))).await;
    assert_eq!(key.3, "admin export-job");
    let wrong_key = reply(
        &app,
        get("/admin").insert_header(("x-api-key", "rg_test_guessed_key_000000")),
    )
    .await;
    assert_eq!(
        (wrong_key.0, wrong_key.1),
        (401, vec![BEARER.into(), BASIC.into(), API.into()])
    );
}

#[actix_web::test]
async fn malformed_requests_stay_400_whatever_the_schemes() {
    let app = app!(all_schemes());
    let twice = get("/me")
        .append_header(bearer(&token("ada", &["admin"])))
        .append_header(basic("alice", "correct horse"));
    let (status, challenges, _, _) = reply(&app, twice).await;
    assert_eq!(status, 400);
    assert_eq!(challenges.len(), 1);
    assert!(
        challenges[0].contains(r#"error="invalid_request""#),
        "{challenges:?}"
    );
    let keys = get("/me")
        .append_header(("x-api-key", API_KEY))
        .append_header(("x-api-key", API_KEY));
    assert_eq!(reply(&app, keys).await.0, 400);
}

#[actix_web::test]
async fn a_token_in_the_configured_cookie_is_accepted_but_not_alongside_a_header() {
    let jwt = jwt_builder()
        .cookie("session")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = app!(guard_with(jwt));
    let ada = token("ada", &["admin"]);
    let cookie = |value: &str| {
        (
            header::COOKIE,
            format!("theme=dark; session={value}; lang=en"),
        )
    };
    let ok = reply(&app, get("/admin").insert_header(cookie(&ada))).await;
    assert_eq!((ok.0, ok.3.as_str()), (200, "admin ada"), "{ok:?}");
    let both = get("/admin")
        .insert_header(cookie(&ada))
        .insert_header(bearer(&ada));
    assert_eq!(reply(&app, both).await.0, 400);
    let forged = reply(&app, get("/admin").insert_header(cookie("abc.def.ghi"))).await;
    assert_eq!(forged.0, 401);
    assert!(
        forged.1[0].contains(r#"error="invalid_token""#),
        "{forged:?}"
    );
    let other_cookie = get("/admin").insert_header((header::COOKIE, "sessionx=abc"));
    assert_eq!(reply(&app, other_cookie).await.1, vec![BEARER.to_owned()]);
    let doubled =
        get("/admin").insert_header((header::COOKIE, format!("session={ada}; session={ada}")));
    assert_eq!(reply(&app, doubled).await.0, 400);
}

#[actix_web::test]
async fn the_enrichment_hook_adds_roles_refuses_or_reports_its_store_down() {
    let jwt = jwt_builder().build().unwrap_or_else(|e| panic!("{e}"));
    let guard = RouteGuard::builder(jwt)
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
        .unwrap_or_else(|e| panic!("{e}"));
    let app = app!(guard);
    let as_user = |sub: &str| get("/admin").insert_header(bearer(&token(sub, &["user"])));
    assert_eq!(reply(&app, as_user("carol")).await.3, "admin carol");
    assert_eq!(reply(&app, as_user("bob")).await.0, 403);
    let refused = reply(&app, as_user("mallory")).await;
    assert_eq!((refused.0, refused.1.len()), (403, 0), "{refused:?}");
    let down = reply(&app, as_user("dora")).await;
    assert_eq!((down.0, down.2.as_deref()), (503, Some("7")), "{down:?}");
    assert!(down.1.is_empty(), "a 503 blames no credentials: {down:?}");
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
    let (status, challenges, _, _) = reply(
        &app,
        get("/scoped").insert_header(bearer(&token("ada", &["admin"]))),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(challenges.len(), 1, "{challenges:?}");
    assert!(
        challenges[0].starts_with(r#"Bearer realm="test", error="insufficient_scope""#),
        "{challenges:?}"
    );
}
