//! The policy language on the wire: scopes, permissions, `not`, mixed rules, typed roles and
//! role hierarchies. Application predicates are in `predicates.rs`.

mod common;

use actix_web::test::init_service;
use actix_web::{App, get};
use common::*;
use route_guard::{
    Authenticated, RoleHierarchy, RoleName, RouteGuard, require, require_permission, require_role,
    require_scope,
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
async fn a_missing_scope_is_403_insufficient_scope_naming_the_scope() {
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
}

#[actix_web::test]
async fn a_missing_scope_among_several_names_every_scope_the_route_needs() {
    let app = app!();
    let jwt = with_claim("u", &[], "scope", json!("read:items"));
    call(&app, get("/items/admin").insert_header(bearer(&jwt)))
        .await
        .assert_insufficient_scope("read:items write:items", &jwt);
}

#[actix_web::test]
async fn a_scope_claim_of_the_wrong_type_grants_nothing_and_is_never_500() {
    let app = app!();
    let jwt = with_claim("u", &[], "scope", json!({"read:items": true}));
    call(&app, get("/items").insert_header(bearer(&jwt)))
        .await
        .assert_insufficient_scope("read:items", &jwt);
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
        } else {
            reply.assert_ok("deleted");
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
        assert_eq!(reply.status, status, "{roles:?}: {reply:?}");
        if status == 403 {
            reply.assert_forbidden();
        } else {
            reply.assert_ok("members");
        }
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
    call(&app, get("/mixed").insert_header(bearer(&full)))
        .await
        .assert_ok("published");

    // Everything but the scope: insufficient_scope, since the scope alone is missing.
    let no_scope = hs256(&with(
        claims("u", &["editor"]),
        "permissions",
        json!(["items:publish"]),
    ));
    call(&app, get("/mixed").insert_header(bearer(&no_scope)))
        .await
        .assert_insufficient_scope("write:items", &no_scope);

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
    call(&app, get("/stacked").insert_header(bearer(&both)))
        .await
        .assert_ok("both");
    // The role without the scope: the scope alone is missing.
    let role_only = token("u", &["editor"]);
    call(&app, get("/stacked").insert_header(bearer(&role_only)))
        .await
        .assert_insufficient_scope("write:items", &role_only);
    // The scope without the role: a plain 403.
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
        assert_eq!(reply.status, status, "{roles:?}: {reply:?}");
        if status == 403 {
            reply.assert_forbidden();
        } else {
            reply.assert_ok("typed");
        }
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
        (&["admin"][..], "/view", "viewer=true editor=true"),
        (&["editor"][..], "/view", "viewer=true editor=true"),
        (&["viewer"][..], "/view", "viewer=true editor=false"),
        (&["admin"][..], "/edit", "edit"),
    ];
    for (roles, path, body) in cases {
        let reply = call(&app, get(path).insert_header(bearer(&token("u", roles)))).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, body),
            "{roles:?} {path}"
        );
    }
    // Inclusion runs one way: a viewer is no editor.
    call(
        &app,
        get("/edit").insert_header(bearer(&token("u", &["viewer"]))),
    )
    .await
    .assert_forbidden();
    // Without the hierarchy, an admin is not a viewer.
    let app = init_service(App::new().app_data(guard()).service(view)).await;
    call(
        &app,
        get("/view").insert_header(bearer(&token("u", &["admin"]))),
    )
    .await
    .assert_forbidden();
}
