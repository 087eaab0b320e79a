use route_guard::{deny_ip, require, require_ip};

#[require_ip("10.0.0.0/33", "not-an-address")]
async fn first() -> &'static str {
    "first"
}

#[deny_ip("10.0.0.1/8")]
async fn second() -> &'static str {
    "second"
}

#[require(ip())]
async fn third() -> &'static str {
    "third"
}

#[require_ip]
async fn fourth() -> &'static str {
    "fourth"
}

fn main() {}
