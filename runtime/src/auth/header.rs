//! The `Authorization` header, read the same way for every scheme (RFC 9110 §11.6.2):
//! at most one field line, `<scheme> <credentials>` with a case-insensitive scheme.

use actix_web::HttpRequest;
use actix_web::http::header::{AUTHORIZATION, HeaderValue};

use crate::refusal::{Denial, RequestProblem};

/// The request's one `Authorization` value: `None` without one, 400 for two (a client, or a
/// proxy, that sends two sets of credentials cannot say which one it means).
pub(crate) fn authorization(req: &HttpRequest) -> Result<Option<&HeaderValue>, Denial> {
    let mut lines = req.headers().get_all(AUTHORIZATION);
    let first = lines.next();
    match lines.next() {
        Some(_) => Err(Denial::InvalidRequest(
            RequestProblem::DuplicateAuthorization,
        )),
        None => Ok(first),
    }
}

/// The credentials of a field value in `scheme` (lower case): what follows the scheme and
/// one or more spaces. Whitespace around the value is not part of it. Another scheme, or a
/// value without one, is [`Denial::UnsupportedScheme`]: the client sent no credentials of
/// this kind at all, and the next authenticator may take them.
pub(crate) fn credentials<'a>(value: &'a [u8], scheme: &str) -> Result<&'a [u8], Denial> {
    let value = value.trim_ascii();
    let end = value.iter().position(|&b| b == b' ').unwrap_or(value.len());
    let (named, rest) = value.split_at(end);
    if named.eq_ignore_ascii_case(scheme.as_bytes()) {
        Ok(rest.trim_ascii_start())
    } else {
        Err(Denial::UnsupportedScheme)
    }
}
