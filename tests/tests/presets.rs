//! Identity-provider presets read roles, scopes and permissions where each provider puts them
//! (`docs/wire-contract.md`), with tokens shaped like the providers' own.

mod common;

use actix_web::test::init_service;
use actix_web::{App, get, web};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use route_guard::{Authenticated, JwtAuthenticator, JwtKey, Preset, require_auth, require_scope};
use serde_json::{Value, json};

#[get("/whoami")]
#[require_auth]
async fn whoami(user: Authenticated) -> web::Json<Value> {
    let identity = user.identity();
    web::Json(json!({
        "roles": identity.roles(),
        "scopes": identity.scopes(),
        "permissions": identity.permissions(),
    }))
}

#[get("/reports")]
#[require_scope("read:reports")]
async fn scoped() -> &'static str {
    "numbers"
}

fn authenticator(preset: Preset, audience: bool) -> JwtAuthenticator {
    let key = JwtKey::hs256(SECRET).unwrap_or_else(|e| panic!("{e}"));
    let builder = JwtAuthenticator::builder()
        .key(key)
        .issuer(ISSUER)
        .preset(preset);
    let builder = if audience {
        builder.audience(AUDIENCE)
    } else {
        builder
    };
    builder.build().unwrap_or_else(|e| panic!("{e}"))
}

/// What `/whoami` and `/reports` answer for a token with `claims` (merged over the basics).
async fn ask(jwt: JwtAuthenticator, typ: Option<&str>, claims: Value) -> (Value, u16) {
    let app = init_service(
        App::new()
            .app_data(guard_with(jwt))
            .service(whoami)
            .service(scoped),
    )
    .await;
    let mut all = json!({"sub": "someone", "iss": ISSUER, "exp": now() + 600});
    if let (Some(all), Some(extra)) = (all.as_object_mut(), claims.as_object()) {
        all.extend(extra.clone());
    }
    let mut header = Header::new(Algorithm::HS256);
    header.typ = typ.map(str::to_owned);
    let token = sign(&header, &all, &EncodingKey::from_secret(SECRET));
    let who = call(&app, get("/whoami").insert_header(bearer(&token))).await;
    let reports = call(&app, get("/reports").insert_header(bearer(&token))).await;
    let who = if who.status == 200 {
        who.json()
    } else {
        json!(who.challenge)
    };
    (who, reports.status)
}

#[actix_web::test]
async fn keycloak_roles_come_from_the_realm_and_the_named_client() {
    let claims = json!({
        "aud": AUDIENCE,
        "realm_access": {"roles": ["offline_access", "admin"]},
        "resource_access": {"my.app": {"roles": ["editor"]}, "other": {"roles": ["root"]}},
        "scope": "openid read:reports",
    });
    let (who, reports) = ask(
        authenticator(Preset::keycloak("my.app"), true),
        None,
        claims,
    )
    .await;
    assert_eq!(who["roles"], json!(["admin", "editor", "offline_access"]));
    assert_eq!(who["scopes"], json!(["openid", "read:reports"]));
    assert_eq!(reports, 200);
}

#[actix_web::test]
async fn auth0_roles_come_from_a_namespaced_claim_and_permissions_from_permissions() {
    let claims = json!({
        "aud": [AUDIENCE, "https://tenant.auth0.com/userinfo"],
        "https://example.com/roles": ["admin"],
        "permissions": ["read:reports", "write:reports"],
        "scope": "openid profile",
    });
    let preset = Preset::auth0("https://example.com/roles");
    let (who, reports) = ask(authenticator(preset, true), None, claims).await;
    assert_eq!(who["roles"], json!(["admin"]));
    assert_eq!(who["permissions"], json!(["read:reports", "write:reports"]));
    assert_eq!(reports, 403, "permissions are not scopes");
}

#[actix_web::test]
async fn okta_groups_are_roles_and_scp_is_an_array_of_scopes() {
    let claims = json!({"aud": AUDIENCE, "groups": ["Everyone", "admin"], "scp": ["read:reports"]});
    let (who, reports) = ask(authenticator(Preset::okta(), true), None, claims).await;
    assert_eq!(who["roles"], json!(["Everyone", "admin"]));
    assert_eq!(reports, 200);
}

#[actix_web::test]
async fn entra_id_app_roles_are_roles_and_scp_is_a_string_while_group_ids_are_ignored() {
    let claims = json!({
        "aud": AUDIENCE,
        "roles": ["Reports.Read"],
        "groups": ["2a3b7c1e-0000-4000-8000-000000000001"],
        "scp": "read:reports User.Read",
    });
    let (who, reports) = ask(authenticator(Preset::entra_id(), true), Some("JWT"), claims).await;
    assert_eq!(who["roles"], json!(["Reports.Read"]));
    assert_eq!(reports, 200);
}

#[actix_web::test]
async fn cognito_access_tokens_are_checked_by_client_id_and_token_use_instead_of_aud() {
    let preset = || Preset::cognito(["client-1"]);
    let access = json!({"cognito:groups": ["admin"], "token_use": "access",
                        "client_id": "client-1", "scope": "read:reports"});
    let (who, reports) = ask(authenticator(preset(), false), None, access.clone()).await;
    assert_eq!((who["roles"].clone(), reports), (json!(["admin"]), 200));

    let mut id_token = access.clone();
    id_token["token_use"] = json!("id");
    let (who, _) = ask(authenticator(preset(), false), None, id_token).await;
    assert!(
        who.as_str()
            .is_some_and(|c| c.contains("token type is not accepted")),
        "{who}"
    );

    let mut other_client = access;
    other_client["client_id"] = json!("client-2");
    let (who, _) = ask(authenticator(preset(), false), None, other_client).await;
    assert!(
        who.as_str()
            .is_some_and(|c| c.contains("audience is not accepted")),
        "{who}"
    );
}

#[actix_web::test]
async fn rfc9068_requires_at_jwt_and_an_audience() {
    let claims = json!({"aud": AUDIENCE, "roles": ["a"], "groups": ["g"],
                        "entitlements": ["e"], "scope": "read:reports"});
    let (who, reports) = ask(
        authenticator(Preset::rfc9068(), true),
        Some("at+jwt"),
        claims.clone(),
    )
    .await;
    assert_eq!(who["roles"], json!(["a", "g"]));
    assert_eq!(who["permissions"], json!(["e"]));
    assert_eq!(reports, 200);
    let (who, _) = ask(authenticator(Preset::rfc9068(), true), Some("JWT"), claims).await;
    assert!(
        who.as_str().is_some_and(|c| c.contains("token type")),
        "{who}"
    );

    let key = JwtKey::hs256(SECRET).unwrap_or_else(|e| panic!("{e}"));
    let unchecked = JwtAuthenticator::builder()
        .key(key)
        .preset(Preset::rfc9068())
        .build();
    let error = unchecked.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("audience"), "{error}");
}
