//! The checks made on a JWT's protected header before any cryptography.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;

use crate::error::TokenProblem;

/// The members of a JOSE header the guard acts on. Everything else, notably `jku`, `x5u`,
/// `jwk` and `x5c`, is ignored: a token never chooses the key that verifies it (RFC 8725 §3.10).
#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    typ: Option<Cow<'a, str>>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// What the guard needs from a header that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) typ: Option<String>,
}

/// Decodes and checks the header of a compact JWS: exactly three non-empty segments, an `alg`
/// the guard knows (so `none` in any case fails here), and no `crit` extensions, since the
/// guard implements none (RFC 7515 §4.1.11).
pub(crate) fn read_header(token: &str) -> Result<Header, TokenProblem> {
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(TokenProblem::Malformed);
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(TokenProblem::Malformed);
    }
    let json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenProblem::Malformed)?;
    let raw: RawHeader<'_> = serde_json::from_slice(&json).map_err(|_| TokenProblem::Malformed)?;
    if raw.crit.is_some() {
        return Err(TokenProblem::UnsupportedCritical);
    }
    let alg = raw
        .alg
        .parse()
        .map_err(|_| TokenProblem::DisallowedAlgorithm)?;
    Ok(Header {
        alg,
        kid: raw.kid.map(Cow::into_owned),
        typ: raw.typ.map(Cow::into_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str) -> String {
        format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(header))
    }

    #[test]
    fn a_plain_header_is_read() {
        let header = read_header(&token(
            r#"{"alg":"RS256","kid":"k1","typ":"at+jwt","jku":"https://evil"}"#,
        ));
        assert_eq!(
            header,
            Ok(Header {
                alg: Algorithm::RS256,
                kid: Some("k1".into()),
                typ: Some("at+jwt".into())
            })
        );
    }

    #[test]
    fn none_is_refused_in_every_case() {
        for alg in ["none", "None", "NONE", "nOnE", "", "HS257"] {
            let header = format!(r#"{{"alg":"{alg}"}}"#);
            assert_eq!(
                read_header(&token(&header)),
                Err(TokenProblem::DisallowedAlgorithm),
                "{alg}"
            );
        }
    }

    #[test]
    fn crit_is_refused() {
        for crit in [r#"["exp"]"#, "[]", r#""b64""#] {
            let header = format!(r#"{{"alg":"HS256","crit":{crit}}}"#);
            assert_eq!(
                read_header(&token(&header)),
                Err(TokenProblem::UnsupportedCritical),
                "{crit}"
            );
        }
    }

    #[test]
    fn shapes_other_than_compact_jws_are_malformed() {
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
        for bad in [
            String::new(),
            "a.b".to_owned(),
            format!("{h}.e30."),
            format!("{h}..c2ln"),
            format!("{h}.e30.c2ln.x.y"),
            "!!!.e30.c2ln".to_owned(),
            format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode("not json")),
            format!(
                "{}.e30.c2ln",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","alg":"HS256"}"#)
            ),
            format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(r#"{"alg":1}"#)),
        ] {
            assert_eq!(read_header(&bad), Err(TokenProblem::Malformed), "{bad}");
        }
    }
}
