//! The registered claims (RFC 7519 §4.1) a verified token must satisfy: `exp`, `nbf`, `iss` and
//! `aud`.
//!
//! jsonwebtoken's `decode` checks them too, but only after parsing the header twice and the
//! payload twice (once for its checks, once for the caller); the guard reads each once, lets
//! jsonwebtoken verify the signature, and applies the same rules here, in the same order, so
//! that a client is told the same problem. Two rules are tighter than jsonwebtoken's: `iss` must
//! be one string (RFC 7519 §4.1.1 makes it a single StringOrURI; jsonwebtoken also accepts an
//! array sharing one member with the configured issuers, which would let `["evil", ours]` pass),
//! and without a configured audience any `aud` is refused (RFC 7519 §4.1.3), not only one that
//! parses as a string or a list of strings.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::identity::claims::numeric_date;
use crate::refusal::TokenProblem;

/// What the configuration asks of the registered claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegisteredClaims {
    /// Allowed clock skew on `exp` and `nbf`, in seconds.
    pub(crate) leeway: u64,
    /// Accepted `iss` values; empty when any issuer (or none) is accepted.
    pub(crate) issuers: Vec<String>,
    /// Accepted `aud` values; empty when the token must carry no audience.
    pub(crate) audiences: Vec<String>,
    /// Whether `exp` must be present: always in a JWT; an introspection answer may leave it
    /// out (RFC 7662 §2.2), and is then checked without it.
    pub(crate) require_exp: bool,
}

impl RegisteredClaims {
    pub(crate) fn new(leeway: Duration, issuers: Vec<String>, audiences: Vec<String>) -> Self {
        RegisteredClaims {
            leeway: leeway.as_secs(),
            issuers,
            audiences,
            require_exp: true,
        }
    }

    /// Checks `claims` at time `now` (seconds since the epoch): `exp` required and not past,
    /// `nbf` not to come, `iss` and `aud` present and accepted whenever they are configured.
    pub(crate) fn check(&self, claims: &Map<String, Value>, now: u64) -> Result<(), TokenProblem> {
        let claim = |name| claims.get(name).filter(|value| !value.is_null());
        let exp = claim("exp").map(numeric_date);
        let nbf = claim("nbf").map(numeric_date);
        let (iss, aud) = (claim("iss"), claim("aud"));
        // Required claims first, in jsonwebtoken's order: exp, then iss and aud when configured.
        let exp = match exp {
            Some(Some(exp)) => Some(exp),
            None if !self.require_exp => None,
            _ => return Err(TokenProblem::MissingClaim),
        };
        if !self.issuers.is_empty() && !iss.is_some_and(is_string_or_strings) {
            return Err(TokenProblem::WrongIssuer);
        }
        if !self.audiences.is_empty() && !aud.is_some_and(is_string_or_strings) {
            return Err(TokenProblem::WrongAudience);
        }
        // An optional claim that is present but not a NumericDate is no missing claim.
        if nbf == Some(None) {
            return Err(TokenProblem::Malformed);
        }
        // RFC 7519 §4.1.4: the current time must be before `exp` (plus the leeway).
        if exp.is_some_and(|exp| exp.saturating_add(self.leeway) <= now) {
            return Err(TokenProblem::Expired);
        }
        if nbf
            .flatten()
            .is_some_and(|nbf| nbf > now.saturating_add(self.leeway))
        {
            return Err(TokenProblem::NotYetValid);
        }
        // `"iss": null` counts as present here: it is not a StringOrURI either.
        match claims.get("iss") {
            None => {}
            Some(Value::String(iss)) if self.issuers.is_empty() || self.issuers.contains(iss) => {}
            Some(_) => return Err(TokenProblem::WrongIssuer),
        }
        let accepted = |name: &Value| {
            name.as_str()
                .is_some_and(|name| self.audiences.iter().any(|ours| ours == name))
        };
        match aud {
            None => Ok(()),
            Some(name @ Value::String(_)) if accepted(name) => Ok(()),
            Some(Value::Array(names)) if names.iter().any(accepted) => Ok(()),
            Some(_) => Err(TokenProblem::WrongAudience),
        }
    }
}

