//! Several issuers on one guard (`route_guard::Issuers`), as a client sees it: two real OpenID
//! providers (tenants of panva's `oidc-provider`, `tests/oidc/`) whose tokens both pass, each
//! verified with its own keys only; one issuing JWTs and one opaque tokens behind one guard; tokens signed with one issuer's key in another's name
//! refused; an issuer nobody configured refused without a single fetch; an issuer that cannot
//! be reached answering 503 for its own tokens while the others work. Tokens not made by the
//! providers are signed by the `jsonwebtoken` crate, never by route-guard.

mod common;
mod provider;

use std::time::Duration;

use actix_web::test::init_service;
use actix_web::{App, HttpResponse, get};
use common::*;
use provider::{Provider, RESOURCE};
use route_guard::{
    Authenticated, IntrospectionAuthenticator, Issuers, Jwks, JwtAuthenticator, JwtKey, Preset,
    RouteGuard, require_auth, require_scope,
};
use serde_json::json;

#[get("/reports")]
#[require_scope("read:reports")]
async fn reports(client: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "subject": client.subject(),
        "issuer": client.issuer(),
        "scheme": client.scheme(),
    }))
}

#[get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "subject": user.subject(), "issuer": user.issuer() }))
}

/// A provider's keys through discovery, with timeouts short enough for a test.
fn discovered(issuer: &str) -> Jwks {
    Jwks::discover(issuer)
        .cooldown(Duration::from_millis(250))
        .timeout(Duration::from_secs(2))
}

fn provider_issuer(provider: &Provider) -> route_guard::jwt::JwtAuthenticatorBuilder {
    JwtAuthenticator::builder()
        .preset(Preset::rfc9068())
        .jwks(discovered(&provider.base))
        .audience(RESOURCE)
}

fn guard(issuers: Issuers) -> RouteGuard {
    RouteGuard::builder(issuers)
        .realm(REALM)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

const INVALID_ISSUER: &str = r#"Bearer realm="test", error="invalid_token", error_description="The token issuer is not accepted""#;

#[actix_web::test]
async fn each_providers_tokens_pass_and_name_their_issuer() {
    let (a, b) = (provider::start().await, provider::start().await);
    let issuers = Issuers::builder()
        .jwt("a", provider_issuer(&a))
        .jwt("b", provider_issuer(&b))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard(issuers)).service(reports)).await;
    for (provider, name) in [(&a, "a"), (&b, "b")] {
        let token = provider.token(Some("read:reports")).await;
        let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(
            reply.json(),
            json!({ "subject": "reports-client", "issuer": name, "scheme": "bearer" })
        );
    }
    // A token of `a` whose `iss` now names `b`: `b`'s verifier runs, and `a`'s key is not
    // one of `b`'s.
    let token = a.token(Some("read:reports")).await;
    let moved = with_claim(&token, "iss", json!(b.base));
    let reply = call_full(&app, get("/reports").insert_header(bearer(&moved))).await;
    assert_eq!(reply.reply.status, 401, "{reply:?}");
    assert!(
        reply.challenges[0].contains(r#"error="invalid_token""#),
        "{reply:?}"
    );
}

#[actix_web::test]
async fn an_issuer_nobody_configured_is_refused_without_a_fetch() {
    let (a, b) = (provider::start().await, provider::start().await);
    let issuers = Issuers::builder()
        .jwt("a", provider_issuer(&a))
        .jwt("b", provider_issuer(&b))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard(issuers)).service(reports)).await;
    // Both issuers' keys are loaded by a first token each.
    for provider in [&a, &b] {
        let token = provider.token(Some("read:reports")).await;
        let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    let counts = |p: &Provider| {
        let p = Provider {
            base: p.base.clone(),
        };
        async move { (p.jwks_hits().await, p.discovery_hits().await) }
    };
    let before = (counts(&a).await, counts(&b).await);
    let strangers = [
        format!("{}/other", a.base),
        "http://127.0.0.1:1/realms/invented".to_owned(),
        "https://accounts.example.org".to_owned(),
        String::new(),
    ];
    for (n, iss) in strangers.iter().enumerate() {
        let token = hs256(&json!({
            "iss": iss, "sub": format!("stranger-{n}"), "aud": RESOURCE,
            "exp": now() + 600, "scope": "read:reports"
        }));
        let reply = call_full(&app, get("/reports").insert_header(bearer(&token))).await;
        reply.assert_refused(401, &[INVALID_ISSUER], &token);
    }
    // No `iss` at all is no issuer either.
    let token = hs256(&json!({ "sub": "x", "aud": RESOURCE, "exp": now() + 600 }));
    let reply = call_full(&app, get("/reports").insert_header(bearer(&token))).await;
    reply.assert_refused(401, &[INVALID_ISSUER], &token);
    assert_eq!((counts(&a).await, counts(&b).await), before);
}

