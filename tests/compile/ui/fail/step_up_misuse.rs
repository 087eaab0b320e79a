use route_guard::require;

#[require(acr())]
async fn no_context() -> &'static str {
    "which context?"
}

#[require(acr("mfa", max_age = 0))]
async fn zero() -> &'static str {
    "a login made this very second"
}

#[require(acr("mfa", maxage = 30))]
async fn misspelled_option() -> &'static str {
    "max_age"
}

#[require(max_age("300"))]
async fn quoted_seconds() -> &'static str {
    "a number"
}

#[require(max_age(300ms))]
async fn with_suffix() -> &'static str {
    "seconds only"
}

#[require(all(acr("mfa"), acr("hwk")))]
async fn two_contexts() -> &'static str {
    "a login has one"
}

#[require(acr("multi factor"))]
async fn spaced() -> &'static str {
    "acr_values are space-separated"
}

fn main() {}
