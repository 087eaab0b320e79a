//! Rows about the keys a token names or offers: `kid` injection, `jku`/`x5u`/`jwk`/`x5c`
//! pointing at the attacker's keys, and `crit`.

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

use super::token_rows::admin_payload;
use super::{ATTACKER_PRIVATE, Expect, Row, Setup, row};
use crate::common::*;

use Expect::*;
use TokenProblem::*;
use route_guard::TokenProblem;

pub(super) fn rows() -> Vec<Row> {
    let mut rows = kid_rows();
    rows.extend(key_in_header_rows());
    rows.extend(crit_rows());
    rows
}

/// `kid` is only a lookup key: path traversal, SQL, template and JNDI strings find nothing.
fn kid_rows() -> Vec<Row> {
    let payload = admin_payload();
    let with_kid = |kid: serde_json::Value| {
        hs256_raw(&json!({"alg": "HS256", "kid": kid}).to_string(), &payload)
    };
    let mut rows: Vec<Row> = [
        "../../../../etc/passwd",
        "/dev/null",
        "file:///etc/passwd",
        "' OR '1'='1",
        "k1' OR 1=1 --",
        "k1; DROP TABLE keys;--",
        "k1\u{0}",
        "K1",
        " k1",
        "k1/../k1",
        "{{7*7}}",
        "${jndi:ldap://127.0.0.1/a}",
        "",
    ]
    .into_iter()
    .map(|kid| {
        row(
            format!("kid {kid:?}"),
            &with_kid(kid.into()),
            Invalid(UnknownKey),
        )
        .on(Setup::Named)
    })
    .collect();
    rows.extend([
        row(
            "kid of 4000 characters",
            &with_kid("k".repeat(4000).into()),
            Invalid(UnknownKey),
        )
        .on(Setup::Named),
        row(
            "kid null",
            &with_kid(serde_json::Value::Null),
            Invalid(UnknownKey),
        )
        .on(Setup::Named),
        row(
            "no kid for a named key",
            &token("root", &["admin"]),
            Invalid(UnknownKey),
        )
        .on(Setup::Named),
        row("kid a number", &with_kid(1.into()), Invalid(Malformed)).on(Setup::Named),
        row("kid an array", &with_kid(json!(["k1"])), Invalid(Malformed)).on(Setup::Named),
        row("kid k1, the control", &with_kid("k1".into()), Ok).on(Setup::Named),
        row(
            "kid injection against an unnamed key, wrong secret",
            &jws(
                r#"{"alg":"HS256","kid":"../../dev/null"}"#,
                &payload,
                Algorithm::HS256,
                &EncodingKey::from_secret(b""),
            ),
            Invalid(BadSignature),
        ),
    ]);
    rows
}

/// `jku`, `x5u`, `jwk` and `x5c` offer the attacker's own key; it must never be used
/// (RFC 8725 §3.10). The tokens are sound: the control row trusts the attacker's key.
fn key_in_header_rows() -> Vec<Row> {
    let attacker: serde_json::Value =
        serde_json::from_str(include_str!("../../keys/attacker-p256.json")).unwrap_or_default();
    let key =
        EncodingKey::from_ec_pem(ATTACKER_PRIVATE.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let forged = |extra: serde_json::Value| {
        let mut header = json!({"alg": "ES256", "typ": "JWT"});
        if let (Some(h), Some(e)) = (header.as_object_mut(), extra.as_object()) {
            h.extend(e.clone());
        }
        jws(
            &header.to_string(),
            &admin_payload(),
            Algorithm::ES256,
            &key,
        )
    };
    let jwk = json!({"jwk": attacker["jwk"]});
    let jku = json!({"jku": "https://attacker.example/jwks.json"});
    let x5u = json!({"x5u": "https://attacker.example/cert.pem"});
    let x5c = json!({"x5c": attacker["x5c"]});
    let all =
        json!({"jwk": attacker["jwk"], "jku": jku["jku"], "x5u": x5u["x5u"], "x5c": x5c["x5c"]});
    let oct_secret = b"the attacker's own secret, 32+ bytes long";
    let oct = jws(
        &json!({"alg": "HS256", "jwk": {"kty": "oct", "k": b64url(oct_secret)}}).to_string(),
        &admin_payload(),
        Algorithm::HS256,
        &EncodingKey::from_secret(oct_secret),
    );
    vec![
        row(
            "jwk header with the attacker's key",
            &forged(jwk.clone()),
            Invalid(BadSignature),
        )
        .on(Setup::Es256),
        row(
            "jku header pointing at the attacker's keys",
            &forged(jku),
            Invalid(BadSignature),
        )
        .on(Setup::Es256),
        row(
            "x5u header pointing at the attacker's certificate",
            &forged(x5u),
            Invalid(BadSignature),
        )
        .on(Setup::Es256),
        row(
            "x5c header with the attacker's certificate",
            &forged(x5c),
            Invalid(BadSignature),
        )
        .on(Setup::Es256),
        row(
            "jwk, jku, x5u and x5c together",
            &forged(all.clone()),
            Invalid(BadSignature),
        )
        .on(Setup::Es256),
        row(
            "symmetric jwk header with the attacker's secret",
            &oct,
            Invalid(BadSignature),
        ),
        row(
            "attacker's token where the attacker's key is trusted, the control",
            &forged(all),
            Ok,
        )
        .on(Setup::AttackerTrusted),
    ]
}

/// `crit` naming anything is refused: the guard implements no extension (RFC 7515 §4.1.11).
fn crit_rows() -> Vec<Row> {
    let payload = admin_payload();
    let header = |h: &str| hs256_raw(h, &payload);
    vec![
        row(
            "crit naming a registered claim",
            &header(r#"{"alg":"HS256","crit":["exp"]}"#),
            Invalid(UnsupportedCritical),
        ),
        row(
            "crit b64 false (RFC 7797)",
            &header(r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#),
            Invalid(UnsupportedCritical),
        ),
        row(
            "crit naming an unknown parameter",
            &header(r#"{"alg":"HS256","x-custom":1,"crit":["x-custom"]}"#),
            Invalid(UnsupportedCritical),
        ),
        row(
            "crit naming an absent parameter",
            &header(r#"{"alg":"HS256","crit":["x-missing"]}"#),
            Invalid(UnsupportedCritical),
        ),
        row(
            "crit empty",
            &header(r#"{"alg":"HS256","crit":[]}"#),
            Invalid(UnsupportedCritical),
        ),
        row(
            "crit a string",
            &header(r#"{"alg":"HS256","crit":"b64"}"#),
            Invalid(UnsupportedCritical),
        ),
        row(
            "crit null",
            &header(r#"{"alg":"HS256","crit":null}"#),
            Invalid(UnsupportedCritical),
        ),
    ]
}
