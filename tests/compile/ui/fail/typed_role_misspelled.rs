use route_guard::{RoleName, require_role};

#[derive(Clone, Copy, RoleName)]
enum Role {
    Admin,
    Editor,
}

#[require_role(any(Role::Admni, Role::Editor))]
async fn drafts() -> &'static str {
    "drafts"
}

fn main() {}
