//! Rows about the request around the token: two `Authorization` lines, tokens in the query
//! string, and the length cap.

use route_guard::{RequestProblem, TokenProblem};

use super::{Expect, Row, Setup, row};
use crate::common::*;

pub(super) fn rows() -> Vec<Row> {
    let mut rows = line_and_query_rows();
    rows.extend(size_rows());
    rows
}

/// Two `Authorization` lines, and tokens in the query string (RFC 6750 §2.3, RFC 9110 §5.3).
fn line_and_query_rows() -> Vec<Row> {
    use Expect::*;
    let jwt = token("root", &["admin"]);
    let bearer_line = format!("Bearer {jwt}");
    let query = format!("/admin?access_token={jwt}");
    let duplicate = Request(RequestProblem::DuplicateAuthorization);
    let twice = Request(RequestProblem::TokenInSeveralPlaces);
    vec![
        row("two identical Authorization lines", &jwt, duplicate)
            .lines([&bearer_line, &bearer_line]),
        row("Bearer and Basic lines", &jwt, duplicate)
            .lines([bearer_line.as_str(), "Basic YWxpY2U6c2VjcmV0"]),
        row("a Bearer line and an empty line", &jwt, duplicate).lines([&bearer_line, ""]),
        row("token in the query string, not opted in", &jwt, Bare)
            .lines(Vec::<&[u8]>::new())
            .at(&query),
        row("token in the query string and the header", &jwt, twice).at(&query),
        row("token in the query string, opted in", &jwt, Ok)
            .lines(Vec::<&[u8]>::new())
            .at(&query)
            .on(Setup::QueryAllowed),
        row("two query tokens, opted in", &jwt, twice)
            .lines(Vec::<&[u8]>::new())
            .at(format!("{query}&access_token={jwt}"))
            .on(Setup::QueryAllowed),
        row("query and header, opted in", &jwt, twice)
            .at(&query)
            .on(Setup::QueryAllowed),
        row(
            "empty query token, opted in",
            "",
            Invalid(TokenProblem::Empty),
        )
        .lines(Vec::<&[u8]>::new())
        .at("/admin?access_token=")
        .on(Setup::QueryAllowed),
        row(
            "query token with a space, opted in",
            &jwt,
            Invalid(TokenProblem::Malformed),
        )
        .lines(Vec::<&[u8]>::new())
        .at(format!("{query}+x"))
        .on(Setup::QueryAllowed),
    ]
}

/// The length cap (8 KiB by default) answers before any decoding.
fn size_rows() -> Vec<Row> {
    use Expect::*;
    let too_long = Invalid(TokenProblem::TooLong);
    // A signed token whose claims pad it to `len` bytes or so.
    let padded = |len: usize| {
        let pad = "x".repeat(len.saturating_mul(3) / 4);
        hs256(&with(claims("root", &["admin"]), "pad", pad.into()))
    };
    let near_cap = padded(7_700);
    assert!(near_cap.len() <= 8192, "{}", near_cap.len());
    vec![
        row("a signed token just under 8 KiB", &near_cap, Ok),
        row("a signed token over 8 KiB", &padded(8_300), too_long),
        row(
            "exactly 8 KiB of token characters",
            &"a".repeat(8192),
            Invalid(TokenProblem::Malformed),
        ),
        row("8 KiB and one byte", &"a".repeat(8193), too_long),
        row("64 KiB token", &"a".repeat(64 * 1024), too_long),
        row("1 MiB token", &"a".repeat(1024 * 1024), too_long),
        row(
            "1 MiB of bad characters",
            &"\"".repeat(1024 * 1024),
            too_long,
        ),
    ]
}
