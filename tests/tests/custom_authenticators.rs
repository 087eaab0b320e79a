//! An application's own `Authenticator` renders its own challenge; one that no header can carry
//! is refused when the guard is built, alone or in a chain, not on the first request.

mod common;

use actix_web::HttpRequest;
use common::*;
use route_guard::{AuthFuture, Authenticator, Denial, RouteGuard};

/// An authenticator whose challenge no header can carry.
struct BadChallenge;

impl Authenticator for BadChallenge {
    fn authenticate(&self, _: &HttpRequest) -> AuthFuture {
        AuthFuture::ready(Err(Denial::MissingCredentials))
    }

    fn challenge(&self, realm: &str, _: Denial) -> String {
        format!("Custom realm=\"{realm}\"\r\nSet-Cookie: x=1")
    }
}

#[test]
fn a_challenge_that_is_no_header_value_is_refused_at_start_up() {
    let error = RouteGuard::builder(BadChallenge).build().unwrap_err();
    assert!(error.to_string().contains("WWW-Authenticate"), "{error}");
    let error = RouteGuard::builder(
        route_guard::JwtAuthenticator::builder()
            .key(route_guard::JwtKey::hs256(SECRET).unwrap())
            .build()
            .unwrap(),
    )
    .or(BadChallenge)
    .build()
    .unwrap_err();
    assert!(error.to_string().contains("not a valid"), "{error}");
}
