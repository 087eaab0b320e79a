//! The OpenAPI document of `examples/openapi.rs`: valid OpenAPI 3.1 by an independent
//! validator, every operation's security and refusals exactly its guard's, and the guarded
//! handlers answering clients as they would without `#[utoipa::path]`.

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../examples/openapi.rs"]
mod example;

mod common;

use actix_web::App;
use actix_web::test::{TestRequest, init_service};
use common::{bearer, call_full, pypi, sign};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The example's document, as served.
fn document() -> Value {
    let guard = example::guard(example::DEV_SECRET).unwrap_or_else(|e| panic!("{e}"));
    serde_json::to_value(example::document(&guard)).unwrap_or_else(|e| panic!("{e}"))
}

/// `operation`'s field `field` on `GET path`.
fn get<'a>(doc: &'a Value, path: &str) -> &'a Value {
    &doc["paths"][path]["get"]
}

/// The requirement objects `names` give for each of the example's three schemes.
fn each_scheme(names: &[&str]) -> Vec<Value> {
    ["bearer", "basic", "apiKey"]
        .iter()
        .map(|scheme| json!({ *scheme: names }))
        .collect()
}

/// The statuses an operation documents.
fn statuses(operation: &Value) -> Vec<String> {
    let responses = operation["responses"].as_object();
    responses.map_or_else(Vec::new, |r| r.keys().cloned().collect())
}

#[test]
fn the_schemes_come_from_the_route_guard() {
    let doc = document();
    assert_eq!(
        doc["components"]["securitySchemes"],
        json!({
            "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
            "basic": { "type": "http", "scheme": "basic" },
            "apiKey": { "type": "apiKey", "in": "header", "name": "x-api-key" },
        })
    );
    let problem = &doc["components"]["schemas"]["RouteGuardProblem"];
    assert_eq!(
        problem["required"],
        json!(["type", "title", "status", "detail"])
    );
}

#[test]
fn require_auth_accepts_any_scheme_and_cannot_forbid() {
    let doc = document();
    let me = get(&doc, "/me");
    assert_eq!(me["security"], json!(each_scheme(&[])));
    // Basic's user store can be down: 503. Any known caller passes: no 403.
    assert_eq!(statuses(me), ["200", "400", "401", "503"]);
    let challenge = &me["responses"]["401"]["headers"]["WWW-Authenticate"]["description"];
    let challenge = challenge.as_str().unwrap_or_default();
    for scheme in [
        r#"`Bearer realm="openapi-example"`"#,
        r#"`Basic realm="openapi-example", charset="UTF-8"`"#,
        r#"`ApiKey realm="openapi-example", header="x-api-key"`"#,
    ] {
        assert!(challenge.contains(scheme), "{challenge}");
    }
    assert_eq!(
        me["responses"]["401"]["content"]["application/problem+json"]["schema"],
        json!({ "$ref": "#/components/schemas/RouteGuardProblem" })
    );
    assert_eq!(
        me["responses"]["503"]["headers"]["Retry-After"]["schema"]["type"],
        "integer"
    );
    assert_eq!(me["x-route-guard"]["rules"], json!(["authenticated"]));
    assert!(me.get("description").is_none(), "{me}");
}

#[test]
fn any_gives_one_alternative_per_role_and_scheme() {
    let doc = document();
    let reports = get(&doc, "/reports");
    let mut expected = each_scheme(&["admin"]);
    expected.extend(each_scheme(&["auditor"]));
    assert_eq!(reports["security"], json!(expected));
    assert_eq!(statuses(reports), ["200", "400", "401", "403", "503"]);
    assert!(reports["responses"]["403"].get("headers").is_none());
}

#[test]
fn a_scope_rule_documents_the_insufficient_scope_challenge_and_keeps_declared_responses() {
    let doc = document();
    let item = get(&doc, "/items/{id}");
    assert_eq!(item["security"], json!(each_scheme(&["read:items"])));
    let forbidden = &item["responses"]["403"]["headers"]["WWW-Authenticate"]["description"];
    assert!(
        forbidden
            .as_str()
            .unwrap_or_default()
            .contains("insufficient_scope")
    );
    assert_eq!(
        item["responses"]["404"],
        json!({ "description": "No such item" })
    );
    // utoipa read the handler's `web::Path<u32>` before the guard took it over.
    assert_eq!(item["parameters"][0]["name"], "id");
    assert_eq!(item["parameters"][0]["schema"]["type"], "integer");
}

