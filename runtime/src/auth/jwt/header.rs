//! The checks made on a JWT's protected header before any cryptography.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::strict_json::{Names, Unique, strict_object};
use crate::refusal::TokenProblem;

/// The members of a JOSE header the guard acts on. Everything else, notably `jku`, `x5u`,
/// `jwk` and `x5c`, is ignored: a token never chooses the key that verifies it (RFC 8725 §3.10).
#[derive(Default)]
struct RawHeader<'a> {
    alg: Option<Cow<'a, str>>,
    kid: Option<Cow<'a, str>>,
    typ: Option<Cow<'a, str>>,
    /// Present at all, whatever its value: `"crit": null` is refused too.
    crit: bool,
}

impl<'de> Deserialize<'de> for RawHeader<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(HeaderVisitor)
    }
}

/// Reads a header in one pass, refusing a member named twice, at any depth (see
/// [`Unique`]), as it goes.
struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = RawHeader<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JOSE header")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<RawHeader<'de>, A::Error> {
        let mut header = RawHeader::default();
        let mut seen: Names<Cow<'de, str>> = Names::with_capacity_and_hasher(8, Default::default());
        let nested = Cell::new(false);
        while let Some(Text(name)) = members.next_key()? {
            if seen.contains(&*name) {
                return Err(de::Error::custom("duplicate member"));
            }
            match &*name {
                "alg" => header.alg = Some(members.next_value::<Text<'de>>()?.0),
                "kid" => header.kid = members.next_value::<Option<Text<'de>>>()?.map(|t| t.0),
                "typ" => header.typ = members.next_value::<Option<Text<'de>>>()?.map(|t| t.0),
                "crit" => {
                    members.next_value::<de::IgnoredAny>()?;
                    header.crit = true;
                }
                _ => members.next_value_seed(Unique(&nested))?,
            }
            seen.insert(name);
        }
        if header.alg.is_none() {
            return Err(de::Error::missing_field("alg"));
        }
        Ok(header)
    }
}

/// A JSON string, borrowed from the document when it holds no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// What the guard needs from a header that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) typ: Option<String>,
}

/// A compact JWS whose header passed the checks, split into what verification needs.
#[derive(Debug)]
pub(crate) struct Jws<'a> {
    pub(crate) header: Header,
    /// `header.payload`, the text the signature covers.
    pub(crate) message: &'a str,
    /// The signature, base64url as sent.
    pub(crate) signature: &'a str,
    /// The payload's claims; `None` when it is not a base64url-encoded JSON object, which is
    /// reported only once the signature has been checked (a forged token is "bad signature").
    pub(crate) claims: Option<Map<String, Value>>,
}

/// Splits a compact JWS and reads its header and payload, each decoded and parsed once:
/// exactly three non-empty segments, an `alg` the guard knows (so `none` in any case fails
/// here), no `crit` extensions, since the guard implements none (RFC 7515 §4.1.11), and no
/// member named twice, at any depth, in the header or the payload. RFC 7515 §5.2 and RFC 7519
/// §4 let a parser either refuse such a document or keep the last duplicate; parsers that keep
/// the first exist, and a token read differently by the issuer and by the guard
/// (`"roles":["user"], ..., "roles":["admin"]`) must not pass, so the guard refuses it.
pub(crate) fn read_jws(token: &str) -> Result<Jws<'_>, TokenProblem> {
    let mut segments = token.splitn(3, '.');
    let (Some(header), Some(payload), Some(signature)) =
        (segments.next(), segments.next(), segments.next())
    else {
        return Err(TokenProblem::Malformed);
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() || signature.contains('.') {
        return Err(TokenProblem::Malformed);
    }
    let header = read_header(header)?;
    let claims = match URL_SAFE_NO_PAD.decode(payload) {
        Ok(json) => strict_object(&json)?,
        Err(_) => None,
    };
    Ok(Jws {
        header,
        message: token
            .get(..token.len() - signature.len() - 1)
            .ok_or(TokenProblem::Malformed)?,
        signature,
        claims,
    })
}

