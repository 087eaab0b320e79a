//! Decision events: what a guard decided on one request, handed to the application's hook.

use std::fmt;
use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::refusal::{Cause, Denial, Misconfiguration, ProofProblem, RequestProblem, TokenProblem};

/// How a guard decided a request: the `result` of every metric, event and span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The handler runs.
    Granted,
    /// 401: no credentials, or unusable ones.
    Unauthenticated,
    /// 403 (or 404 on a route that hides itself): the caller, or their address, is not allowed.
    Forbidden,
    /// 400: credentials sent twice.
    BadRequest,
    /// 503: a dependency the guard needs is down.
    Unavailable,
    /// 429: too many failed logins for the user name or the client address.
    Throttled,
    /// 500: the server is misconfigured or a predicate failed.
    Error,
}

impl Outcome {
    /// The outcome of refusing with `denial`.
    #[must_use]
    pub fn of(denial: Denial) -> Outcome {
        match denial {
            Denial::MissingCredentials
            | Denial::UnsupportedScheme
            | Denial::InvalidToken(_)
            | Denial::InvalidProof(_)
            | Denial::InsufficientUserAuthentication(_) => Outcome::Unauthenticated,
            Denial::InvalidRequest(_) => Outcome::BadRequest,
            Denial::Forbidden | Denial::NotFound | Denial::InsufficientScope(_) => {
                Outcome::Forbidden
            }
            Denial::Unavailable { .. } => Outcome::Unavailable,
            Denial::TooManyAttempts { .. } => Outcome::Throttled,
            Denial::Misconfigured(_) | Denial::PolicyFailed => Outcome::Error,
        }
    }

    /// Its label: `granted`, `unauthenticated`, `forbidden`, `bad_request`, `unavailable` or
    /// `error`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Granted => "granted",
            Outcome::Unauthenticated => "unauthenticated",
            Outcome::Forbidden => "forbidden",
            Outcome::BadRequest => "bad_request",
            Outcome::Unavailable => "unavailable",
            Outcome::Throttled => "throttled",
            Outcome::Error => "error",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request was refused, as a stable snake_case label (`expired`, `missing_credentials`,
/// `address_rule`, …); `none` for a granted one. See the table in [`crate::observe`].
pub(crate) fn reason(denial: Option<Denial>, cause: Option<Cause>) -> &'static str {
    let Some(denial) = denial else {
        return "none";
    };
    match denial {
        Denial::MissingCredentials => "missing_credentials",
        Denial::UnsupportedScheme => "unsupported_scheme",
        Denial::InvalidToken(problem) => token_problem(problem),
        Denial::InvalidProof(problem) => proof_problem(problem),
        Denial::InvalidRequest(problem) => match problem {
            RequestProblem::DuplicateAuthorization => "duplicate_authorization",
            RequestProblem::TokenInSeveralPlaces => "token_in_several_places",
            RequestProblem::DuplicateKeyHeader => "duplicate_key_header",
        },
        Denial::Forbidden | Denial::NotFound if cause == Some(Cause::Address) => "address_rule",
        Denial::Forbidden | Denial::NotFound => "rule",
        Denial::InsufficientScope(_) => "insufficient_scope",
        Denial::InsufficientUserAuthentication(_) => "insufficient_user_authentication",
        Denial::PolicyFailed => "policy_failed",
        Denial::Misconfigured(Misconfiguration::NoRouteGuard) => "no_route_guard",
        Denial::Misconfigured(Misconfiguration::NoCountryResolver) => "no_country_resolver",
        Denial::Misconfigured(Misconfiguration::NoSuchScheme) => "no_such_scheme",
        Denial::Unavailable { .. } => "unavailable",
        Denial::TooManyAttempts { .. } => "too_many_attempts",
    }
}

fn proof_problem(problem: ProofProblem) -> &'static str {
    match problem {
        ProofProblem::Missing => "dpop_missing",
        ProofProblem::Malformed => "dpop_malformed",
        ProofProblem::WrongType => "dpop_wrong_type",
        ProofProblem::DisallowedAlgorithm => "dpop_disallowed_algorithm",
        ProofProblem::BadKey => "dpop_bad_key",
        ProofProblem::BadSignature => "dpop_bad_signature",
        ProofProblem::WrongMethod => "dpop_wrong_method",
        ProofProblem::WrongUri => "dpop_wrong_uri",
        ProofProblem::Stale => "dpop_stale",
        ProofProblem::Replayed => "dpop_replayed",
        ProofProblem::WrongTokenHash => "dpop_wrong_token_hash",
        ProofProblem::UseNonce => "dpop_use_nonce",
    }
}

