//! Typed roles whose enums carry explicit discriminants, as enums mirroring database ids do
//! (issue 12): a guard naming `Role::Admin` requires the name paired with `Admin`, whatever
//! number `Admin` has.

mod common;

use actix_web::test::init_service;
use actix_web::{App, get};
use common::*;
use route_guard::{RoleName, require_role};

/// Implemented by hand. `Admin as usize` is 0, and index 0 of the names is "viewer": a guard
/// that looked names up by discriminant would require "viewer" for `Role::Admin`.
enum Role {
    Viewer = 1,
    Admin = 0,
}

impl RoleName for Role {
    const ROLES: &'static [(Self, &'static str)] =
        &[(Role::Viewer, "viewer"), (Role::Admin, "admin")];
}

/// Derived, with discriminants out of declaration order.
#[derive(RoleName)]
enum Derived {
    Reader = 7,
    Owner = 2,
}

#[get("/admin")]
#[require_role(Role::Admin)]
async fn admin() -> &'static str {
    "admin"
}

#[get("/viewer")]
#[require_role(Role::Viewer)]
async fn viewer() -> &'static str {
    "viewer"
}

#[get("/owner")]
#[require_role(Derived::Owner)]
async fn owner() -> &'static str {
    "owner"
}

#[test]
fn names_follow_the_variant_not_its_discriminant() {
    assert_eq!(
        (Role::Admin.role_name(), Role::Viewer.role_name()),
        ("admin", "viewer")
    );
    assert_eq!(
        (Derived::Owner.role_name(), Derived::Reader.role_name()),
        ("owner", "reader")
    );
}

#[actix_web::test]
async fn guards_require_the_name_paired_with_the_variant() {
    let app = init_service(
        App::new()
            .app_data(guard())
            .service(admin)
            .service(viewer)
            .service(owner),
    )
    .await;
    for (path, roles, allowed) in [
        ("/admin", "admin", true),
        ("/admin", "viewer", false),
        ("/viewer", "viewer", true),
        ("/viewer", "admin", false),
        ("/owner", "owner", true),
        ("/owner", "reader", false),
    ] {
        let reply = call(&app, get(path).insert_header(bearer(&token("u", &[roles])))).await;
        if allowed {
            assert_eq!(
                (
                    reply.status,
                    reply.body.as_str(),
                    reply.challenge.as_deref()
                ),
                (200, &path[1..], None),
                "{path} with {roles}"
            );
        } else {
            reply.assert_forbidden();
        }
    }
}
