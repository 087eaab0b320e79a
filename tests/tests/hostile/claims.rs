//! Rows about a token's claims: time, issuer, audience, type, duplicate members, and role or
//! scope claims of the wrong type (403, never 500).

use serde_json::{Value, json};

use super::{Expect, Row, Setup, row};
use crate::common::*;

use Expect::*;
use TokenProblem::*;
use route_guard::TokenProblem;

pub(super) fn rows() -> Vec<Row> {
    let mut rows = time_rows();
    rows.extend(issuer_audience_type_rows());
    rows.extend(duplicate_rows());
    rows.extend(claim_type_rows());
    rows
}

/// An admin's claims with `key` set to `value`; unlike `common::with`, `null` stays `null`.
fn admin_with(key: &str, value: Value) -> Value {
    let mut claims = claims("root", &["admin"]);
    if let Some(map) = claims.as_object_mut() {
        map.insert(key.to_owned(), value);
    }
    claims
}

/// An HS256 token of an admin with `key` set to `value` (`Value::Null` removes it).
fn admin_token(key: &str, value: Value) -> String {
    hs256(&with(claims("root", &["admin"]), key, value))
}

/// `exp` and `nbf` beyond and within the 30 s default leeway.
fn time_rows() -> Vec<Row> {
    let t = now();
    vec![
        row(
            "expired an hour ago",
            &admin_token("exp", json!(t - 3600)),
            Invalid(Expired),
        ),
        row(
            "expired beyond the leeway",
            &admin_token("exp", json!(t - 45)),
            Invalid(Expired),
        ),
        row(
            "expired within the leeway, the control",
            &admin_token("exp", json!(t - 10)),
            Ok,
        ),
        row("exp zero", &admin_token("exp", json!(0)), Invalid(Expired)),
        // RFC 7519 §2: a NumericDate is any JSON number.
        row(
            "exp negative",
            &admin_token("exp", json!(-1)),
            Invalid(Expired),
        ),
        row(
            "exp far in the future (1e300)",
            &admin_token("exp", json!(1e300)),
            Ok,
        ),
        row(
            "exp fractional, the control",
            &admin_token("exp", json!(t as f64 + 600.5)),
            Ok,
        ),
        row("nbf negative", &admin_token("nbf", json!(-1)), Ok),
        row(
            "nbf far in the future (1e300)",
            &admin_token("nbf", json!(1e300)),
            Invalid(NotYetValid),
        ),
        row(
            "not valid for an hour",
            &admin_token("nbf", json!(t + 3600)),
            Invalid(NotYetValid),
        ),
        row(
            "not yet valid beyond the leeway",
            &admin_token("nbf", json!(t + 45)),
            Invalid(NotYetValid),
        ),
        row(
            "not yet valid within the leeway, the control",
            &admin_token("nbf", json!(t + 10)),
            Ok,
        ),
        row(
            "no exp",
            &admin_token("exp", Value::Null),
            Invalid(MissingClaim),
        ),
        row(
            "exp null",
            &hs256(&admin_with("exp", Value::Null)),
            Invalid(MissingClaim),
        ),
        row(
            "exp a string",
            &admin_token("exp", json!("tomorrow")),
            Invalid(MissingClaim),
        ),
        row(
            "exp a numeric string",
            &admin_token("exp", json!((t + 600).to_string())),
            Invalid(MissingClaim),
        ),
        row(
            "exp a boolean",
            &admin_token("exp", json!(true)),
            Invalid(MissingClaim),
        ),
        row(
            "exp out of any range",
            &hs256_raw(
                r#"{"alg":"HS256"}"#,
                &format!(r#"{{"sub":"root","iss":"{ISSUER}","aud":"{AUDIENCE}","exp":1e400}}"#),
            ),
            Invalid(Malformed),
        ),
        // Present but not a NumericDate: malformed, not missing (nbf is optional).
        row(
            "nbf a string",
            &admin_token("nbf", json!("now")),
            Invalid(Malformed),
        ),
    ]
}

/// jsonwebtoken 11 reads `iss` as a string or an array and accepts an array sharing one
/// member with the configured issuers, but RFC 7519 §4.1.1 makes `iss` a single StringOrURI:
/// the guard refuses any other shape.
pub(super) fn issuer_arrays() -> Vec<Row> {
    let evil_first = json!(["https://evil.test", ISSUER]);
    vec![
        row(
            "iss an array holding ours",
            &admin_token("iss", json!([ISSUER])),
            Invalid(WrongIssuer),
        ),
        row(
            "iss an array holding ours second",
            &admin_token("iss", evil_first),
            Invalid(WrongIssuer),
        ),
    ]
}

/// Missing and wrong `iss`, `aud` and `typ`.
fn issuer_audience_type_rows() -> Vec<Row> {
    let payload = claims("root", &["admin"]).to_string();
    let typed = |typ: Value| hs256_raw(&json!({"alg": "HS256", "typ": typ}).to_string(), &payload);
    vec![
        row(
            "no iss",
            &admin_token("iss", Value::Null),
            Invalid(WrongIssuer),
        ),
        row(
            "iss null",
            &hs256(&admin_with("iss", Value::Null)),
            Invalid(WrongIssuer),
        ),
        row(
            "wrong iss",
            &admin_token("iss", json!("https://evil.test")),
            Invalid(WrongIssuer),
        ),
        row(
            "iss with a trailing slash",
            &admin_token("iss", json!(format!("{ISSUER}/"))),
            Invalid(WrongIssuer),
        ),
        row(
            "iss in upper case",
            &admin_token("iss", json!(ISSUER.to_uppercase())),
            Invalid(WrongIssuer),
        ),
        row(
            "iss a number",
            &admin_token("iss", json!(1)),
            Invalid(WrongIssuer),
        ),
        row(
            "no aud",
            &admin_token("aud", Value::Null),
            Invalid(WrongAudience),
        ),
        row(
            "aud null",
            &hs256(&admin_with("aud", Value::Null)),
            Invalid(WrongAudience),
        ),
        row(
            "wrong aud",
            &admin_token("aud", json!("other-api")),
            Invalid(WrongAudience),
        ),
        row(
            "aud array without ours",
            &admin_token("aud", json!(["x", "y"])),
            Invalid(WrongAudience),
        ),
        row(
            "aud empty array",
            &admin_token("aud", json!([])),
            Invalid(WrongAudience),
        ),
        row(
            "aud a number",
            &admin_token("aud", json!(7)),
            Invalid(WrongAudience),
        ),
        row(
            "aud array with ours, the control",
            &admin_token("aud", json!(["x", AUDIENCE])),
            Ok,
        ),
        row(
            "typ logout+jwt",
            &typed(json!("logout+jwt")),
            Invalid(WrongType),
        ),
        row(
            "typ dpop+jwt",
            &typed(json!("dpop+jwt")),
            Invalid(WrongType),
        ),
        row("typ empty", &typed(json!("")), Invalid(WrongType)),
        row("typ a number", &typed(json!(1)), Invalid(Malformed)),
        row("typ JWT, the control", &typed(json!("JWT")), Ok),
        row(
            "typ missing where at+jwt is required",
            &token("root", &["admin"]),
            Invalid(WrongType),
        )
        .on(Setup::AccessToken),
        row(
            "typ JWT where at+jwt is required",
            &typed(json!("JWT")),
            Invalid(WrongType),
        )
        .on(Setup::AccessToken),
        row(
            "typ at+jwt where required, the control",
            &typed(json!("at+jwt")),
            Ok,
        )
        .on(Setup::AccessToken),
        row(
            "typ application/at+jwt where required, the control",
            &typed(json!("application/at+jwt")),
            Ok,
        )
        .on(Setup::AccessToken),
    ]
}

/// A member named twice is refused wherever it is (RFC 7515 §5.2, RFC 7519 §4): parsers that
/// keep the first and parsers that keep the last would read different tokens.
fn duplicate_rows() -> Vec<Row> {
    let head = r#"{"alg":"HS256"}"#;
    let base = format!(
        r#""sub":"root","iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{}"#,
        now() + 600
    );
    let payload = |extra: &str| format!("{{{base},{extra}}}");
    let admin = payload(r#""roles":["admin"]"#);
    vec![
        row(
            "duplicate alg in the header",
            &hs256_raw(r#"{"alg":"HS256","alg":"none"}"#, &admin),
            Invalid(Malformed),
        ),
        row(
            "duplicate kid in the header",
            &hs256_raw(r#"{"alg":"HS256","kid":"a","kid":"b"}"#, &admin),
            Invalid(Malformed),
        ),
        row(
            "duplicate typ in the header",
            &hs256_raw(r#"{"alg":"HS256","typ":"JWT","typ":"logout+jwt"}"#, &admin),
            Invalid(Malformed),
        ),
        row(
            "duplicate jku in the header",
            &hs256_raw(r#"{"alg":"HS256","jku":"a","jku":"b"}"#, &admin),
            Invalid(Malformed),
        ),
        row(
            "duplicate roles in the payload",
            &hs256_raw(head, &payload(r#""roles":["user"],"roles":["admin"]"#)),
            Invalid(Malformed),
        ),
        row(
            "duplicate roles, one escaped",
            &hs256_raw(head, &payload(r#""roles":["user"],"\u0072oles":["admin"]"#)),
            Invalid(Malformed),
        ),
        row(
            "duplicate exp in the payload",
            &hs256_raw(head, &format!(r#"{{{base},"exp":1,"roles":["admin"]}}"#)),
            Invalid(Malformed),
        ),
        row(
            "duplicate sub in the payload",
            &hs256_raw(head, &payload(r#""sub":"admin","roles":["admin"]"#)),
            Invalid(Malformed),
        ),
        row(
            "duplicate member in a nested object",
            &hs256_raw(
                head,
                &payload(r#""roles":["admin"],"realm_access":{"roles":[],"roles":["admin"]}"#),
            ),
            Invalid(Malformed),
        ),
        row(
            "the same names in different objects, the control",
            &hs256_raw(
                head,
                &payload(r#""roles":["admin"],"a":{"roles":1},"b":[{"roles":2}]"#),
            ),
            Ok,
        ),
    ]
}

/// Role and scope claims of the wrong type grant nothing: 403, never 500.
fn claim_type_rows() -> Vec<Row> {
    let wrong = [
        ("a number", json!(1)),
        ("an object", json!({"admin": true, "read": true})),
        ("nested arrays", json!([["admin", "read"]])),
        ("null", Value::Null),
        ("a boolean", json!(true)),
        ("an array with a number", json!(["admin", "read", 1])),
        ("an array with null", json!(["admin", "read", null])),
    ];
    let mut rows = Vec::new();
    for (what, value) in wrong {
        let roles = hs256(&admin_with("roles", value.clone()));
        rows.push(row(format!("roles {what}"), &roles, Forbidden));
        rows.push(
            row(
                format!("roles {what}, on a route needing no role"),
                &roles,
                Ok,
            )
            .at("/me"),
        );
        let scope = hs256(&admin_with("scope", value.clone()));
        rows.push(row(format!("scope {what}"), &scope, Scope("read")).at("/scoped"));
        let scp = hs256(&admin_with("scp", value));
        rows.push(row(format!("scp {what}"), &scp, Scope("read")).at("/scoped"));
    }
    let nested = (0..100).fold(json!(["admin"]), |inner, _| json!([inner]));
    let deep = (0..2000).fold(String::from("1"), |inner, _| format!("[{inner}]"));
    let deep_claims = format!(
        r#"{{"sub":"root","iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{},"d":{deep}}}"#,
        now() + 600
    );
    rows.extend([
        row(
            "roles nested 100 deep",
            &hs256(&admin_with("roles", nested)),
            Forbidden,
        ),
        row(
            "a claim nested 2000 deep",
            &hs256_raw(r#"{"alg":"HS256"}"#, &deep_claims),
            Invalid(Malformed),
        ),
        row(
            "scope read, the control",
            &hs256(&admin_with("scope", json!("read"))),
            Ok,
        )
        .at("/scoped"),
        row(
            "sub a number",
            &hs256(&admin_with("sub", json!(42))),
            Invalid(MissingClaim),
        ),
        row(
            "sub null",
            &hs256(&admin_with("sub", Value::Null)),
            Invalid(MissingClaim),
        ),
        // Not a string, like a number or null: the same answer (jsonwebtoken's own claim
        // parsing called an object "malformed" and a number "missing").
        row(
            "sub an object",
            &hs256(&admin_with("sub", json!({"id": "root"}))),
            Invalid(MissingClaim),
        ),
        row(
            "payload a JSON array",
            &hs256_raw(r#"{"alg":"HS256"}"#, "[1,2]"),
            Invalid(Malformed),
        ),
        row(
            "payload a JSON string",
            &hs256_raw(r#"{"alg":"HS256"}"#, r#""root""#),
            Invalid(Malformed),
        ),
        row(
            "payload null",
            &hs256_raw(r#"{"alg":"HS256"}"#, "null"),
            Invalid(Malformed),
        ),
        row(
            "payload not JSON",
            &hs256_raw(r#"{"alg":"HS256"}"#, "sub=root"),
            Invalid(Malformed),
        ),
    ]);
    rows
}