fn token_problem(problem: TokenProblem) -> &'static str {
    match problem {
        TokenProblem::Empty => "empty_token",
        TokenProblem::TooLong => "token_too_long",
        TokenProblem::Malformed => "malformed_token",
        TokenProblem::DisallowedAlgorithm => "disallowed_algorithm",
        TokenProblem::UnknownKey => "unknown_key",
        TokenProblem::UnsupportedCritical => "unsupported_critical",
        TokenProblem::WrongType => "wrong_type",
        TokenProblem::BadSignature => "bad_signature",
        TokenProblem::Expired => "expired",
        TokenProblem::NotYetValid => "not_yet_valid",
        TokenProblem::WrongIssuer => "wrong_issuer",
        TokenProblem::WrongAudience => "wrong_audience",
        TokenProblem::MissingClaim => "missing_claim",
        TokenProblem::UnusableClaims => "unusable_claims",
        TokenProblem::WrongCredentials => "wrong_credentials",
        TokenProblem::KeyBound => "key_bound",
        TokenProblem::Inactive => "inactive_token",
        TokenProblem::Revoked => "revoked_token",
    }
}

/// The OAuth `error` code a refusal carries on the wire (RFC 6750 §3.1), `none` if it carries
/// none.
pub(crate) fn error_code(denial: Option<Denial>) -> &'static str {
    match denial {
        Some(Denial::InvalidToken(_)) => "invalid_token",
        Some(Denial::InvalidRequest(_)) => "invalid_request",
        Some(Denial::InsufficientScope(_)) => "insufficient_scope",
        _ => "none",
    }
}

/// A subject, replaced by a keyed digest: the same caller gets the same pseudonym from every
/// guard built with the same [`pseudonym_key`](crate::RouteGuardBuilder::pseudonym_key), and
/// the subject cannot be read back from it without the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pseudonym([u8; 12]);

impl Pseudonym {
    /// The pseudonym of `subject` of `issuer` under `key`: the first 96 bits of
    /// SHA-256(key ‖ issuer ‖ 0 ‖ subject), the key being 32 bytes.
    pub(crate) fn new(key: &[u8; 32], issuer: &str, subject: &str) -> Self {
        let digest = Sha256::new()
            .chain_update(key)
            .chain_update(issuer)
            .chain_update([0])
            .chain_update(subject)
            .finalize();
        let mut short = [0; 12];
        short.copy_from_slice(digest.get(..12).unwrap_or_default());
        Pseudonym(short)
    }
}

impl fmt::Display for Pseudonym {
    /// 16 base64url characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pseudonym({self})")
    }
}

/// What a guard decided on one request, as the [`OnDecision`] hook receives it.
///
/// It never holds the credentials nor the subject in clear: the caller is a [`Pseudonym`].
pub struct Decision<'a> {
    pub(crate) outcome: Outcome,
    pub(crate) denial: Option<Denial>,
    pub(crate) cause: Option<Cause>,
    pub(crate) policy: &'static str,
    pub(crate) scheme: Option<&'static str>,
    pub(crate) issuer: Option<&'a str>,
    pub(crate) client: Option<IpAddr>,
    pub(crate) subject: Option<Pseudonym>,
    pub(crate) request: &'a HttpRequest,
}

