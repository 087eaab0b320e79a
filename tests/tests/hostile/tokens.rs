//! Rows about a token's shape, header and signature: `alg` games, key confusion, JWE and JSON
//! serializations, `kid` injection, keys offered by the token itself, `crit`.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use super::{Expect, RSA_PRIVATE, RSA_PUBLIC, Row, Setup, row};
use crate::common::*;

use Expect::*;
use TokenProblem::*;
use route_guard::TokenProblem;

pub(super) fn rows() -> Vec<Row> {
    let mut rows = shape_rows();
    rows.extend(none_rows());
    rows.extend(algorithm_rows());
    rows.extend(signature_rows());
    rows
}

/// The payload of a valid admin token, as text.
pub(super) fn admin_payload() -> String {
    claims("root", &["admin"]).to_string()
}

/// Compact JWS only: JWE, JSON serializations, missing or extra segments.
fn shape_rows() -> Vec<Row> {
    let good = token("root", &["admin"]);
    let parts: Vec<&str> = good.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let jwe_header = b64url(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
    let dir_header = b64url(r#"{"alg":"dir","enc":"A128CBC-HS256"}"#);
    let general = json!({"payload": p, "signatures": [{"protected": h, "signature": s}]});
    let flattened = json!({"payload": p, "protected": h, "signature": s});
    vec![
        row("one segment", h, Invalid(Malformed)),
        row("two segments", &format!("{h}.{p}"), Invalid(Malformed)),
        row(
            "four segments",
            &format!("{h}.{p}.{s}.{s}"),
            Invalid(Malformed),
        ),
        row(
            "JWE, five segments",
            &format!("{jwe_header}.a2V5.aXY.Y2lwaGVy.dGFn"),
            Invalid(Malformed),
        ),
        row(
            "JWE with direct encryption (empty key)",
            &format!("{dir_header}..aXY.Y2lwaGVy.dGFn"),
            Invalid(Malformed),
        ),
        row(
            "JWE header in a three-segment token",
            &format!("{jwe_header}.{p}.{s}"),
            Invalid(DisallowedAlgorithm),
        ),
        row(
            "general JSON-serialized JWS",
            &general.to_string(),
            Invalid(Malformed),
        ),
        row(
            "flattened JSON-serialized JWS",
            &flattened.to_string(),
            Invalid(Malformed),
        ),
        row(
            "JSON-serialized JWS, base64url-encoded",
            &b64url(flattened.to_string()),
            Invalid(Malformed),
        ),
        row("empty segments", "..", Invalid(Malformed)),
        row("empty header", &format!(".{p}.{s}"), Invalid(Malformed)),
        row("empty payload", &format!("{h}..{s}"), Invalid(Malformed)),
        row(
            "header not base64url",
            &format!("{h}~.{p}.{s}"),
            Invalid(Malformed),
        ),
        row(
            "header not JSON",
            &format!("{}.{p}.{s}", b64url("alg=HS256")),
            Invalid(Malformed),
        ),
        row(
            "header a JSON array",
            &format!("{}.{p}.{s}", b64url(r#"["HS256"]"#)),
            Invalid(Malformed),
        ),
        row(
            "header without alg",
            &hs256_raw(r#"{"typ":"JWT"}"#, &admin_payload()),
            Invalid(Malformed),
        ),
        row(
            "alg a number",
            &hs256_raw(r#"{"alg":256}"#, &admin_payload()),
            Invalid(Malformed),
        ),
        row(
            "alg null",
            &hs256_raw(r#"{"alg":null}"#, &admin_payload()),
            Invalid(Malformed),
        ),
    ]
}

/// `alg: none` in all sixteen letter cases, unsigned and with a made-up signature.
fn none_rows() -> Vec<Row> {
    let payload = b64url(admin_payload());
    (0u8..16)
        .flat_map(|mask| {
            let alg: String = "none"
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if mask & (1 << i) != 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            let head = b64url(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            [
                row(
                    format!("alg {alg}, unsigned"),
                    &format!("{head}.{payload}."),
                    Invalid(Malformed),
                ),
                row(
                    format!("alg {alg}, with a signature"),
                    &format!("{head}.{payload}.c2ln"),
                    Invalid(DisallowedAlgorithm),
                ),
            ]
        })
        .collect()
}

/// Algorithms the key does not allow, and RS→HS key confusion (RFC 8725 §2.1).
fn algorithm_rows() -> Vec<Row> {
    let body = claims("root", &["admin"]);
    let secret = EncodingKey::from_secret(SECRET);
    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let public_as_secret = EncodingKey::from_secret(RSA_PUBLIC.as_bytes());
    let p256_as_secret = EncodingKey::from_secret(super::P256_PUBLIC.as_bytes());
    let signed = |alg, key: &EncodingKey| sign(&Header::new(alg), &body, key);
    let confusion = |alg: Algorithm| {
        row(
            format!("RS256 key confused with {alg:?} over the public key"),
            &signed(alg, &public_as_secret),
            Invalid(DisallowedAlgorithm),
        )
        .on(Setup::Rs256)
    };
    vec![
        row(
            "HS384 on an HS256 key",
            &signed(Algorithm::HS384, &secret),
            Invalid(DisallowedAlgorithm),
        ),
        row(
            "HS512 on an HS256 key",
            &signed(Algorithm::HS512, &secret),
            Invalid(DisallowedAlgorithm),
        ),
        row(
            "RS256 on an HS256 key",
            &signed(Algorithm::RS256, &rsa),
            Invalid(DisallowedAlgorithm),
        ),
        row(
            "PS256 on an RS256 key, same RSA key",
            &signed(Algorithm::PS256, &rsa),
            Invalid(DisallowedAlgorithm),
        )
        .on(Setup::Rs256),
        row(
            "RS384 on an RS256 key, same RSA key",
            &signed(Algorithm::RS384, &rsa),
            Invalid(DisallowedAlgorithm),
        )
        .on(Setup::Rs256),
        confusion(Algorithm::HS256),
        confusion(Algorithm::HS384),
        confusion(Algorithm::HS512),
        row(
            "ES256 key confused with HS256 over the public key",
            &signed(Algorithm::HS256, &p256_as_secret),
            Invalid(DisallowedAlgorithm),
        )
        .on(Setup::Es256),
        row(
            "unknown alg ES512",
            &hs256_raw(r#"{"alg":"ES512"}"#, &admin_payload()),
            Invalid(DisallowedAlgorithm),
        ),
        row(
            "unknown alg HS257",
            &hs256_raw(r#"{"alg":"HS257"}"#, &admin_payload()),
            Invalid(DisallowedAlgorithm),
        ),
        row(
            "alg in lower case",
            &hs256_raw(r#"{"alg":"hs256"}"#, &admin_payload()),
            Invalid(DisallowedAlgorithm),
        ),
        row(
            "alg with a trailing space",
            &hs256_raw(r#"{"alg":"HS256 "}"#, &admin_payload()),
            Invalid(DisallowedAlgorithm),
        ),
        row(
            "the right alg, the control",
            &signed(Algorithm::HS256, &secret),
            Ok,
        ),
    ]
}

/// Stripped, altered, borrowed and re-encoded signatures.
fn signature_rows() -> Vec<Row> {
    let good = token("root", &["admin"]);
    let user = token("bob", &["user"]);
    let parts: Vec<&str> = good.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let user_signature = user.rsplit('.').next().unwrap_or_default();
    let user_payload = user.split('.').nth(1).unwrap_or_default();
    let other = EncodingKey::from_secret(b"another secret that is long enough!!");
    let flip = |c: char| if c == 'A' { 'B' } else { 'A' };
    let first_flipped: String = s
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 0 { flip(c) } else { c })
        .collect();
    vec![
        row(
            "signature stripped",
            &format!("{h}.{p}."),
            Invalid(Malformed),
        ),
        row(
            "signature and its dot stripped",
            &format!("{h}.{p}"),
            Invalid(Malformed),
        ),
        row(
            "signature altered",
            &format!("{h}.{p}.{first_flipped}"),
            Invalid(BadSignature),
        ),
        row(
            "signature truncated",
            &format!("{h}.{p}.{}", &s[..s.len() - 3]),
            Invalid(BadSignature),
        ),
        row(
            "signature of another token",
            &format!("{h}.{p}.{user_signature}"),
            Invalid(BadSignature),
        ),
        row(
            "admin payload under a user's signature",
            &format!(
                "{}.{p}.{user_signature}",
                user.split('.').next().unwrap_or_default()
            ),
            Invalid(BadSignature),
        ),
        row(
            "payload swapped for a user's",
            &format!("{h}.{user_payload}.{s}"),
            Invalid(BadSignature),
        ),
        row(
            "signed with another secret",
            &sign(
                &Header::new(Algorithm::HS256),
                &claims("root", &["admin"]),
                &other,
            ),
            Invalid(BadSignature),
        ),
        row(
            "signature in standard base64",
            &format!("{h}.{p}.+{}", &s[1..]),
            Invalid(Malformed),
        ),
        row(
            "signature only padding",
            &format!("{h}.{p}.="),
            Invalid(Malformed),
        ),
    ]
}
