//! Every row of the wire contract (`docs/wire-contract.md`) for bearer tokens, as a client sees it:
//! status, `WWW-Authenticate` challenge and problem body.

mod common;
#[path = "common/role_routes.rs"]
mod role_routes;

use actix_web::http::header;
use actix_web::test::init_service;
use actix_web::{App, web};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

macro_rules! app {
    ($guard:expr) => {
        init_service(
            App::new()
                .app_data($guard)
                .configure(role_routes::configure),
        )
        .await
    };
}

#[actix_web::test]
async fn a_valid_token_reaches_the_handler() {
    let app = app!(guard());
    let reply = call(
        &app,
        get("/me").insert_header(bearer(&token("alice", &["user"]))),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json(), json!({"sub": "alice", "roles": ["user"]}));
    assert_eq!(reply.challenge, None);
}

#[actix_web::test]
async fn no_credentials_is_401_with_a_bare_challenge() {
    let app = app!(guard());
    for path in ["/me", "/admin", "/reports", "/to"] {
        call(&app, get(path)).await.assert_bare_401("");
    }
}

#[actix_web::test]
async fn a_scheme_the_route_does_not_accept_is_401_with_a_bare_challenge() {
    let app = app!(guard());
    let jwt = token("alice", &["admin"]);
    for value in [
        format!("Basic {}", "YWxpY2U6c2VjcmV0"),
        jwt.clone(),
        format!("Token {jwt}"),
    ] {
        let req = get("/admin").insert_header((header::AUTHORIZATION, value));
        call(&app, req).await.assert_bare_401(&jwt);
    }
}

#[actix_web::test]
async fn the_scheme_is_case_insensitive_and_surrounding_spaces_are_ignored() {
    let app = app!(guard());
    let jwt = token("root", &["admin"]);
    for value in [
        format!("bearer {jwt}"),
        format!("BEARER   {jwt}  "),
        format!("BeArEr {jwt}"),
    ] {
        let reply = call(
            &app,
            get("/admin").insert_header((header::AUTHORIZATION, value)),
        )
        .await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "hello, admin"));
    }
}

// The `error_description` of each problem, written out as the wire carries it.
const EMPTY: &str = "The access token is empty";
const MALFORMED: &str = "The access token is malformed";
const BAD_SIGNATURE: &str = "The token signature is invalid";
const EXPIRED: &str = "The access token expired";
const NOT_YET_VALID: &str = "The access token is not yet valid";
const MISSING_CLAIM: &str = "The token lacks a required claim";
const WRONG_ISSUER: &str = "The token issuer is not accepted";
const WRONG_AUDIENCE: &str = "The token audience is not accepted";
const TOO_LONG: &str = "The access token is too long";
const DISALLOWED_ALGORITHM: &str = "The token algorithm is not accepted";
const UNKNOWN_KEY: &str = "The token was signed with an unknown key";
const WRONG_TYPE: &str = "The token type is not accepted";
const UNSUPPORTED_CRITICAL: &str = "The token uses an unsupported critical header";