impl<'a> Decision<'a> {
    /// Granted, or how it was refused.
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// Why it was refused; `None` when it was granted.
    #[must_use]
    pub fn denial(&self) -> Option<Denial> {
        self.denial
    }

    /// What refused it; `None` when it was granted.
    #[must_use]
    pub fn cause(&self) -> Option<Cause> {
        self.cause
    }

    /// The status of the decision: 200 for a granted request (the handler may answer
    /// otherwise). On a route with `hide`, the client gets 404 for every refusal; the decision
    /// keeps what the guard found (401 for an expired token), which is what an operator needs.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.denial.map_or(StatusCode::OK, Denial::status)
    }

    /// Why, as the `reason` label of the metrics: `expired`, `rule`, `address_rule`, …;
    /// `none` when granted.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        reason(self.denial, self.cause)
    }

    /// The OAuth `error` code sent to the client (`invalid_token`, `invalid_request`,
    /// `insufficient_scope`), or `none`.
    #[must_use]
    pub fn error_code(&self) -> &'static str {
        error_code(self.denial)
    }

    /// The policy that decided: the one that refused, or the route's first when granted.
    /// See [`Policy::NAME`](crate::Policy::NAME).
    #[must_use]
    pub fn policy(&self) -> &'static str {
        self.policy
    }

    /// The scheme of the authenticator that accepted or refused the credentials (`bearer`,
    /// `basic`, `apikey`, or `custom`); `None` when no authenticator found any.
    #[must_use]
    pub fn scheme(&self) -> Option<&'static str> {
        self.scheme
    }

    /// The `iss` claim of the authenticated caller, if their credentials have one.
    #[must_use]
    pub fn issuer(&self) -> Option<&'a str> {
        self.issuer
    }

    /// The client address as address rules see it (behind the trusted proxies); `None` when
    /// it cannot be known.
    #[must_use]
    pub fn client(&self) -> Option<IpAddr> {
        self.client
    }

    /// The authenticated caller, pseudonymised; `None` before authentication.
    #[must_use]
    pub fn subject(&self) -> Option<Pseudonym> {
        self.subject
    }

    /// The request: its method, path and route.
    #[must_use]
    pub fn request(&self) -> &'a HttpRequest {
        self.request
    }
}

impl fmt::Debug for Decision<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decision")
            .field("outcome", &self.outcome)
            .field("reason", &self.reason())
            .field("policy", &self.policy)
            .field("scheme", &self.scheme)
            .field("issuer", &self.issuer)
            .field("client", &self.client)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Receives the guard's decisions: refusals, and grants too with
/// [`report_grants`](crate::RouteGuardBuilder::report_grants). Any
/// `Fn(&Decision<'_>)` closure is a hook.
///
/// It runs on the request's thread before the response is sent: keep it short (write a log
/// line, send to a channel). A hook that panics is logged and does not change the response.
pub trait OnDecision: Send + Sync + 'static {
    /// Called once per decision of a guard.
    fn decided(&self, decision: &Decision<'_>);
}

