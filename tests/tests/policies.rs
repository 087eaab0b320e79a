//! The policy language on the wire: scopes, permissions, `not`, mixed rules, typed roles, role
//! hierarchies and application predicates.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::test::init_service;
use actix_web::{App, HttpRequest, get, web};
use common::*;
use route_guard::{
    Authenticated, Identity, RoleHierarchy, RoleName, RouteGuard, require, require_permission,
    require_role, require_scope,
};
use serde_json::json;

#[get("/items")]
#[require_scope("read:items")]
async fn list_items() -> &'static str {
    "items"
}

#[get("/items/admin")]
#[require_scope(all("read:items", "write:items"))]
async fn manage_items() -> &'static str {
    "managed"
}

#[get("/items/delete")]
#[require_permission(any("items:delete", "items:admin"))]
async fn delete_items() -> &'static str {
    "deleted"
}

#[get("/members")]
#[require_role(all("member", not("suspended")))]
async fn members() -> &'static str {
    "members"
}

#[get("/mixed")]
#[require(all(role("editor"), scope("write:items"), permission("items:publish")))]
async fn mixed() -> &'static str {
    "published"
}

#[get("/stacked")]
#[require_role("editor")]
#[require_scope("write:items")]
async fn stacked() -> &'static str {
    "both"
}

#[derive(Clone, Copy, RoleName)]
enum Role {
    Admin,
    Editor,
    #[role_name("read-only")]
    Viewer,
}

#[get("/typed")]
#[require_role(any(Role::Admin, Role::Viewer))]
async fn typed() -> &'static str {
    "typed"
}

#[get("/view")]
#[require_role("viewer")]
async fn view(user: Authenticated) -> String {
    format!(
        "viewer={} editor={}",
        user.has_role("viewer"),
        user.has_role("editor")
    )
}

#[get("/edit")]
#[require_role("editor")]
async fn edit() -> &'static str {
    "edit"
}

fn app_guard() -> RouteGuard {
    guard()
}

fn with_claim(sub: &str, roles: &[&str], key: &str, value: serde_json::Value) -> String {
    hs256(&with(claims(sub, roles), key, value))
}

macro_rules! app {
    () => {
        init_service(
            App::new()
                .app_data(app_guard())
                .service(list_items)
                .service(manage_items)
                .service(delete_items)
                .service(members)
                .service(mixed)
                .service(stacked)
                .service(typed),
        )
        .await
    };
}

#[actix_web::test]
async fn scopes_are_read_from_scope_or_scp() {
    let app = app!();
    for (key, value) in [
        ("scope", json!("openid read:items")),
        ("scp", json!(["read:items"])),
        ("scp", json!("read:items profile")),
    ] {
        let jwt = with_claim("u", &[], key, value.clone());
        let reply = call(&app, get("/items").insert_header(bearer(&jwt))).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "items"),
            "{key}: {value}"
        );
    }
}

