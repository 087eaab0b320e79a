//! Finding a bearer token in a request (RFC 6750 §2, RFC 9110 §11.6.2).

use actix_web::HttpRequest;

use super::header::{authorization, credentials};
use crate::refusal::{Denial, RequestProblem, TokenProblem};

/// Where an authenticator looks for a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenSource {
    /// Accept `?access_token=` (RFC 6750 §2.3); off unless the application opts in.
    pub(crate) query: bool,
    /// Tokens longer than this are refused before any decoding.
    pub(crate) max_len: usize,
}

/// How an access token was presented: `Authorization: Bearer` (or the query, or a cookie), or
/// `Authorization: DPoP` with a proof of possession (RFC 9449).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presented {
    Bearer,
    Dpop,
}

/// The access token of `req` and how it came: as [`bearer_token`], or, when `dpop` is
/// accepted, from `Authorization: DPoP`.
pub(crate) fn access_token(
    req: &HttpRequest,
    source: TokenSource,
    dpop: bool,
) -> Result<(Presented, String), Denial> {
    if dpop
        && let Some(value) = authorization(req)?
        && let Ok(token) = credentials(value.as_bytes(), "dpop")
    {
        if query_token(req.query_string()).is_some() {
            return Err(Denial::InvalidRequest(RequestProblem::TokenInSeveralPlaces));
        }
        return check_token(token, source.max_len).map(|token| (Presented::Dpop, token));
    }
    bearer_token(req, source).map(|token| (Presented::Bearer, token))
}

/// Whether `req` presents its token with `Authorization: DPoP`.
pub(crate) fn uses_dpop(req: &HttpRequest) -> bool {
    matches!(authorization(req), Ok(Some(value)) if credentials(value.as_bytes(), "dpop").is_ok())
}

/// The bearer token of `req`, or the denial that describes why there is none.
pub(crate) fn bearer_token(req: &HttpRequest, source: TokenSource) -> Result<String, Denial> {
    let header = authorization(req)?;
    let query = query_token(req.query_string());
    match (header, query) {
        (Some(_), Some(_)) => Err(Denial::InvalidRequest(RequestProblem::TokenInSeveralPlaces)),
        (Some(value), None) => parse_authorization(value.as_bytes(), source.max_len),
        (None, Some(token)) if source.query => check_token(token?.as_bytes(), source.max_len),
        (None, _) => Err(Denial::MissingCredentials),
    }
}

/// Reads `Bearer <token>` from an `Authorization` field value.
///
/// The scheme is case-insensitive and followed by one or more spaces; whitespace around the
/// value is not part of it. Any other scheme, or a bare token without a scheme, is treated as
/// an unsupported scheme: the client did not send bearer credentials at all.
pub(crate) fn parse_authorization(value: &[u8], max_len: usize) -> Result<String, Denial> {
    check_token(credentials(value, "bearer")?, max_len)
}

/// The `b64token` characters of RFC 6750 §2.1 before padding (`A-Z a-z 0-9 - . _ ~ + /`), as
/// a table indexed by byte.
#[allow(clippy::indexing_slicing)] // `byte < 256`, the table's length: evaluated at compile time.
const B64TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] =
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        byte += 1;
    }
    table
};

fn is_b64token(b: u8) -> bool {
    // A `u8` always indexes a 256-entry table; the bound check folds away.
    B64TOKEN.get(usize::from(b)) == Some(&true)
}

/// Checks a token against RFC 6750's `b64token` grammar and the length cap.
pub(crate) fn check_token(token: &[u8], max_len: usize) -> Result<String, Denial> {
    if token.is_empty() {
        return Err(Denial::InvalidToken(TokenProblem::Empty));
    }
    if token.len() > max_len {
        return Err(Denial::InvalidToken(TokenProblem::TooLong));
    }
    // `=` may only end the token: take the trailing run as padding, and the body may not
    // contain any (the table refuses it).
    let padding = token.iter().rev().take_while(|&&b| b == b'=').count();
    let body = token.get(..token.len() - padding).unwrap_or_default();
    // One table load per byte, and a branch that always goes the same way for a valid token: a
    // chain of range tests mispredicts on every change of character class in base64 text, and
    // this check runs on every request, the cached ones included.
    let body_ok = body.iter().all(|&b| is_b64token(b));
    if body.is_empty() || !body_ok {
        return Err(Denial::InvalidToken(TokenProblem::Malformed));
    }
    // Only ASCII passed the checks above, so this cannot fail; stay total anyway.
    String::from_utf8(token.to_vec()).map_err(|_| Denial::InvalidToken(TokenProblem::Malformed))
}