impl<F> OnDecision for F
where
    F: Fn(&Decision<'_>) + Send + Sync + 'static,
{
    fn decided(&self, decision: &Decision<'_>) {
        self(decision);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_depend_on_key_issuer_and_subject_and_hide_them() {
        let key = [7; 32];
        let alice = Pseudonym::new(&key, "https://a", "alice");
        assert_eq!(alice, Pseudonym::new(&key, "https://a", "alice"));
        assert_ne!(alice, Pseudonym::new(&[8; 32], "https://a", "alice"));
        assert_ne!(alice, Pseudonym::new(&key, "https://b", "alice"));
        assert_ne!(alice, Pseudonym::new(&key, "https://a", "alicf"));
        // The separator keeps issuer and subject apart: ("ab", "c") is not ("a", "bc").
        assert_ne!(
            Pseudonym::new(&key, "ab", "c"),
            Pseudonym::new(&key, "a", "bc")
        );
        let shown = alice.to_string();
        assert_eq!(shown.len(), 16);
        assert!(!shown.contains("alice"));
    }

    #[test]
    fn every_denial_has_its_own_reason_and_outcome() {
        use std::collections::HashSet;
        let denials = [
            Denial::MissingCredentials,
            Denial::UnsupportedScheme,
            Denial::InvalidToken(TokenProblem::Expired),
            Denial::InvalidToken(TokenProblem::BadSignature),
            Denial::InvalidRequest(RequestProblem::DuplicateAuthorization),
            Denial::InsufficientScope("read"),
            Denial::PolicyFailed,
            Denial::Misconfigured(Misconfiguration::NoRouteGuard),
            Denial::Unavailable {
                retry_after_secs: 5,
            },
        ];
        let reasons: HashSet<_> = denials.iter().map(|d| reason(Some(*d), None)).collect();
        assert_eq!(reasons.len(), denials.len());
        assert_eq!(reason(Some(Denial::Forbidden), Some(Cause::Rule)), "rule");
        assert_eq!(
            reason(Some(Denial::Forbidden), Some(Cause::Address)),
            "address_rule"
        );
        assert_eq!(reason(None, None), "none");
        assert_eq!(Outcome::of(Denial::NotFound), Outcome::Forbidden);
        assert_eq!(
            error_code(Some(Denial::InvalidToken(TokenProblem::Expired))),
            "invalid_token"
        );
        assert_eq!(error_code(Some(Denial::Forbidden)), "none");
    }

    /// The metrics cache a counter per policy and reason: that holds only if the reason alone
    /// decides the result and the error code.
    #[test]
    fn the_reason_decides_the_result_and_the_error_code() {
        use std::collections::HashMap;
        let mut denials = vec![
            Denial::MissingCredentials,
            Denial::UnsupportedScheme,
            Denial::Forbidden,
            Denial::NotFound,
            Denial::InsufficientScope("read"),
            Denial::PolicyFailed,
            Denial::Misconfigured(Misconfiguration::NoRouteGuard),
            Denial::Misconfigured(Misconfiguration::NoCountryResolver),
            Denial::Unavailable {
                retry_after_secs: 1,
            },
            Denial::TooManyAttempts {
                retry_after_secs: 1,
            },
        ];
        denials.extend(
            [
                TokenProblem::Empty,
                TokenProblem::TooLong,
                TokenProblem::Malformed,
                TokenProblem::DisallowedAlgorithm,
                TokenProblem::UnknownKey,
                TokenProblem::UnsupportedCritical,
                TokenProblem::WrongType,
                TokenProblem::BadSignature,
                TokenProblem::Expired,
                TokenProblem::NotYetValid,
                TokenProblem::WrongIssuer,
                TokenProblem::WrongAudience,
                TokenProblem::MissingClaim,
                TokenProblem::UnusableClaims,
                TokenProblem::WrongCredentials,
                TokenProblem::Revoked,
            ]
            .map(Denial::InvalidToken),
        );
        denials.extend(
            [
                RequestProblem::DuplicateAuthorization,
                RequestProblem::TokenInSeveralPlaces,
                RequestProblem::DuplicateKeyHeader,
            ]
            .map(Denial::InvalidRequest),
        );
        let causes = [
            None,
            Some(Cause::Credentials),
            Some(Cause::Rule),
            Some(Cause::Address),
            Some(Cause::Server),
        ];
        let mut seen = HashMap::new();
        seen.insert("none", (Outcome::Granted, "none"));
        for denial in denials {
            for cause in causes {
                let labels = (Outcome::of(denial), error_code(Some(denial)));
                let first = *seen.entry(reason(Some(denial), cause)).or_insert(labels);
                assert_eq!(first, labels, "{denial:?} {cause:?}");
            }
        }
    }
}
