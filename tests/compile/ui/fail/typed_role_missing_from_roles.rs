// A hand-written `RoleName` that leaves a variant out of `ROLES`: a guard naming that variant
// is a compile error, never a role chosen by position.
use actix_web::get;
use route_guard::{RoleName, require_role};

enum Role {
    Viewer = 1,
    Admin = 0,
}

impl RoleName for Role {
    const ROLES: &'static [(Self, &'static str)] = &[(Role::Viewer, "viewer")];
}

#[get("/admin")]
#[require_role(Role::Admin)]
async fn admin() -> &'static str {
    "admin"
}

fn main() {
    let _ = (admin, Role::Admin);
}
