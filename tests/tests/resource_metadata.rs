//! Protected-resource metadata (RFC 9728), as a client sees it: the document served at its
//! well-known URL, with only RFC 9728's members, each of its type; and every 401 challenge
//! pointing at it with `resource_metadata="…"`, so that a client finds from a refusal alone
//! which authorization server to ask.

mod common;

use actix_web::http::header;
use actix_web::test::{self, init_service};
use actix_web::{App, get};
use common::*;
use route_guard::{
    Issuers, JwtAuthenticator, JwtKey, ResourceMetadata, RouteGuard, require, require_role,
};
use serde_json::{Value, json};

#[get("/me")]
#[require_role("user")]
async fn me() -> &'static str {
    "me"
}

#[get("/transfer")]
#[require(acr("mfa", max_age = 300))]
async fn transfer() -> &'static str {
    "sent"
}

const STAFF: &str = "https://sso.example.com/realms/staff";
const PARTNERS: &str = "https://partners.example.net";
const METADATA: &str = "https://api.example.com/.well-known/oauth-protected-resource";

fn issuer(iss: &str) -> route_guard::jwt::JwtAuthenticatorBuilder {
    JwtAuthenticator::builder()
        .key(JwtKey::hs256(SECRET).unwrap_or_else(|e| panic!("{e}")))
        .issuer(iss)
        .audience(AUDIENCE)
}

