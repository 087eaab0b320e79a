//! A caller the guard cannot identify gets 401 on every route whose rule depends on who they
//! are, never a 403 decided on an identity it does not have: scope rules and rules under `not`
//! included, where "holds no such scope" or "is not suspended" would be true of nobody at all.
//! No credentials, a scheme the app does not take: bare 401; unusable ones: 401
//! `invalid_token`; two `Authorization` lines: 400. Controls show each route does answer 403.

mod common;

use actix_web::http::header;
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, get};
use common::*;
use route_guard::{RequestProblem, TokenProblem, require, require_role, require_scope};
use serde_json::json;

#[get("/scope")]
#[require_scope("read:items")]
async fn one_scope() -> &'static str {
    "scope"
}

#[get("/scopes/all")]
#[require_scope(all("read:items", "write:items"))]
async fn all_scopes() -> &'static str {
    "all scopes"
}

#[get("/scopes/any")]
#[require_scope(any("read:items", "write:items"))]
async fn any_scope() -> &'static str {
    "any scope"
}

#[get("/not/role")]
#[require_role(not("suspended"))]
async fn not_suspended() -> &'static str {
    "not suspended"
}

#[get("/not/member")]
#[require_role(all("member", not("suspended")))]
async fn active_member() -> &'static str {
    "active member"
}

#[get("/not/scope")]
#[require(not(scope("admin:all")))]
async fn not_admin_scope() -> &'static str {
    "not admin scope"
}

#[get("/not/any")]
#[require(any(scope("read:items"), not(role("banned"))))]
async fn read_or_not_banned() -> &'static str {
    "read or not banned"
}

#[get("/not/all")]
#[require(not(all(role("intern"), role("contractor"))))]
async fn not_both() -> &'static str {
    "not both"
}

/// Every route above, with its body.
const ROUTES: [(&str, &str); 8] = [
    ("/scope", "scope"),
    ("/scopes/all", "all scopes"),
    ("/scopes/any", "any scope"),
    ("/not/role", "not suspended"),
    ("/not/member", "active member"),
    ("/not/scope", "not admin scope"),
    ("/not/any", "read or not banned"),
    ("/not/all", "not both"),
];

macro_rules! app {
    () => {
        init_service(
            App::new()
                .app_data(guard())
                .service(one_scope)
                .service(all_scopes)
                .service(any_scope)
                .service(not_suspended)
                .service(active_member)
                .service(not_admin_scope)
                .service(read_or_not_banned)
                .service(not_both),
        )
        .await
    };
}

/// A token for `sub` with `roles` and the space-separated `scope` claim.
fn scoped(roles: &[&str], scope: &str) -> String {
    hs256(&with(claims("u", roles), "scope", json!(scope)))
}

#[actix_web::test]
async fn no_credentials_is_401_with_a_bare_challenge() {
    let app = app!();
    for (path, _) in ROUTES {
        let reply = call(&app, get(path)).await;
        assert_eq!(reply.status, 401, "{path}: {reply:?}");
        reply.assert_bare_401("");
    }
}

#[actix_web::test]
async fn credentials_in_another_scheme_are_401_with_a_bare_challenge() {
    let app = app!();
    for (path, _) in ROUTES {
        let req = get(path).insert_header((header::AUTHORIZATION, "Basic YWxpY2U6c2VjcmV0"));
        let reply = call(&app, req).await;
        assert_eq!(reply.status, 401, "{path}: {reply:?}");
        reply.assert_bare_401("YWxpY2U6c2VjcmV0");
    }
}

#[actix_web::test]
async fn unusable_tokens_are_401_invalid_token() {
    let app = app!();
    // Tokens that would pass every route below were they valid: no roles, every scope.
    let all = "read:items write:items";
    let expired = hs256(&with(
        with(claims("u", &[]), "scope", json!(all)),
        "exp",
        json!(now() - 3600),
    ));
    let good = scoped(&[], all);
    let forged = tampered(&good);
    let cases = [
        (expired, TokenProblem::Expired),
        ("not.a.token".to_owned(), TokenProblem::Malformed),
        (forged, TokenProblem::BadSignature),
    ];
    for (path, _) in ROUTES {
        for (jwt, problem) in &cases {
            let reply = call(&app, get(path).insert_header(bearer(jwt))).await;
            assert_eq!(reply.status, 401, "{path} {problem:?}: {reply:?}");
            reply.assert_invalid(*problem, jwt);
        }
    }
}

#[actix_web::test]
async fn two_authorization_lines_are_400_invalid_request() {
    let app = app!();
    let jwt = scoped(&[], "read:items write:items");
    for (path, _) in ROUTES {
        let req: TestRequest = get(path)
            .append_header(bearer(&jwt))
            .append_header(bearer(&jwt));
        let reply = call(&app, req).await;
        assert_eq!(reply.status, 400, "{path}: {reply:?}");
        reply.assert_invalid_request(RequestProblem::DuplicateAuthorization, &jwt);
    }
}

#[actix_web::test]
async fn an_identified_caller_gets_the_rules_answer() {
    // The controls: each route lets a fitting caller in and refuses an unfitting one with 403,
    // so the 401s above are the guard's, not the route's only answer.
    let app = app!();
    let passing = scoped(&["member"], "read:items write:items");
    for (path, body) in ROUTES {
        let reply = call(&app, get(path).insert_header(bearer(&passing))).await;
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        reply.assert_ok(body);
    }
    let no_scope = scoped(&["member", "banned"], "openid");
    for (path, scopes) in [
        ("/scope", "read:items"),
        ("/scopes/all", "read:items write:items"),
        ("/scopes/any", "read:items write:items"),
        // Banned, but the scope alone would let the caller in.
        ("/not/any", "read:items"),
    ] {
        call(&app, get(path).insert_header(bearer(&no_scope)))
            .await
            .assert_insufficient_scope(scopes, &no_scope);
    }
    // A token holding the scope a rule forbids, where the rule requires no scope held: a
    // plain 403, since no scope could be asked for (RFC 6750 §3.1 `insufficient_scope` names
    // the scopes to get).
    let forbidden_scope = scoped(&[], "admin:all");
    let reply = call(
        &app,
        get("/not/scope").insert_header(bearer(&forbidden_scope)),
    )
    .await;
    reply.assert_problem(403, &forbidden_scope);
    assert_eq!(reply.challenge, None, "{reply:?}");
    for (path, jwt) in [
        ("/not/role", token("u", &["suspended"])),
        ("/not/member", token("u", &["member", "suspended"])),
        ("/not/all", token("u", &["intern", "contractor"])),
    ] {
        let reply = call(&app, get(path).insert_header(bearer(&jwt))).await;
        assert_eq!(reply.status, 403, "{path}: {reply:?}");
        reply.assert_forbidden();
    }
}