#[actix_web::test]
async fn one_issuers_key_never_vouches_for_another() {
    let issuers = Issuers::builder()
        .jwt("staff", issuer_with_secret(STAFF))
        .jwt("partners", issuer_with_secret(PARTNERS))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard(issuers)).service(me)).await;
    for ((iss, _), (_, secret), expected) in [
        (STAFF, STAFF, Some("staff")),
        (PARTNERS, PARTNERS, Some("partners")),
        (PARTNERS, STAFF, None),
        (STAFF, PARTNERS, None),
    ] {
        let token = issued_by((iss, secret), "ann", &[]);
        let reply = call_full(&app, get("/me").insert_header(bearer(&token))).await;
        match expected {
            Some(name) => {
                assert_eq!(reply.reply.status, 200, "{reply:?}");
                assert_eq!(reply.reply.json()["issuer"], name);
            }
            None => reply.assert_refused(
                401,
                &[&bearer_error(
                    "invalid_token",
                    "The token signature is invalid",
                )],
                &token,
            ),
        }
    }
}

#[test]
fn one_authenticator_for_several_issuers_must_say_they_share_keys() {
    let two = || issuer_with_secret(STAFF).issuer(PARTNERS.0);
    let refused = two().build().map(|_| ()).unwrap_err().to_string();
    assert!(refused.contains("route_guard::Issuers"), "{refused}");
    assert!(refused.contains("issuers_share_keys"), "{refused}");
    assert!(two().issuers_share_keys().build().is_ok());
}

#[test]
fn issuers_refuse_configurations_that_cannot_route() {
    let refused = |builder: route_guard::IssuersBuilder| match builder.build() {
        Ok(_) => panic!("built"),
        Err(error) => error.to_string(),
    };
    assert!(refused(Issuers::builder()).contains("at least one issuer"));
    let twice = Issuers::builder()
        .jwt("a", issuer_with_secret(STAFF))
        .jwt("b", issuer_with_secret(STAFF));
    assert!(refused(twice).contains("configured twice"));
    let same_name = Issuers::builder()
        .jwt("a", issuer_with_secret(STAFF))
        .jwt("a", issuer_with_secret(PARTNERS));
    assert!(refused(same_name).contains("two issuers are named `a`"));
    let none = Issuers::builder().jwt(
        "a",
        JwtAuthenticator::builder().key(JwtKey::hs256(STAFF.1).unwrap_or_else(|e| panic!("{e}"))),
    );
    assert!(refused(none).contains("exactly one `iss`"));
    let shared = Issuers::builder().jwt(
        "a",
        issuer_with_secret(STAFF)
            .issuer(PARTNERS.0)
            .issuers_share_keys(),
    );
    assert!(refused(shared).contains("exactly one `iss`"));
    let cookie = Issuers::builder().jwt("a", issuer_with_secret(STAFF).cookie("session"));
    assert!(refused(cookie).contains("Authorization header only"));
}