/// The `access_token` query parameter, if the query has one. Two of them are a malformed request.
fn query_token(query: &str) -> Option<Result<String, Denial>> {
    if !query.contains("access_token") {
        return None;
    }
    let mut tokens = form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "access_token")
        .map(|(_, value)| value.into_owned());
    let first = tokens.next()?;
    Some(match tokens.next() {
        Some(_) => Err(Denial::InvalidRequest(RequestProblem::TokenInSeveralPlaces)),
        None => Ok(first),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<String, Denial> {
        parse_authorization(value.as_bytes(), 8192)
    }

    #[test]
    fn scheme_is_case_insensitive_and_whitespace_is_trimmed() {
        for value in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "  Bearer    abc  ",
            "bEaReR abc\t",
        ] {
            assert_eq!(parse(value), Ok("abc".to_owned()), "{value:?}");
        }
    }

    #[test]
    fn other_schemes_and_bare_tokens_are_unsupported() {
        for value in [
            "Basic dXNlcjpwYXNz",
            "eyJhbGciOiJIUzI1NiJ9.e30.sig",
            "Bearerabc",
            "Token abc",
            "",
        ] {
            assert_eq!(parse(value), Err(Denial::UnsupportedScheme), "{value:?}");
        }
    }

    #[test]
    fn token_grammar_is_b64token() {
        assert_eq!(
            parse("Bearer a-b.c_d~e+f/g=="),
            Ok("a-b.c_d~e+f/g==".to_owned())
        );
        for value in [
            "Bearer a b",
            "Bearer a\"b",
            "Bearer a=b",
            "Bearer ===",
            "Bearer a,b",
            "Bearer é",
        ] {
            assert_eq!(
                parse(value),
                Err(Denial::InvalidToken(TokenProblem::Malformed)),
                "{value:?}"
            );
        }
        for value in ["Bearer", "Bearer ", "bearer    "] {
            assert_eq!(
                parse(value),
                Err(Denial::InvalidToken(TokenProblem::Empty)),
                "{value:?}"
            );
        }
    }

    #[test]
    fn length_is_capped_before_decoding() {
        let long = format!("Bearer {}", "a".repeat(9000));
        assert_eq!(
            parse(&long),
            Err(Denial::InvalidToken(TokenProblem::TooLong))
        );
        assert!(parse_authorization(long.as_bytes(), 10_000).is_ok());
    }

    #[test]
    fn non_utf8_bytes_are_refused_not_panicked_on() {
        assert_eq!(
            parse_authorization(b"Bearer ab\xffcd", 8192),
            Err(Denial::InvalidToken(TokenProblem::Malformed))
        );
        assert_eq!(
            parse_authorization(b"\xff\xfe abc", 8192),
            Err(Denial::UnsupportedScheme)
        );
    }

    #[test]
    fn query_tokens_are_found_and_doubles_refused() {
        assert_eq!(query_token("a=1"), None);
        assert_eq!(
            query_token("access_token=abc&x=1"),
            Some(Ok("abc".to_owned()))
        );
        assert_eq!(
            query_token("access_token=a&access_token=b"),
            Some(Err(Denial::InvalidRequest(
                RequestProblem::TokenInSeveralPlaces
            )))
        );
    }

    /// RFC 6750 §2.1's `b64token`, written independently of [`check_token`].
    fn is_b64token(token: &[u8]) -> bool {
        let text = String::from_utf8_lossy(token);
        let body = text.trim_end_matches('=');
        !body.is_empty()
            && body
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~+/".contains(c))
    }

    proptest::proptest! {
        /// Whatever the bytes, the parser answers without panicking, and a token it accepts is
        /// a `b64token` no longer than the cap.
        #[test]
        fn arbitrary_field_values_never_panic_and_only_b64tokens_pass(
            value in proptest::collection::vec(proptest::num::u8::ANY, 0..120),
            max_len in 1usize..100,
        ) {
            if let Ok(token) = parse_authorization(&value, max_len) {
                proptest::prop_assert!(is_b64token(token.as_bytes()), "{token:?}");
                proptest::prop_assert!(token.len() <= max_len);
            }
        }

        /// Field values that look like the real thing: any case of the scheme, any number of
        /// spaces, any characters in the token. The verdict matches the grammar exactly.
        #[test]
        fn bearer_values_are_judged_by_the_grammar(
            scheme in "(?i)bearer",
            spaces in " {1,4}",
            token in "[A-Za-z0-9._~+/=\\- \"\\\\,;:é]{0,40}",
            trailing in "[ \t]{0,3}",
        ) {
            let value = format!("{scheme}{spaces}{token}{trailing}");
            let token = token.trim_matches(|c| c == ' ' || c == '\t');
            let expected = if token.is_empty() {
                Err(Denial::InvalidToken(TokenProblem::Empty))
            } else if is_b64token(token.as_bytes()) {
                Ok(token.to_owned())
            } else {
                Err(Denial::InvalidToken(TokenProblem::Malformed))
            };
            proptest::prop_assert_eq!(parse_authorization(value.as_bytes(), 8192), expected);
        }

        /// A token over the cap is refused as too long whatever it holds.
        #[test]
        fn the_cap_comes_before_the_grammar(token in "[^\\s]{11,40}") {
            proptest::prop_assert_eq!(
                check_token(token.as_bytes(), 10),
                Err(Denial::InvalidToken(TokenProblem::TooLong))
            );
        }
    }
}