fn guard(metadata: ResourceMetadata) -> RouteGuard {
    let issuers = Issuers::builder()
        .jwt("staff", issuer(STAFF))
        .jwt("partners", issuer(PARTNERS))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    RouteGuard::builder(issuers)
        .or(basic_users("ops", "a long ops password", &["user"]))
        .realm(REALM)
        .resource_metadata(metadata)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn metadata() -> ResourceMetadata {
    ResourceMetadata::new("https://api.example.com")
        .unwrap_or_else(|e| panic!("{e}"))
        .scopes_supported(["read:items", "write:items"])
        .resource_name("Example API")
        .resource_documentation("https://docs.example.com/api")
}

macro_rules! app {
    ($guard:expr) => {{
        let guard = $guard;
        let service = guard
            .resource_metadata_service()
            .unwrap_or_else(|| panic!("metadata is configured"));
        init_service(
            App::new()
                .app_data(guard)
                .service(service)
                .service(me)
                .service(transfer),
        )
        .await
    }};
}

/// RFC 9728 §2's members and the JSON type each must have.
fn check_members(document: &Value) {
    let Some(members) = document.as_object() else {
        panic!("the document is not a JSON object: {document}");
    };
    let strings = |value: &Value| {
        value
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    };
    for (name, value) in members {
        let fits = match name.as_str() {
            "resource"
            | "jwks_uri"
            | "resource_name"
            | "resource_documentation"
            | "resource_policy_uri"
            | "resource_tos_uri"
            | "signed_metadata" => value.is_string(),
            "authorization_servers"
            | "scopes_supported"
            | "resource_signing_alg_values_supported"
            | "authorization_details_types_supported"
            | "dpop_signing_alg_values_supported" => strings(value),
            "bearer_methods_supported" => {
                strings(value)
                    && value.as_array().is_some_and(|methods| {
                        methods.iter().all(|m| {
                            ["header", "body", "query"].contains(&m.as_str().unwrap_or(""))
                        })
                    })
            }
            "tls_client_certificate_bound_access_tokens" | "dpop_bound_access_tokens_required" => {
                value.is_boolean()
            }
            other => panic!("{other} is not an RFC 9728 member"),
        };
        assert!(fits, "{name} has the wrong type: {value}");
    }
    let resource = members.get("resource").and_then(Value::as_str);
    assert!(
        resource.is_some_and(|r| r.starts_with("https://") && !r.contains('#')),
        "resource is required, an https URL without fragment: {document}"
    );
}

#[actix_web::test]
async fn the_document_is_served_from_the_guards_configuration() {
    let app = app!(guard(metadata()));
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/.well-known/oauth-protected-resource")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let document: Value = test::read_body_json(res).await;
    check_members(&document);
    assert_eq!(
        document,
        json!({
            "resource": "https://api.example.com",
            "authorization_servers": [STAFF, PARTNERS],
            "scopes_supported": ["read:items", "write:items"],
            "bearer_methods_supported": ["header"],
            "resource_name": "Example API",
            "resource_documentation": "https://docs.example.com/api",
        })
    );
}

#[actix_web::test]
async fn every_401_names_the_document_and_403s_do_not() {
    let app = app!(guard(metadata()));
    let named = |challenge: &str| format!(r#"{challenge}, resource_metadata="{METADATA}""#);
    let bare_bearer = named(r#"Bearer realm="test""#);
    let bare_basic = named(r#"Basic realm="test", charset="UTF-8""#);
    call_full(&app, get("/me"))
        .await
        .assert_refused(401, &[&bare_bearer, &bare_basic], "");
    let forged = "e30.e30.c2ln";
    let invalid = named(&bearer_error(
        "invalid_token",
        "The access token is malformed",
    ));
    call_full(&app, get("/me").insert_header(bearer(forged)))
        .await
        .assert_refused(401, &[&invalid, &bare_basic], forged);
    let staff = hs256(&with(claims("ann", &["user"]), "iss", json!(STAFF)));
    let step_up = named(&format!(
        r#"{}, acr_values="mfa", max_age="300""#,
        bearer_error(
            "insufficient_user_authentication",
            "A stronger or more recent authentication is required"
        )
    ));
    call_full(&app, get("/transfer").insert_header(bearer(&staff)))
        .await
        .assert_refused(401, &[&step_up], &staff);
    let guest = hs256(&with(claims("bob", &[]), "iss", json!(STAFF)));
    call_full(&app, get("/me").insert_header(bearer(&guest)))
        .await
        .assert_refused(403, &[], &guest);
    call(&app, get("/me").insert_header(bearer(&staff)))
        .await
        .assert_ok("me");
}

#[actix_web::test]
async fn a_resource_with_a_path_is_described_under_that_path() {
    let nested = ResourceMetadata::new("https://example.com/api/v1")
        .unwrap_or_else(|e| panic!("{e}"))
        .authorization_servers(["https://login.example.com"]);
    let app = app!(guard(nested));
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/.well-known/oauth-protected-resource/api/v1")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let document: Value = test::read_body_json(res).await;
    check_members(&document);
    assert_eq!(document["resource"], "https://example.com/api/v1");
    assert_eq!(
        document["authorization_servers"],
        json!(["https://login.example.com"])
    );
    assert!(document.get("scopes_supported").is_none());
    let reply = call_full(&app, get("/me")).await;
    assert!(
        reply.challenges[0].ends_with(
            r#"resource_metadata="https://example.com/.well-known/oauth-protected-resource/api/v1""#
        ),
        "{reply:?}"
    );
}

#[actix_web::test]
async fn dpop_algorithms_are_listed_when_an_issuer_takes_dpop() {
    let dpop = route_guard::Dpop::allowed("https://api.example.com")
        .and_then(|d| {
            d.algorithms([
                route_guard::jwt::Algorithm::ES256,
                route_guard::jwt::Algorithm::EdDSA,
            ])
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let jwt = issuer(STAFF)
        .dpop(dpop)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let guard = RouteGuard::builder(jwt)
        .resource_metadata(metadata())
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = app!(guard);
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/.well-known/oauth-protected-resource")
            .to_request(),
    )
    .await;
    let document: Value = test::read_body_json(res).await;
    check_members(&document);
    assert_eq!(
        document["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA"])
    );
    assert_eq!(document["authorization_servers"], json!([STAFF]));
}

#[test]
fn a_guard_without_metadata_serves_none() {
    let guard = RouteGuard::new(issuer(STAFF).build().unwrap_or_else(|e| panic!("{e}")));
    assert!(guard.resource_metadata_service().is_none());
}

#[test]
fn scopes_that_could_not_be_asked_for_are_refused_at_start_up() {
    let spaced = metadata().scopes_supported(["read items"]);
    let refused = RouteGuard::builder(issuer(STAFF).build().unwrap_or_else(|e| panic!("{e}")))
        .resource_metadata(spaced)
        .build()
        .map(|_| ());
    assert!(refused.is_err());
}