#[test]
fn an_address_alternative_is_the_empty_requirement_and_is_described() {
    let doc = document();
    let ops = get(&doc, "/ops");
    let mut expected = each_scheme(&["admin"]);
    expected.push(json!({}));
    assert_eq!(ops["security"], json!(expected));
    // `hide`: 404 for everyone refused, no 401 or 403; 400 and 503 stay.
    assert_eq!(statuses(ops), ["200", "400", "404", "503"]);
    assert_eq!(
        ops["x-route-guard"],
        json!({
            "guards": [{ "rule": { "any": [{ "role": "admin" }, { "ip": ["10.0.0.0/8"] }] }, "hide": true }],
            "rules": [r#"any(role("admin"), ip("10.0.0.0/8"))"#],
            "hide": true,
            "beyondCredentials": [r#"ip("10.0.0.0/8")"#],
        })
    );
    let description = ops["description"].as_str().unwrap_or_default();
    assert!(
        description.ends_with(
            "Access also depends on what no security requirement can express: `ip(\"10.0.0.0/8\")`."
        ),
        "{description}"
    );
}

#[test]
fn a_guard_scope_documents_its_operations_but_not_its_exempt_paths() {
    let doc = document();
    let users = get(&doc, "/admin/users");
    assert_eq!(users["security"], json!(each_scheme(&["admin"])));
    assert_eq!(statuses(users), ["200", "400", "401", "403", "503"]);
    let health = get(&doc, "/admin/health");
    assert!(health.get("security").is_none(), "{health}");
    assert!(health.get("x-route-guard").is_none(), "{health}");
    assert_eq!(statuses(health), ["200"]);
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    pypi::validate_openapi(&doc, "example")
        .unwrap_or_else(|e| panic!("the document is invalid: {e}"));
    // The validator does refuse: here, a response without its required description.
    let mut broken = doc.clone();
    broken["paths"]["/me"]["get"]["responses"]["401"]
        .as_object_mut()
        .map(|response| response.remove("description"));
    assert!(pypi::validate_openapi(&broken, "broken").is_err());
}

#[actix_web::test]
async fn documented_handlers_answer_as_their_guards() {
    let guard = example::guard(example::DEV_SECRET).unwrap_or_else(|e| panic!("{e}"));
    let doc = example::document(&guard);
    let served = serde_json::to_value(&doc).unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard).configure(example::routes(doc))).await;

    let refused = call_full(&app, TestRequest::get().uri("/reports")).await;
    let challenges = [
        r#"Bearer realm="openapi-example""#,
        r#"Basic realm="openapi-example", charset="UTF-8""#,
        r#"ApiKey realm="openapi-example", header="x-api-key""#,
    ];
    refused.assert_refused(401, &challenges, "");

    let claims = json!({ "sub": "ada", "exp": common::now() + 600, "roles": ["auditor"] });
    let key = EncodingKey::from_secret(example::DEV_SECRET.as_bytes());
    let auditor = bearer(&sign(&Header::new(Algorithm::HS256), &claims, &key));
    let allowed = call_full(
        &app,
        TestRequest::get()
            .uri("/reports")
            .insert_header(auditor.clone()),
    )
    .await;
    assert_eq!(
        (allowed.reply.status, allowed.reply.body.as_str()),
        (200, "numbers")
    );

    let no_scope = call_full(
        &app,
        TestRequest::get()
            .uri("/items/7")
            .insert_header(auditor.clone()),
    )
    .await;
    no_scope.reply.assert_problem(403, "");
    let scope = no_scope.reply.challenge.unwrap_or_default();
    assert!(scope.contains(r#"error="insufficient_scope""#), "{scope}");

    let hidden = call_full(&app, TestRequest::get().uri("/ops").insert_header(auditor)).await;
    assert_eq!((hidden.reply.status, hidden.challenges.len()), (404, 0));

    let json = call_full(&app, TestRequest::get().uri("/openapi.json")).await;
    assert_eq!((json.reply.status, json.reply.json()), (200, served));
}