#[actix_web::test]
async fn unusable_credentials_are_401_invalid_token() {
    let app = app!(guard());
    let good = token("alice", &["admin"]);
    let (head, rest) = good.split_once('.').unwrap_or_default();
    let (payload, signature) = rest.split_once('.').unwrap_or_default();
    let other_secret = EncodingKey::from_secret(b"another secret that is long enough!!");
    let claim = |key: &str, value: Value| hs256(&with(claims("a", &[]), key, value));
    let cases: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), EMPTY),
        ("bad characters", "abc\"def".to_owned(), MALFORMED),
        ("two segments", format!("{head}.{payload}"), MALFORMED),
        (
            "five segments (JWE)",
            format!("{head}.{payload}.{signature}.a.b"),
            MALFORMED,
        ),
        ("bad base64", format!("{head}.!!!.{signature}"), MALFORMED),
        (
            "payload not JSON, signed",
            hs256_raw(r#"{"alg":"HS256","typ":"JWT"}"#, "not json"),
            MALFORMED,
        ),
        (
            "payload not JSON, unsigned",
            format!("{head}.bm90IGpzb24.{signature}"),
            BAD_SIGNATURE,
        ),
        (
            "signature stripped",
            format!("{head}.{payload}."),
            MALFORMED,
        ),
        (
            "bad signature",
            sign(
                &Header::new(Algorithm::HS256),
                &claims("a", &["admin"]),
                &other_secret,
            ),
            BAD_SIGNATURE,
        ),
        (
            "altered payload",
            format!("{head}.{}.{signature}", flip_first(payload)),
            BAD_SIGNATURE,
        ),
        ("expired", claim("exp", json!(now() - 3600)), EXPIRED),
        (
            "not yet valid",
            claim("nbf", json!(now() + 3600)),
            NOT_YET_VALID,
        ),
        ("no exp", claim("exp", Value::Null), MISSING_CLAIM),
        (
            "wrong iss",
            claim("iss", json!("https://evil.test")),
            WRONG_ISSUER,
        ),
        ("no iss", claim("iss", Value::Null), WRONG_ISSUER),
        (
            "wrong aud",
            claim("aud", json!("other-api")),
            WRONG_AUDIENCE,
        ),
        ("no aud", claim("aud", Value::Null), WRONG_AUDIENCE),
        (
            "aud array without ours",
            claim("aud", json!(["x", "y"])),
            WRONG_AUDIENCE,
        ),
        ("no sub", claim("sub", Value::Null), MISSING_CLAIM),
        ("sub not a string", claim("sub", json!(42)), MISSING_CLAIM),
        ("over the size cap", "a".repeat(9000), TOO_LONG),
    ];
    let mut failures = Vec::new();
    for (case, jwt, description) in cases {
        let reply = call(&app, get("/admin").insert_header(bearer(&jwt))).await;
        let secret = if jwt.len() > 8 { jwt.as_str() } else { "" };
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            reply.assert_invalid_described(description, secret);
        }));
        if checked.is_err() {
            failures.push(case);
        }
    }
    assert!(failures.is_empty(), "cases that failed: {failures:#?}");
}

#[actix_web::test]
async fn an_audience_array_that_names_us_is_accepted() {
    let app = app!(guard());
    let jwt = hs256(&with(
        claims("a", &["admin"]),
        "aud",
        json!(["other", AUDIENCE]),
    ));
    assert_eq!(
        call(&app, get("/admin").insert_header(bearer(&jwt)))
            .await
            .status,
        200
    );
}

/// An admin token signed with the test secret under `header`.
fn signed_with(header: &Header) -> String {
    sign(
        header,
        &claims("root", &["admin"]),
        &EncodingKey::from_secret(SECRET),
    )
}

