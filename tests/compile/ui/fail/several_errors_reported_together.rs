use route_guard::require_role;

#[require_role(all("", any()))]
fn handler() -> &'static str {
    "ok"
}

fn main() {}