/// Decodes and checks a JOSE header (the first segment of a compact JWS).
fn read_header(segment: &str) -> Result<Header, TokenProblem> {
    let json = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenProblem::Malformed)?;
    let raw: RawHeader<'_> = serde_json::from_slice(&json).map_err(|_| TokenProblem::Malformed)?;
    if raw.crit {
        return Err(TokenProblem::UnsupportedCritical);
    }
    let alg = raw
        .alg
        .unwrap_or_default()
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

    /// The header of a whole token, as [`read_jws`] reads it.
    fn header_of(token: &str) -> Result<Header, TokenProblem> {
        read_jws(token).map(|jws| jws.header)
    }

    fn token(header: &str) -> String {
        format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(header))
    }

    #[test]
    fn a_plain_header_is_read() {
        let header = header_of(&token(
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
                header_of(&token(&header)),
                Err(TokenProblem::DisallowedAlgorithm),
                "{alg}"
            );
        }
    }

    #[test]
    fn crit_is_refused() {
        for crit in [r#"["exp"]"#, "[]", r#""b64""#, "null"] {
            let header = format!(r#"{{"alg":"HS256","crit":{crit}}}"#);
            assert_eq!(
                header_of(&token(&header)),
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
            assert_eq!(header_of(&bad), Err(TokenProblem::Malformed), "{bad}");
        }
    }

    #[test]
    fn a_member_named_twice_is_malformed_in_the_header_and_the_payload() {
        let signed = |header: &str, payload: &str| {
            format!(
                "{}.{}.c2ln",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(payload)
            )
        };
        let ok = r#"{"alg":"HS256"}"#;
        for (header, payload) in [
            (r#"{"alg":"HS256","jku":"a","jku":"b"}"#, "{}"),
            (r#"{"alg":"HS256","x":1,"\u0078":2}"#, "{}"),
            (ok, r#"{"roles":["user"],"roles":["admin"]}"#),
            (ok, r#"{"realm_access":{"roles":[],"roles":["admin"]}}"#),
            (ok, r#"{"a":[{"b":1,"b":1}]}"#),
        ] {
            assert_eq!(
                header_of(&signed(header, payload)),
                Err(TokenProblem::Malformed),
                "{header} {payload}"
            );
        }
        for payload in [
            r#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#,
            "not json",
            "[1,2]",
        ] {
            assert!(header_of(&signed(ok, payload)).is_ok(), "{payload}");
        }
    }

    proptest::proptest! {
        /// Arbitrary text never panics the pre-checks, and what passes is a three-segment
        /// token whose `alg` is a real algorithm.
        #[test]
        fn arbitrary_tokens_never_panic(token in "\\PC{0,300}") {
            if header_of(&token).is_ok() {
                proptest::prop_assert_eq!(token.split('.').count(), 3);
            }
        }

        /// Arbitrary bytes as header and payload, properly encoded, never panic either; a
        /// header that passes names a known `alg` and no `crit`.
        #[test]
        fn arbitrary_segments_never_panic(
            header in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            payload in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        ) {
            let token = format!(
                "{}.{}.c2ln",
                URL_SAFE_NO_PAD.encode(&header),
                URL_SAFE_NO_PAD.encode(&payload)
            );
            if header_of(&token).is_ok() {
                let json: serde_json::Value = serde_json::from_slice(&header)
                    .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
                proptest::prop_assert!(json.get("crit").is_none());
                proptest::prop_assert!(json["alg"].as_str().is_some_and(|a| !a.eq_ignore_ascii_case("none")));
            }
        }

        /// JSON-shaped headers with random members: `none` in any case, `crit` and
        /// duplicates are always refused.
        #[test]
        fn headers_with_random_members_are_judged_by_the_rules(
            alg in "(?i)none|HS256|RS256|ES256|[a-zA-Z0-9]{0,6}",
            names in proptest::collection::vec("[a-z]{1,3}", 0..6),
            crit in proptest::bool::ANY,
        ) {
            let mut members = vec![format!(r#""alg":"{alg}""#)];
            members.extend(names.iter().map(|n| format!(r#""{n}":"v""#)));
            if crit {
                members.push(r#""crit":["x"]"#.to_owned());
            }
            let header = format!("{{{}}}", members.join(","));
            let outcome = header_of(&token(&header));
            let unique: std::collections::BTreeSet<&String> = names.iter().collect();
            let duplicated = unique.len() != names.len()
                || names.iter().any(|n| n == "alg" || (crit && n == "crit"));
            if duplicated {
                proptest::prop_assert_eq!(outcome, Err(TokenProblem::Malformed));
            } else if names.iter().any(|n| n == "kid" || n == "typ") {
                // Strings there are fine; nothing more to say about the verdict.
            } else if crit || names.iter().any(|n| n == "crit") {
                proptest::prop_assert_eq!(outcome, Err(TokenProblem::UnsupportedCritical));
            } else if alg.parse::<Algorithm>().is_err() {
                proptest::prop_assert_eq!(outcome, Err(TokenProblem::DisallowedAlgorithm));
            } else {
                proptest::prop_assert!(outcome.is_ok());
            }
        }
    }
}
