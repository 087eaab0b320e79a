//! Every row of the wire contract (`shared/WIRE.md`) for bearer tokens, as a client sees it:
//! status, `WWW-Authenticate` challenge and problem body.

mod common;

use actix_web::http::header;
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, HttpResponse, Responder, get, web};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use route_guard::{Authenticated, require_auth, require_role};
use serde_json::{Value, json};

#[get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> impl Responder {
    web::Json(json!({ "sub": user.subject(), "roles": user.roles() }))
}

#[require_role("admin")]
#[get("/admin")]
async fn admin() -> &'static str {
    "hello, admin"
}

#[get("/reports")]
#[require_role(any("admin", "auditor"))]
async fn reports() -> &'static str {
    "numbers"
}

#[get("/payroll")]
#[require_role(all("finance", any("manager", "director")))]
async fn payroll() -> &'static str {
    "salaries"
}

#[require_role("admin")]
async fn wired_with_to() -> HttpResponse {
    HttpResponse::Ok().body("wired")
}

macro_rules! app {
    ($guard:expr) => {
        init_service(
            App::new()
                .app_data($guard)
                .service(me)
                .service(admin)
                .service(reports)
                .service(payroll)
                .route("/to", web::get().to(wired_with_to)),
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

#[actix_web::test]
async fn unusable_credentials_are_401_invalid_token() {
    let app = app!(guard());
    let good = token("alice", &["admin"]);
    let (head, rest) = good.split_once('.').unwrap_or_default();
    let (payload, signature) = rest.split_once('.').unwrap_or_default();
    let other_secret = EncodingKey::from_secret(b"another secret that is long enough!!");
    let cases: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "empty"),
        ("bad characters", "abc\"def".to_owned(), "malformed"),
        ("two segments", format!("{head}.{payload}"), "malformed"),
        (
            "five segments (JWE)",
            format!("{head}.{payload}.{signature}.a.b"),
            "malformed",
        ),
        ("bad base64", format!("{head}.!!!.{signature}"), "malformed"),
        (
            "payload not JSON, signed",
            signed_raw(head, "bm90IGpzb24"),
            "malformed",
        ),
        (
            "payload not JSON, unsigned",
            format!("{head}.bm90IGpzb24.{signature}"),
            "signature",
        ),
        (
            "signature stripped",
            format!("{head}.{payload}."),
            "malformed",
        ),
        (
            "bad signature",
            sign(
                &Header::new(Algorithm::HS256),
                &claims("a", &["admin"]),
                &other_secret,
            ),
            "signature",
        ),
        (
            "altered payload",
            format!("{head}.{}.{signature}", flip_first(payload)),
            "signature",
        ),
        (
            "expired",
            hs256(&with(claims("a", &[]), "exp", json!(now() - 3600))),
            "expired",
        ),
        (
            "not yet valid",
            hs256(&with(claims("a", &[]), "nbf", json!(now() + 3600))),
            "not yet valid",
        ),
        (
            "no exp",
            hs256(&with(claims("a", &[]), "exp", Value::Null)),
            "required claim",
        ),
        (
            "wrong iss",
            hs256(&with(claims("a", &[]), "iss", json!("https://evil.test"))),
            "issuer",
        ),
        (
            "no iss",
            hs256(&with(claims("a", &[]), "iss", Value::Null)),
            "issuer",
        ),
        (
            "wrong aud",
            hs256(&with(claims("a", &[]), "aud", json!("other-api"))),
            "audience",
        ),
        (
            "no aud",
            hs256(&with(claims("a", &[]), "aud", Value::Null)),
            "audience",
        ),
        (
            "aud array without ours",
            hs256(&with(claims("a", &[]), "aud", json!(["x", "y"]))),
            "audience",
        ),
        (
            "no sub",
            hs256(&with(claims("a", &[]), "sub", Value::Null)),
            "required claim",
        ),
        (
            "sub not a string",
            hs256(&with(claims("a", &[]), "sub", json!(42))),
            "required claim",
        ),
        ("over the size cap", "a".repeat(9000), "too long"),
    ];
    for (case, jwt, description) in cases {
        let reply = call(&app, get("/admin").insert_header(bearer(&jwt))).await;
        assert_eq!(reply.status, 401, "{case}: {reply:?}");
        reply.assert_invalid_token(description, if jwt.len() > 8 { &jwt } else { "" });
    }
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

#[actix_web::test]
async fn header_tricks_are_401_invalid_token() {
    let app = app!(guard());
    let body = claims("root", &["admin"]);
    let key = EncodingKey::from_secret(SECRET);
    let mut with_kid = Header::new(Algorithm::HS256);
    with_kid.kid = Some("../../etc/passwd".to_owned());
    // A key without a kid answers any kid: the unknown kid is refused only with named keys.
    let named = guard_with(
        route_guard::JwtAuthenticator::builder()
            .key(
                route_guard::JwtKey::hs256(SECRET)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .with_kid("k1"),
            )
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let named_app = app!(named);
    let reply = call(
        &named_app,
        get("/admin").insert_header(bearer(&sign(&with_kid, &body, &key))),
    )
    .await;
    reply.assert_invalid_token("unknown key", "");

    let mut typed = Header::new(Algorithm::HS256);
    typed.typ = Some("logout+jwt".to_owned());
    let reply = call(
        &app,
        get("/admin").insert_header(bearer(&sign(&typed, &body, &key))),
    )
    .await;
    reply.assert_invalid_token("type", "");

    let mut critical = Header::new(Algorithm::HS256);
    critical.crit = Some(vec!["exp".to_owned()]);
    let reply = call(
        &app,
        get("/admin").insert_header(bearer(&sign(&critical, &body, &key))),
    )
    .await;
    reply.assert_invalid_token("critical", "");

    let hs384 = sign(
        &Header::new(Algorithm::HS384),
        &body,
        &EncodingKey::from_secret(SECRET),
    );
    let reply = call(&app, get("/admin").insert_header(bearer(&hs384))).await;
    reply.assert_invalid_token("algorithm", "");
}

#[actix_web::test]
async fn alg_none_is_refused_in_every_spelling() {
    let app = app!(guard());
    let payload = base64_url(&claims("root", &["admin"]).to_string());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let head = base64_url(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        for jwt in [
            format!("{head}.{payload}."),
            format!("{head}.{payload}.c2ln"),
        ] {
            let reply = call(&app, get("/admin").insert_header(bearer(&jwt))).await;
            assert_eq!(reply.status, 401, "{alg}: {reply:?}");
            reply.assert_problem(401, &jwt);
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
    assert!(
        reply
            .challenge
            .as_deref()
            .is_some_and(|c| c.contains(r#"error="invalid_request""#))
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
async fn any_and_all_combine_roles() {
    let app = app!(guard());
    let cases: [(&[&str], &str, u16); 8] = [
        (&["auditor"], "/reports", 200),
        (&["admin"], "/reports", 200),
        (&["user"], "/reports", 403),
        (&["finance", "manager"], "/payroll", 200),
        (&["finance", "director"], "/payroll", 200),
        (&["finance"], "/payroll", 403),
        (&["manager", "director"], "/payroll", 403),
        (&["admin"], "/to", 200),
    ];
    for (roles, path, status) in cases {
        let reply = call(&app, get(path).insert_header(bearer(&token("u", roles)))).await;
        assert_eq!(reply.status, status, "{roles:?} on {path}: {reply:?}");
    }
}

#[actix_web::test]
async fn roles_may_be_a_space_separated_string() {
    let app = app!(guard());
    let jwt = hs256(&with(claims("u", &[]), "roles", json!("user admin")));
    assert_eq!(
        call(&app, get("/admin").insert_header(bearer(&jwt)))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn a_roles_claim_of_the_wrong_type_grants_no_role_and_never_500() {
    let app = app!(guard());
    for roles in [
        json!(1),
        json!({"admin": true}),
        json!([["admin"]]),
        json!(["admin", 1]),
        json!(true),
    ] {
        let jwt = hs256(&with(claims("u", &[]), "roles", roles.clone()));
        call(&app, get("/admin").insert_header(bearer(&jwt)))
            .await
            .assert_forbidden();
        let reply = call(&app, get("/me").insert_header(bearer(&jwt))).await;
        assert_eq!(reply.status, 200, "{roles}: {reply:?}");
        assert_eq!(reply.json()["roles"], json!([]));
    }
}

#[actix_web::test]
async fn roles_come_from_the_configured_claim_path() {
    let guard = guard_with(
        jwt_builder()
            .roles_claim("realm_access.roles")
            .build()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let app = app!(guard);
    let nested = hs256(&with(
        claims("u", &[]),
        "realm_access",
        json!({"roles": ["admin"]}),
    ));
    assert_eq!(
        call(&app, get("/admin").insert_header(bearer(&nested)))
            .await
            .status,
        200
    );
    // The top-level `roles` claim is no longer read.
    call(
        &app,
        get("/admin").insert_header(bearer(&token("u", &["admin"]))),
    )
    .await
    .assert_forbidden();

    let url_key = route_guard::ClaimPath::key("https://example.com/roles");
    let app = app!(guard_with(
        jwt_builder()
            .roles_claim(url_key)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    ));
    let namespaced = hs256(&with(
        claims("u", &[]),
        "https://example.com/roles",
        json!(["admin"]),
    ));
    assert_eq!(
        call(&app, get("/admin").insert_header(bearer(&namespaced)))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn without_a_route_guard_a_guarded_route_is_500_never_200() {
    let app = init_service(App::new().service(me).service(admin)).await;
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
            .assert_invalid_token("expired", &jwt);
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
        .assert_invalid_token("expired", &jwt);
}

/// `segment` with its first character changed (to another base64url character).
fn flip_first(segment: &str) -> String {
    let replacement = if segment.starts_with('e') { "f" } else { "e" };
    format!("{replacement}{}", segment.get(1..).unwrap_or_default())
}

/// `header.payload` signed with the test secret, whatever the payload holds.
fn signed_raw(header: &str, payload: &str) -> String {
    let message = format!("{header}.{payload}");
    let key = EncodingKey::from_secret(SECRET);
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256)
        .unwrap_or_else(|e| panic!("{e}"));
    format!("{message}.{signature}")
}

fn base64_url(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn base64_url_matches_the_rfc_4648_vectors() {
    assert_eq!(base64_url("f"), "Zg");
    assert_eq!(base64_url("fo"), "Zm8");
    assert_eq!(base64_url("foo"), "Zm9v");
    assert_eq!(base64_url("foob"), "Zm9vYg");
    let _ = TestRequest::default();
}
