use route_guard::RoleName;

#[derive(RoleName)]
struct NotAnEnum;

#[derive(Clone, Copy, RoleName)]
enum Role {
    Editor(u8),
    #[role_name("editor")]
    Chief,
    #[role_name("read only")]
    Viewer,
}

fn main() {}
