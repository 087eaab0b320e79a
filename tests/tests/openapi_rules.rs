//! Each kind of rule and each way of writing the attributes, as the OpenAPI document tells it:
//! exact requirement objects, responses and the `x-route-guard` record.

mod common;

use actix_web::{HttpRequest, get, web};
use route_guard::{
    ApiKeyAuthenticator, AuthFuture, Authenticator, Denial, Identity, JwtAuthenticator, JwtKey,
    MaybeAuthenticated, RoleName, RouteGuard, allow_countries, deny_ip, optional_auth, require,
    require_auth, require_role, require_scope,
};
use serde_json::{Value, json};
use utoipa::{Modify as _, OpenApi};

#[derive(Clone, Copy, RoleName)]
enum Role {
    Admin,
}

async fn owns_document(identity: &Identity, req: &HttpRequest) -> bool {
    req.match_info().get("owner") == Some(identity.subject())
}

/// Guards on both sides of `#[utoipa::path]`: every one of them is documented, in order.
#[require_role("admin")]
#[utoipa::path(responses((status = 200, description = "ok")))]
#[require_scope("write")]
#[get("/split")]
async fn split() -> &'static str {
    "ok"
}

/// No route macro: utoipa's own method and path, the handler wired with `.to()`.
#[require(all(role(Role::Admin), not(role("suspended"))))]
#[utoipa::path(put, path = "/documents/{owner}", params(("owner" = String, Path)),
    responses((status = 200, description = "saved"), (status = 401, description = "Log in first")),
    extensions(("x-team" = json!("documents"))))]
async fn edit(owner: web::Path<String>) -> String {
    owner.into_inner()
}

/// Address rules alone: no credentials are asked for, so the only refusal is 403.
#[deny_ip("203.0.113.0/24")]
#[allow_countries("DE", "FR")]
#[utoipa::path(get, path = "/offers", responses((status = 200, description = "offers")))]
async fn offers() -> &'static str {
    "offers"
}

#[require(any(policy(owns_document), role("admin")), hide)]
#[require_auth]
#[utoipa::path(get, path = "/private/{owner}", params(("owner" = String, Path)),
    responses((status = 200, description = "yours")))]
async fn private(owner: web::Path<String>) -> String {
    owner.into_inner()
}

/// Anyone, and callers who present credentials that verify.
#[optional_auth]
#[utoipa::path(get, path = "/hello", responses((status = 200, description = "hello")))]
async fn hello(user: MaybeAuthenticated) -> String {
    user.into_inner()
        .map_or("hello, stranger".into(), |u| u.subject().to_owned())
}

// No attribute: the extractor alone, which the document cannot see.
#[utoipa::path(get, path = "/plain", responses((status = 200, description = "plain")))]
async fn plain(user: MaybeAuthenticated) -> String {
    user.into_inner()
        .map_or("hello, stranger".into(), |u| u.subject().to_owned())
}

/// The API key's job only, or any scheme with the role `ops`; issuers are conditions.
// Only documented: the tests read its operation, no app serves it.
#[allow(dead_code)]
#[require(any(
    all(scheme("api_key"), role("exporter")),
    all(role("ops"), issuer("staff"))
))]
#[utoipa::path(get, path = "/export", responses((status = 200, description = "export")))]
async fn export() -> &'static str {
    "export"
}

#[derive(OpenApi)]
#[openapi(paths(split, edit, offers, private, hello, plain, export))]
struct ApiDoc;

fn jwt() -> JwtAuthenticator {
    JwtAuthenticator::builder()
        .key(JwtKey::hs256(common::SECRET).unwrap_or_else(|e| panic!("{e}")))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn documented(guard: &RouteGuard) -> Value {
    let mut doc = ApiDoc::openapi();
    guard.openapi().modify(&mut doc);
    serde_json::to_value(doc).unwrap_or_else(|e| panic!("{e}"))
}

fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    &doc["paths"][path][method]
}

fn statuses(operation: &Value) -> Vec<String> {
    let responses = operation["responses"].as_object();
    responses.map_or_else(Vec::new, |r| r.keys().cloned().collect())
}