/// A string, or an array of strings: what jsonwebtoken parses `iss` and `aud` as.
fn is_string_or_strings(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn rules(issuers: &[&str], audiences: &[&str]) -> RegisteredClaims {
        let owned = |names: &[&str]| names.iter().map(|&n| n.to_owned()).collect::<Vec<_>>();
        RegisteredClaims::new(Duration::from_secs(30), owned(issuers), owned(audiences))
    }

    fn check(rules: &RegisteredClaims, claims: Value) -> Result<(), TokenProblem> {
        let claims = claims.as_object().cloned().unwrap_or_default();
        rules.check(&claims, NOW)
    }

    #[test]
    fn exp_is_required_and_any_json_number() {
        let rules = rules(&[], &[]);
        for good in [
            json!(NOW + 60),
            json!((NOW + 60) as f64 + 0.4),
            json!(NOW - 29),
        ] {
            assert_eq!(check(&rules, json!({ "exp": good })), Ok(()), "{good}");
        }
        for missing in [json!({}), json!({ "exp": null }), json!({ "exp": "soon" })] {
            assert_eq!(check(&rules, missing), Err(TokenProblem::MissingClaim));
        }
        // Any JSON number is a NumericDate: before the epoch is long past, 1e300 far ahead.
        assert_eq!(
            check(&rules, json!({ "exp": -1 })),
            Err(TokenProblem::Expired)
        );
        assert_eq!(
            check(&rules, json!({ "exp": -1.5e300 })),
            Err(TokenProblem::Expired)
        );
        assert_eq!(check(&rules, json!({ "exp": 1e300 })), Ok(()));
        for bad in [json!([NOW]), json!(true), json!({})] {
            assert_eq!(
                check(&rules, json!({ "exp": bad })),
                Err(TokenProblem::MissingClaim),
                "{bad}"
            );
        }
        assert_eq!(
            check(&rules, json!({ "exp": NOW - 30 })),
            Err(TokenProblem::Expired)
        );
    }

    #[test]
    fn nbf_is_optional_but_checked_with_the_leeway() {
        let rules = rules(&[], &[]);
        let exp = NOW + 600;
        assert_eq!(
            check(&rules, json!({ "exp": exp, "nbf": NOW + 30 })),
            Ok(())
        );
        assert_eq!(
            check(&rules, json!({ "exp": exp, "nbf": NOW + 31 })),
            Err(TokenProblem::NotYetValid)
        );
        assert_eq!(
            check(&rules, json!({ "exp": exp, "nbf": "later" })),
            Err(TokenProblem::Malformed)
        );
        assert_eq!(check(&rules, json!({ "exp": exp, "nbf": -5 })), Ok(()));
        assert_eq!(
            check(&rules, json!({ "exp": exp, "nbf": 1e300 })),
            Err(TokenProblem::NotYetValid)
        );
        assert_eq!(check(&rules, json!({ "exp": exp, "nbf": null })), Ok(()));
    }

    #[test]
    fn iss_is_one_string_and_required_once_configured() {
        let exp = NOW + 600;
        let open = rules(&[], &[]);
        assert_eq!(check(&open, json!({ "exp": exp, "iss": "anyone" })), Ok(()));
        for bad in [json!(["a"]), json!(1), json!(null)] {
            assert_eq!(
                check(&open, json!({ "exp": exp, "iss": bad })),
                Err(TokenProblem::WrongIssuer),
                "{bad}"
            );
        }
        let ours = rules(&["https://ours"], &[]);
        assert_eq!(
            check(&ours, json!({ "exp": exp, "iss": "https://ours" })),
            Ok(())
        );
        for bad in [
            json!({ "exp": exp }),
            json!({ "exp": exp, "iss": "https://evil" }),
            json!({ "exp": exp, "iss": ["https://evil", "https://ours"] }),
        ] {
            assert_eq!(check(&ours, bad), Err(TokenProblem::WrongIssuer));
        }
    }

    #[test]
    fn aud_must_name_us_or_be_absent() {
        let exp = NOW + 600;
        let none = rules(&[], &[]);
        assert_eq!(check(&none, json!({ "exp": exp, "aud": null })), Ok(()));
        for any in [json!("api"), json!([]), json!(["api"]), json!(5)] {
            assert_eq!(
                check(&none, json!({ "exp": exp, "aud": any })),
                Err(TokenProblem::WrongAudience),
                "{any}"
            );
        }
        let api = rules(&[], &["api"]);
        for good in [json!("api"), json!(["other", "api"])] {
            assert_eq!(check(&api, json!({ "exp": exp, "aud": good })), Ok(()));
        }
        for bad in [
            json!(null),
            json!("other"),
            json!([]),
            json!(["api", 5]),
            json!({ "api": true }),
        ] {
            assert_eq!(
                check(&api, json!({ "exp": exp, "aud": bad })),
                Err(TokenProblem::WrongAudience),
                "{bad}"
            );
        }
    }

    #[test]
    fn problems_are_reported_in_jsonwebtokens_order() {
        let rules = rules(&["https://ours"], &["api"]);
        // A missing required claim before an expired one; expiry before a wrong issuer.
        assert_eq!(
            check(&rules, json!({ "exp": NOW - 600, "aud": "api" })),
            Err(TokenProblem::WrongIssuer)
        );
        assert_eq!(
            check(
                &rules,
                json!({ "exp": NOW - 600, "iss": "https://evil", "aud": "api" })
            ),
            Err(TokenProblem::Expired)
        );
        assert_eq!(
            check(
                &rules,
                json!({ "exp": NOW + 600, "iss": "https://evil", "aud": "evil" })
            ),
            Err(TokenProblem::WrongIssuer)
        );
    }
}
