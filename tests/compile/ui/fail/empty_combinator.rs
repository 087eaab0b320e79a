use route_guard::require_role;

#[require_role(any())]
async fn any_of_nothing() -> &'static str {
    "ok"
}

#[require_role(all())]
async fn all_of_nothing() -> &'static str {
    "ok"
}

fn main() {}
