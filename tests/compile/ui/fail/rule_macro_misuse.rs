use route_guard::{GuardScope, rule};

fn main() {
    let _ = GuardScope::new(rule!("admin"));
    let _ = GuardScope::new(rule!(any()));
}