#[actix_web::test]
async fn an_unknown_kid_is_401_invalid_token_when_keys_are_named() {
    // A key without a kid answers any kid: the unknown kid is refused only with named keys.
    let key = route_guard::JwtKey::hs256(SECRET).unwrap_or_else(|e| panic!("{e}"));
    let named = guard_with(
        key_builder(key.with_kid("k1"))
            .build()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let mut with_kid = Header::new(Algorithm::HS256);
    with_kid.kid = Some("../../etc/passwd".to_owned());
    let jwt = signed_with(&with_kid);
    let named_app = app!(named);
    call(&named_app, get("/admin").insert_header(bearer(&jwt)))
        .await
        .assert_invalid_described(UNKNOWN_KEY, &jwt);
    // The control: the same token passes where the key has no kid.
    let app = app!(guard());
    call(&app, get("/admin").insert_header(bearer(&jwt)))
        .await
        .assert_ok("hello, admin");
}

#[actix_web::test]
async fn a_typ_the_issuer_does_not_send_is_401_invalid_token() {
    let app = app!(guard());
    let mut typed = Header::new(Algorithm::HS256);
    typed.typ = Some("logout+jwt".to_owned());
    let jwt = signed_with(&typed);
    call(&app, get("/admin").insert_header(bearer(&jwt)))
        .await
        .assert_invalid_described(WRONG_TYPE, &jwt);
}

#[actix_web::test]
async fn an_unsupported_crit_header_is_401_invalid_token() {
    let app = app!(guard());
    let mut critical = Header::new(Algorithm::HS256);
    critical.crit = Some(vec!["exp".to_owned()]);
    let jwt = signed_with(&critical);
    call(&app, get("/admin").insert_header(bearer(&jwt)))
        .await
        .assert_invalid_described(UNSUPPORTED_CRITICAL, &jwt);
}

#[actix_web::test]
async fn another_hmac_algorithm_over_the_same_secret_is_401_invalid_token() {
    let app = app!(guard());
    let jwt = signed_with(&Header::new(Algorithm::HS384));
    call(&app, get("/admin").insert_header(bearer(&jwt)))
        .await
        .assert_invalid_described(DISALLOWED_ALGORITHM, &jwt);
}

#[actix_web::test]
async fn alg_none_is_refused_in_every_spelling() {
    let app = app!(guard());
    let payload = b64url(claims("root", &["admin"]).to_string());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let head = b64url(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        // Without a signature the token is no compact JWS at all; with one, its `alg` is not
        // the key's.
        for (jwt, description) in [
            (format!("{head}.{payload}."), MALFORMED),
            (format!("{head}.{payload}.c2ln"), DISALLOWED_ALGORITHM),
        ] {
            let reply = call(&app, get("/admin").insert_header(bearer(&jwt))).await;
            assert_eq!(reply.status, 401, "{alg}: {reply:?}");
            reply.assert_invalid_described(description, &jwt);
        }
    }
}

#[actix_web::test]
async fn two_authorization_lines_are_400_invalid_request() {
    let app = app!(guard());
    let jwt = token("root", &["admin"]);
    let req = get("/admin")
        .append_header(bearer(&jwt))
        .append_header(bearer(&jwt));
    let reply = call(&app, req).await;
    reply.assert_problem(400, &jwt);
    assert_eq!(
        reply.challenge.as_deref(),
        Some(
            r#"Bearer realm="test", error="invalid_request", error_description="More than one Authorization header""#
        )
    );
}

#[actix_web::test]
async fn a_token_in_header_and_query_is_400_invalid_request() {
    let app = app!(guard());
    let jwt = token("root", &["admin"]);
    let req = get(&format!("/admin?access_token={jwt}")).insert_header(bearer(&jwt));
    let reply = call(&app, req).await;
    reply.assert_problem(400, &jwt);
    assert_eq!(
        reply.challenge.as_deref(),
        Some(
            r#"Bearer realm="test", error="invalid_request", error_description="The access token was sent in more than one place""#
        ),
        "{reply:?}"
    );
}

#[actix_web::test]
async fn query_tokens_need_an_opt_in() {
    let jwt = token("root", &["admin"]);
    let app = app!(guard());
    call(&app, get(&format!("/admin?access_token={jwt}")))
        .await
        .assert_bare_401(&jwt);

    let app = app!(guard_with(
        jwt_builder()
            .allow_query_token(true)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    ));
    let reply = call(&app, get(&format!("/admin?access_token={jwt}"))).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "hello, admin"));
}

#[actix_web::test]
async fn a_caller_without_the_role_is_403_without_a_challenge() {
    let app = app!(guard());
    let jwt = token("bob", &["user"]);
    for path in ["/admin", "/reports", "/payroll", "/to"] {
        let reply = call(&app, get(path).insert_header(bearer(&jwt))).await;
        reply.assert_forbidden();
        assert!(!reply.body.contains("bob"), "{reply:?}");
    }
}

#[actix_web::test]
async fn without_a_route_guard_a_guarded_route_is_500_never_200() {
    let app = init_service(App::new().configure(role_routes::configure)).await;
    for path in ["/me", "/admin"] {
        let reply = call(
            &app,
            get(path).insert_header(bearer(&token("root", &["admin"]))),
        )
        .await;
        reply.assert_problem(500, "");
        assert_eq!(reply.challenge, None);
    }
    // Unguarded routes of the same app are unaffected.
    let app = init_service(App::new().route("/public", web::get().to(|| async { "open" }))).await;
    assert_eq!(call(&app, get("/public")).await.status, 200);
}

#[actix_web::test]
async fn an_expired_token_is_refused_on_every_guard_kind() {
    let app = app!(guard());
    let jwt = hs256(&with(claims("root", &["admin"]), "exp", json!(now() - 120)));
    for path in ["/me", "/admin", "/reports", "/to"] {
        call(&app, get(path).insert_header(bearer(&jwt)))
            .await
            .assert_invalid_described(EXPIRED, &jwt);
    }
}

#[actix_web::test]
async fn leeway_is_configurable() {
    let jwt = hs256(&with(claims("root", &["admin"]), "exp", json!(now() - 10)));
    let app = app!(guard());
    assert_eq!(
        call(&app, get("/admin").insert_header(bearer(&jwt)))
            .await
            .status,
        200,
        "within the default 30 s"
    );
    let strict = jwt_builder()
        .leeway(std::time::Duration::ZERO)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = app!(guard_with(strict));
    call(&app, get("/admin").insert_header(bearer(&jwt)))
        .await
        .assert_invalid_described(EXPIRED, &jwt);
}
