//! Where a JWT comes from: the `Authorization: Bearer` header, the query when allowed, or the
//! configured cookie, never two of them at once.

use actix_web::HttpRequest;
use actix_web::http::header::COOKIE;

use super::JwtAuthenticator;
use crate::auth::bearer::{Presented, access_token};
use crate::refusal::{Denial, RequestProblem};

impl JwtAuthenticator {
    /// The request's token and how it came: the `Authorization: Bearer` (or `DPoP`) header,
    /// else the configured cookie.
    pub(crate) fn token(&self, req: &HttpRequest) -> Result<(Presented, String), Denial> {
        let from_header = access_token(req, self.source, self.extras.dpop.is_some());
        let Some(name) = &self.extras.cookie else {
            return from_header;
        };
        match (from_header, cookie_value(req, name)?) {
            (Ok(_), Some(_)) => Err(Denial::InvalidRequest(RequestProblem::TokenInSeveralPlaces)),
            // Another scheme in `Authorization` (Basic for a second authenticator) leaves the
            // cookie to this one.
            (Err(Denial::MissingCredentials | Denial::UnsupportedScheme), Some(token)) => {
                crate::auth::bearer::check_token(token.as_bytes(), self.source.max_len)
                    .map(|token| (Presented::Bearer, token))
            }
            (result, _) => result,
        }
    }
}

/// The value of cookie `name`, if the request carries it once. Two cookies of that name are a
/// token in two places.
fn cookie_value(req: &HttpRequest, name: &str) -> Result<Option<String>, Denial> {
    let mut found = None;
    for header in req.headers().get_all(COOKIE) {
        let Ok(header) = header.to_str() else {
            continue;
        };
        for pair in header.split(';') {
            let Some((key, value)) = pair.trim().split_once('=') else {
                continue;
            };
            if key.trim() != name {
                continue;
            }
            if found.is_some() {
                return Err(Denial::InvalidRequest(RequestProblem::TokenInSeveralPlaces));
            }
            found = Some(value.trim().trim_matches('"').to_owned());
        }
    }
    Ok(found)
}