#[actix_web::test]
async fn an_unreachable_issuer_answers_503_for_its_own_tokens_only() {
    let a = provider::start().await;
    // A typo in the port: nothing listens there. And one that is not a URL at all, or asks
    // for keys in clear text from another host: neither stops the build nor the others.
    let typos = [
        "http://127.0.0.1:9/realms/b",
        "htps//sso.example.com/realms/c",
        "http://sso.example.com/realms/d",
    ];
    let mut issuers = Issuers::builder().jwt("a", provider_issuer(&a));
    for (n, typo) in typos.iter().enumerate() {
        let issuer = JwtAuthenticator::builder()
            .jwks(discovered(typo))
            .audience(RESOURCE);
        issuers = issuers.jwt(format!("typo{n}"), issuer);
    }
    let issuers = issuers.build().unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard(issuers)).service(reports)).await;
    for typo in typos {
        let token = hs256(&json!({
            "iss": typo, "sub": "x", "aud": RESOURCE, "exp": now() + 600, "scope": "read:reports"
        }));
        let reply = call_full(&app, get("/reports").insert_header(bearer(&token))).await;
        assert_eq!(reply.reply.status, 503, "{typo}: {reply:?}");
        assert!(reply.retry_after.is_some(), "{reply:?}");
        assert!(reply.challenges.is_empty(), "{reply:?}");
    }
    let good = a.token(Some("read:reports")).await;
    let reply = call(&app, get("/reports").insert_header(bearer(&good))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// `token` with claim `name` set to `value`, signature unchanged.
fn with_claim(token: &str, name: &str, value: serde_json::Value) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let payload = URL_SAFE_NO_PAD
        .decode(parts[1])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut claims: serde_json::Value =
        serde_json::from_slice(&payload).unwrap_or_else(|e| panic!("{e}"));
    claims[name] = value;
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

#[actix_web::test]
async fn jwts_of_one_provider_and_opaque_tokens_of_another_share_one_guard() {
    let (jwts, opaque) = (provider::start().await, provider::start_opaque().await);
    let introspection = IntrospectionAuthenticator::builder()
        .discover(&opaque.base)
        .client_secret_basic(provider::INTROSPECTOR_BASIC, provider::INTROSPECTOR_SECRET)
        .audience(RESOURCE)
        .cache_ttl(Duration::from_millis(1500));
    let issuers = Issuers::builder()
        .jwt("jwts", provider_issuer(&jwts))
        .opaque("opaque", introspection)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard(issuers)).service(reports)).await;
    let jwt = jwts.token(Some("read:reports")).await;
    let reply = call(&app, get("/reports").insert_header(bearer(&jwt))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json()["issuer"], "jwts");
    let token = opaque.token(Some("read:reports")).await;
    assert!(!token.contains('.'), "an opaque token: {token}");
    let reply = call(&app, get("/reports").insert_header(bearer(&token))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json()["issuer"], "opaque");
    // A JWT never reaches the introspection endpoint, an opaque token never the JWKS.
    assert_eq!(opaque.introspection_hits().await, 1);
    // Revoked at its provider: refused once its cache entry ends.
    opaque.revoke(&token).await;
    let mut refused = None;
    for _ in 0..40 {
        let reply = call_full(&app, get("/reports").insert_header(bearer(&token))).await;
        if reply.reply.status != 200 {
            refused = Some(reply);
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let Some(refused) = refused else {
        panic!("the revoked opaque token still passes after 4 s");
    };
    refused.assert_refused(
        401,
        &[&bearer_error(
            "invalid_token",
            "The access token is not active",
        )],
        &token,
    );
    // The JWT provider's tokens go on working.
    let reply = call(&app, get("/reports").insert_header(bearer(&jwt))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[test]
fn only_one_issuer_may_take_opaque_tokens() {
    let introspection = || {
        IntrospectionAuthenticator::builder()
            .endpoint("https://sso.example.com/introspect")
            .client_secret_basic("api", "a secret")
    };
    let refused = Issuers::builder()
        .opaque("a", introspection())
        .opaque("b", introspection())
        .build()
        .map(|_| ());
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains("only one issuer may take them"),
        "{message}"
    );
    let mismatched = Issuers::builder()
        .jwt("a", issuer_with_secret(STAFF))
        .opaque("a", introspection().issuer(PARTNERS.0))
        .build()
        .map(|_| ());
    let message = mismatched.unwrap_err().to_string();
    assert!(
        message.contains("in its introspection answers"),
        "{message}"
    );
}