#[actix_web::test]
async fn a_missing_scope_is_403_insufficient_scope_naming_the_scopes() {
    let app = app!();
    let jwt = with_claim("u", &["admin"], "scope", json!("openid"));
    let reply = call(&app, get("/items").insert_header(bearer(&jwt))).await;
    reply.assert_problem(403, &jwt);
    assert_eq!(
        reply.challenge.as_deref(),
        Some(
            r#"Bearer realm="test", error="insufficient_scope", error_description="The access token lacks a required scope", scope="read:items""#
        )
    );
    let jwt = with_claim("u", &[], "scope", json!("read:items"));
    let reply = call(&app, get("/items/admin").insert_header(bearer(&jwt))).await;
    assert_eq!(reply.status, 403);
    assert!(
        reply
            .challenge
            .as_deref()
            .is_some_and(|c| c.ends_with(r#"scope="read:items write:items""#)),
        "{reply:?}"
    );
    // A scope claim of the wrong type grants nothing, and is never a 500.
    let jwt = with_claim("u", &[], "scope", json!({"read:items": true}));
    assert_eq!(
        call(&app, get("/items").insert_header(bearer(&jwt)))
            .await
            .status,
        403
    );
}

#[actix_web::test]
async fn permissions_combine_like_roles() {
    let app = app!();
    for (permissions, status) in [
        (json!(["items:delete"]), 200),
        (json!(["items:admin"]), 200),
        (json!(["items:read"]), 403),
        (json!(7), 403),
    ] {
        let jwt = with_claim("u", &[], "permissions", permissions.clone());
        let reply = call(&app, get("/items/delete").insert_header(bearer(&jwt))).await;
        assert_eq!(reply.status, status, "{permissions}: {reply:?}");
        if status == 403 {
            reply.assert_forbidden();
        }
    }
}

#[actix_web::test]
async fn not_excludes_a_role() {
    let app = app!();
    for (roles, status) in [
        (&["member"][..], 200),
        (&["member", "suspended"][..], 403),
        (&["suspended"][..], 403),
    ] {
        let reply = call(
            &app,
            get("/members").insert_header(bearer(&token("u", roles))),
        )
        .await;
        assert_eq!(reply.status, status, "{roles:?}");
    }
}

#[actix_web::test]
async fn mixed_rules_need_every_part_and_only_a_missing_scope_is_insufficient_scope() {
    let app = app!();
    let full = hs256(&with(
        with(claims("u", &["editor"]), "scope", json!("write:items")),
        "permissions",
        json!(["items:publish"]),
    ));
    assert_eq!(
        call(&app, get("/mixed").insert_header(bearer(&full)))
            .await
            .status,
        200
    );

    // Everything but the scope: insufficient_scope, since the scope alone is missing.
    let no_scope = hs256(&with(
        claims("u", &["editor"]),
        "permissions",
        json!(["items:publish"]),
    ));
    let reply = call(&app, get("/mixed").insert_header(bearer(&no_scope))).await;
    assert_eq!(reply.status, 403);
    assert!(
        reply.challenge.as_deref().is_some_and(
            |c| c.contains("insufficient_scope") && c.contains(r#"scope="write:items""#)
        )
    );

    // The scope is there but the role is not: a plain 403, no challenge.
    let no_role = hs256(&with(
        with(claims("u", &[]), "scope", json!("write:items")),
        "permissions",
        json!(["items:publish"]),
    ));
    call(&app, get("/mixed").insert_header(bearer(&no_role)))
        .await
        .assert_forbidden();

    // Neither: a plain 403 too, since a scope would not be enough.
    call(&app, get("/mixed").insert_header(bearer(&token("u", &[]))))
        .await
        .assert_forbidden();
}

#[actix_web::test]
async fn stacked_guards_combine_with_and() {
    let app = app!();
    let both = with_claim("u", &["editor"], "scope", json!("write:items"));
    assert_eq!(
        call(&app, get("/stacked").insert_header(bearer(&both)))
            .await
            .status,
        200
    );
    call(
        &app,
        get("/stacked").insert_header(bearer(&token("u", &["editor"]))),
    )
    .await;
    let reply = call(
        &app,
        get("/stacked").insert_header(bearer(&token("u", &["editor"]))),
    )
    .await;
    assert!(
        reply
            .challenge
            .as_deref()
            .is_some_and(|c| c.contains("insufficient_scope")),
        "{reply:?}"
    );
    let scope_only = with_claim("u", &[], "scope", json!("write:items"));
    call(&app, get("/stacked").insert_header(bearer(&scope_only)))
        .await
        .assert_forbidden();
}

#[actix_web::test]
async fn typed_roles_use_their_role_names() {
    let names: Vec<&str> = Role::ROLES.iter().map(|(_, name)| *name).collect();
    assert_eq!(names, ["admin", "editor", "read-only"]);
    assert_eq!(Role::Editor.role_name(), "editor");
    let app = app!();
    for (roles, status) in [
        (&["admin"][..], 200),
        (&["read-only"][..], 200),
        (&["editor"][..], 403),
        (&["Viewer"][..], 403),
    ] {
        let reply = call(
            &app,
            get("/typed").insert_header(bearer(&token("u", roles))),
        )
        .await;
        assert_eq!(reply.status, status, "{roles:?}");
    }
}

#[actix_web::test]
async fn a_role_hierarchy_is_honoured_by_every_check() {
    let hierarchy = RoleHierarchy::builder()
        .includes("admin", ["editor"])
        .includes("editor", ["viewer"])
        .build()
        .unwrap();
    let jwt = jwt_builder().build().unwrap();
    let ranked = RouteGuard::builder(jwt)
        .realm(REALM)
        .role_hierarchy(hierarchy)
        .build()
        .unwrap();
    let app = init_service(App::new().app_data(ranked).service(view).service(edit)).await;
    let cases = [
        (&["admin"][..], "/view", 200, "viewer=true editor=true"),
        (&["editor"][..], "/view", 200, "viewer=true editor=true"),
        (&["viewer"][..], "/view", 200, "viewer=true editor=false"),
        (&["admin"][..], "/edit", 200, "edit"),
        (&["viewer"][..], "/edit", 403, ""),
    ];
    for (roles, path, status, body) in cases {
        let reply = call(&app, get(path).insert_header(bearer(&token("u", roles)))).await;
        assert_eq!(reply.status, status, "{roles:?} {path}");
        if status == 200 {
            assert_eq!(reply.body, body);
        }
    }
    // Without the hierarchy, an admin is not a viewer.
    let app = init_service(App::new().app_data(guard()).service(view)).await;
    call(
        &app,
        get("/view").insert_header(bearer(&token("u", &["admin"]))),
    )
    .await
    .assert_forbidden();
}

/// Documents and their owners, as an application keeps them.
struct Documents {
    owners: std::collections::HashMap<u32, &'static str>,
    lookups: AtomicUsize,
}

/// The caller owns the document in the path. Awaits like a database would.
async fn owns_document(identity: &Identity, req: &HttpRequest) -> Result<bool, std::io::Error> {
    let documents = req
        .app_data::<web::Data<Documents>>()
        .ok_or_else(|| std::io::Error::other("no store"))?;
    documents.lookups.fetch_add(1, Ordering::SeqCst);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1)).await;
    let id: u32 = req
        .match_info()
        .get("id")
        .and_then(|id| id.parse().ok())
        .unwrap_or(0);
    match documents.owners.get(&id) {
        Some(owner) => Ok(*owner == identity.subject()),
        None if id == 666 => Err(std::io::Error::other("database is down")),
        None => Ok(false),
    }
}

#[get("/documents/{id}")]
#[require(any(role("admin"), policy = owns_document))]
async fn edit_document(path: web::Path<u32>) -> String {
    format!("editing {}", path.into_inner())
}

#[actix_web::test]
async fn predicates_decide_ownership_and_compose_with_roles() {
    let documents = web::Data::new(Documents {
        owners: [(1, "ann"), (2, "bob")].into(),
        lookups: AtomicUsize::new(0),
    });
    let app = init_service(
        App::new()
            .app_data(guard())
            .app_data(documents.clone())
            .service(edit_document),
    )
    .await;
    let lookups = || documents.lookups.load(Ordering::SeqCst);

    let reply = call(
        &app,
        get("/documents/1").insert_header(bearer(&token("ann", &[]))),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "editing 1"));
    call(
        &app,
        get("/documents/2").insert_header(bearer(&token("ann", &[]))),
    )
    .await
    .assert_forbidden();

    // An admin passes on the role alone: the predicate is not even called.
    let before = lookups();
    let reply = call(
        &app,
        get("/documents/2").insert_header(bearer(&token("root", &["admin"]))),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(lookups(), before);

    // A failing predicate fails closed: 500, never 200, nothing leaked.
    let reply = call(
        &app,
        get("/documents/666").insert_header(bearer(&token("ann", &[]))),
    )
    .await;
    reply.assert_problem(500, "database");
    assert!(!reply.body.contains("database"));

    // No credentials: 401 before any predicate runs.
    let before = lookups();
    call(&app, get("/documents/1")).await.assert_bare_401("");
    assert_eq!(lookups(), before);
}
