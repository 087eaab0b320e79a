use route_guard::require_role;

#[require_role("staff")]
#[require_role(not("staff"))]
async fn across_attributes() -> &'static str {
    "never"
}

#[require_role(all("member", not("member")))]
async fn within_one() -> &'static str {
    "never"
}

fn main() {}
