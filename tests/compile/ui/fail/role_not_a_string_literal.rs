use route_guard::require_role;

#[require_role(admin)]
async fn bare_ident() -> &'static str {
    "ok"
}

#[require_role(42)]
async fn integer() -> &'static str {
    "ok"
}

fn main() {}