#[test]
fn guards_on_both_sides_of_utoipa_are_one_requirement() {
    let doc = documented(&RouteGuard::new(jwt()));
    let split_op = operation(&doc, "/split", "get");
    assert_eq!(
        split_op["security"],
        json!([{ "bearer": ["admin", "write"] }])
    );
    assert_eq!(
        split_op["x-route-guard"]["rules"],
        json!([r#"role("admin")"#, r#"scope("write")"#])
    );
    // A static key cannot be down: no 503.
    assert_eq!(statuses(split_op), ["200", "400", "401", "403"]);
}

#[test]
fn a_rule_naming_a_scheme_is_documented_for_that_scheme_alone() {
    let keys = ApiKeyAuthenticator::builder()
        .key(
            "a long random key for the nightly export job",
            "job",
            ["exporter"],
        )
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let guard = RouteGuard::builder(jwt())
        .or(keys)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let doc = documented(&guard);
    let export_op = operation(&doc, "/export", "get");
    assert_eq!(
        export_op["security"],
        json!([{ "apiKey": ["exporter"] }, { "bearer": ["ops"] }, { "apiKey": ["ops"] }])
    );
    assert_eq!(
        export_op["x-route-guard"]["beyondCredentials"],
        json!([r#"issuer("staff")"#])
    );
}

#[test]
fn typed_roles_are_named_negations_described_and_declared_responses_kept() {
    let doc = documented(&RouteGuard::new(jwt()));
    let edit_op = operation(&doc, "/documents/{owner}", "put");
    assert_eq!(edit_op["security"], json!([{ "bearer": ["admin"] }]));
    assert_eq!(
        edit_op["responses"]["401"],
        json!({ "description": "Log in first" })
    );
    assert_eq!(edit_op["x-team"], "documents");
    assert_eq!(
        edit_op["x-route-guard"]["beyondCredentials"],
        json!([r#"not(role("suspended"))"#])
    );
}

#[test]
fn address_and_country_rules_ask_for_no_credentials() {
    let doc = documented(&RouteGuard::new(jwt()));
    let offers_op = operation(&doc, "/offers", "get");
    assert_eq!(offers_op["security"], json!([{}]));
    assert_eq!(statuses(offers_op), ["200", "403"]);
    assert_eq!(
        offers_op["x-route-guard"]["beyondCredentials"],
        json!([r#"not(ip("203.0.113.0/24"))"#, r#"country("DE", "FR")"#])
    );
}

#[test]
fn a_predicate_needs_credentials_and_one_hiding_guard_adds_404() {
    let doc = documented(&RouteGuard::new(jwt()));
    let private_op = operation(&doc, "/private/{owner}", "get");
    assert_eq!(
        private_op["security"],
        json!([{ "bearer": [] }, { "bearer": ["admin"] }])
    );
    // `#[require_auth]` does not hide: its 401 stays beside the other guard's 404.
    assert_eq!(statuses(private_op), ["200", "400", "401", "404"]);
    assert_eq!(
        private_op["x-route-guard"]["beyondCredentials"],
        json!(["policy(owns_document)"])
    );
}

/// An authenticator of the application's own, with a scheme of its own.
struct Token;

impl Authenticator for Token {
    fn authenticate(&self, _req: &HttpRequest) -> AuthFuture {
        AuthFuture::ready(Err(Denial::MissingCredentials))
    }

    fn challenge(&self, realm: &str, _denial: Denial) -> String {
        format!("Token realm=\"{realm}\"")
    }
}

#[test]
fn every_authenticator_is_a_scheme_and_openid_connect_names_scopes_only() {
    let oidc = JwtAuthenticator::builder()
        .jwks(route_guard::Jwks::discover(
            "https://sso.example.com/realms/acme/",
        ))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let key = |header: &str| {
        ApiKeyAuthenticator::builder()
            .header(header)
            .key(
                "a long random key for the nightly export job",
                "job",
                ["admin"],
            )
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let guard = RouteGuard::builder(oidc)
        .or(key("x-api-key"))
        .or(key("x-other-key"))
        .named("other_key")
        .or(Token)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let doc = documented(&guard);
    assert_eq!(
        doc["components"]["securitySchemes"],
        json!({
            "openIdConnect": { "type": "openIdConnect",
                "openIdConnectUrl": "https://sso.example.com/realms/acme/.well-known/openid-configuration" },
            "apiKey": { "type": "apiKey", "in": "header", "name": "x-api-key" },
            "apiKey2": { "type": "apiKey", "in": "header", "name": "x-other-key" },
            "token": { "type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Authorization: Token …`" },
        })
    );
    assert_eq!(
        operation(&doc, "/split", "get")["security"],
        json!([{ "openIdConnect": ["write"] }, { "apiKey": ["admin", "write"] },
               { "apiKey2": ["admin", "write"] }, { "token": ["admin", "write"] }])
    );
}

#[test]
fn optional_auth_is_the_empty_requirement_beside_each_scheme() {
    let doc = documented(&RouteGuard::new(jwt()));
    let hello_op = operation(&doc, "/hello", "get");
    assert_eq!(hello_op["security"], json!([{ "bearer": [] }, {}]));
    // Credentials that do not verify are refused; nobody is forbidden.
    assert_eq!(statuses(hello_op), ["200", "400", "401"]);
    assert_eq!(hello_op["x-route-guard"]["rules"], json!(["optional"]));
}

#[test]
fn a_handler_without_a_guard_attribute_is_left_as_written() {
    let doc = documented(&RouteGuard::new(jwt()));
    let plain_op = operation(&doc, "/plain", "get");
    assert_eq!(
        *plain_op,
        json!({
            "tags": [], "operationId": "plain",
            "responses": { "200": { "description": "plain" } },
        })
    );
}

#[test]
fn documenting_twice_changes_nothing() {
    let guard = RouteGuard::new(jwt());
    let mut doc = ApiDoc::openapi();
    guard.openapi().modify(&mut doc);
    let once = serde_json::to_value(&doc).unwrap_or_else(|e| panic!("{e}"));
    guard.openapi().modify(&mut doc);
    let twice = serde_json::to_value(&doc).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(once, twice);
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let oidc = JwtAuthenticator::builder()
        .jwks(route_guard::Jwks::discover(
            "https://sso.example.com/realms/acme",
        ))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let guard = RouteGuard::builder(oidc).or(Token).build();
    let doc = documented(&guard.unwrap_or_else(|e| panic!("{e}")));
    common::pypi::validate_openapi(&doc, "rules").unwrap_or_else(|e| panic!("invalid: {e}"));
}

/// The handlers above, documented or not, answer as their guards.
#[actix_web::test]
async fn documented_handlers_still_guard() {
    use actix_web::test::{TestRequest, init_service};
    let app = actix_web::App::new()
        .app_data(RouteGuard::new(jwt()))
        .service(split)
        .route("/documents/{owner}", web::put().to(edit))
        .route("/offers", web::get().to(offers))
        .route("/private/{owner}", web::get().to(private))
        .route("/hello", web::get().to(hello))
        .route("/plain", web::get().to(plain));
    let app = init_service(app).await;
    let claims = json!({ "sub": "ada", "exp": common::now() + 600, "roles": ["admin"] });
    let admin = common::bearer(&common::hs256(&claims));
    let no_scope = TestRequest::get()
        .uri("/split")
        .insert_header(admin.clone());
    let no_scope = common::call(&app, no_scope).await;
    no_scope.assert_problem(403, "");
    let challenge = no_scope.challenge.unwrap_or_default();
    assert!(challenge.contains(r#"scope="write""#), "{challenge}");
    let edited = TestRequest::put()
        .uri("/documents/bob")
        .insert_header(admin.clone());
    assert_eq!(common::call(&app, edited).await.body, "bob");
    let blocked = TestRequest::get()
        .uri("/offers")
        .peer_addr(([203, 0, 113, 5], 1).into());
    common::call(&app, blocked).await.assert_problem(403, "");
    let anonymous = common::call(&app, TestRequest::get().uri("/private/bob")).await;
    assert_eq!((anonymous.status, anonymous.challenge), (404, None));
    let stranger = common::call(&app, TestRequest::get().uri("/hello")).await;
    assert_eq!(
        (stranger.status, stranger.body.as_str()),
        (200, "hello, stranger")
    );
    let forged = TestRequest::get()
        .uri("/hello")
        .insert_header(common::bearer("not.a.token"));
    assert_eq!(common::call(&app, forged).await.status, 401);
}

#[test]
fn a_lockout_documents_429_on_routes_that_take_its_credentials() {
    let keys = ApiKeyAuthenticator::builder()
        .key(
            "a long random key for the nightly export job",
            "job",
            ["exporter"],
        )
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let guard = RouteGuard::builder(jwt())
        .or(keys)
        .lockout(route_guard::store::Lockout::after(5))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let doc = documented(&guard);
    let split_op = operation(&doc, "/split", "get");
    assert_eq!(statuses(split_op), ["200", "400", "401", "403", "429"]);
    let locked = &split_op["responses"]["429"];
    assert_eq!(
        locked["headers"]["Retry-After"]["schema"]["type"],
        json!("integer")
    );
    common::pypi::validate_openapi(&doc, "lockout").unwrap_or_else(|e| panic!("invalid: {e}"));
}

#[actix_web::test]
async fn a_shared_store_that_can_be_down_documents_503_on_token_routes() {
    let server = common::redis_server::RedisServer::start();
    let store = route_guard::store::RedisStore::builder(server.url())
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let guard = RouteGuard::builder(jwt())
        .shared_store(store)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let doc = documented(&guard);
    let split_op = operation(&doc, "/split", "get");
    assert_eq!(statuses(split_op), ["200", "400", "401", "403", "503"]);
    // Unless the guard answers from its last view while the store is down.
    let lenient = RouteGuard::builder(jwt())
        .shared_store(
            route_guard::store::RedisStore::builder(server.url())
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .when_store_down(route_guard::store::WhenStoreDown::UseLastKnown)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let doc = documented(&lenient);
    assert_eq!(
        statuses(operation(&doc, "/split", "get")),
        ["200", "400", "401", "403"]
    );
}
