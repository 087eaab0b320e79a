//! What a denied request looks like on the wire.
//!
//! Every refusal is a [`GuardError`]: a [`Denial`] saying why, plus the `WWW-Authenticate`
//! challenge the registered authenticator renders for it. The body is an RFC 9457
//! `application/problem+json` document whose `detail` stays generic: the token, the secret and
//! internal error text go to the server log, never to the client.

pub(crate) mod render;

pub use render::{Cause, Refusal, RenderRefusal};

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::refusal::render::Rendered;

/// Why a guard refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denial {
    /// No credentials at all: 401 with a bare challenge (RFC 6750 §3.1).
    MissingCredentials,
    /// Credentials in a scheme no authenticator accepts, such as `Basic` on a bearer route or
    /// a raw JWT without `Bearer `: 401 with a bare challenge, as if none had been sent.
    UnsupportedScheme,
    /// Credentials were presented but cannot be used: 401 with `error="invalid_token"`.
    InvalidToken(TokenProblem),
    /// The request itself is malformed: 400 with `error="invalid_request"`.
    InvalidRequest(RequestProblem),
    /// A DPoP proof that does not prove possession of the token's key for this request: 401
    /// with `error="invalid_dpop_proof"` in the `DPoP` challenge (RFC 9449 §7.1).
    InvalidProof(ProofProblem),
    /// The caller is authenticated but the route's rule does not allow them: 403.
    Forbidden,
    /// Forbidden, on a route that hides its existence: 404 (RFC 9110 §15.5.4 allows it).
    NotFound,
    /// The rule needs OAuth scopes the credential lacks: 403 with
    /// `error="insufficient_scope"` and the scopes the route names (RFC 6750 §3.1).
    InsufficientScope(&'static str),
    /// The rule needs a stronger or more recent login than the one behind the token
    /// (`acr(..)`, `max_age(..)`): 401 with `error="insufficient_user_authentication"` and the
    /// `acr_values` and `max_age` the client must ask its authorization server for (RFC 9470).
    InsufficientUserAuthentication(&'static StepUp),
    /// An application predicate failed to decide (e.g. its database is down): 500, with the
    /// error in the log only. The guard fails closed.
    PolicyFailed,
    /// The server cannot decide: 500, with the reason in the log only.
    Misconfigured(Misconfiguration),
    /// Credentials cannot be checked right now, e.g. no signing key could be fetched from the
    /// identity provider yet, or the user store is down: 503 with `Retry-After` (RFC 9110
    /// §15.6.4), never a 401 that would blame valid credentials.
    Unavailable {
        /// Seconds the client should wait before retrying.
        retry_after_secs: u32,
    },
    /// Too many failed logins for this user name or from this client address: 429 with
    /// `Retry-After` (RFC 6585 §4), answered before the password is checked, the same for
    /// known and unknown users. See [`Lockout`](crate::store::Lockout).
    TooManyAttempts {
        /// Seconds until the lock ends.
        retry_after_secs: u32,
    },
}

/// Why presented credentials could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenProblem {
    /// `Bearer` followed by nothing.
    Empty,
    /// Longer than the configured cap; refused before any decoding.
    TooLong,
    /// Not a compact JWS: wrong characters, not three segments, bad base64 or JSON.
    Malformed,
    /// The header names an algorithm the key for it does not allow.
    DisallowedAlgorithm,
    /// No configured key matches the token's `kid` and `alg`.
    UnknownKey,
    /// The header lists `crit` extensions this server does not implement (RFC 7515 §4.1.11).
    UnsupportedCritical,
    /// The header's `typ` is not one this issuer's policy accepts (RFC 8725 §3.11).
    WrongType,
    /// The signature does not verify.
    BadSignature,
    /// `exp` is in the past, beyond the leeway.
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    NotYetValid,
    /// `iss` is missing or not the configured issuer.
    WrongIssuer,
    /// `aud` is missing or names none of the configured audiences.
    WrongAudience,
    /// A claim the server requires (`exp`, `sub`) is missing or of the wrong type.
    MissingClaim,
    /// The claims do not fit the application's claims type.
    UnusableClaims,
    /// A user name and password, or an API key, that match no known account. Unknown users and
    /// wrong passwords are told apart only in the server log.
    WrongCredentials,
    /// A token bound to a key (`cnf.jkt`, RFC 9449) sent as a plain bearer token, or sent with
    /// a proof of another key.
    KeyBound,
    /// The issuer's introspection endpoint says the token is not active (RFC 7662 §2.2):
    /// revoked, expired, unknown to it, or not a token at all.
    Inactive,
    /// The token was revoked (by its `jti`, or its subject logged out everywhere after it was
    /// issued): see [`Revocations`](crate::store::Revocations).
    Revoked,
}

impl TokenProblem {
    /// The `error_description` sent with `error="invalid_token"`. Plain ASCII without quotes or
    /// backslashes, as RFC 6750 §3 requires.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            TokenProblem::Empty => "The access token is empty",
            TokenProblem::TooLong => "The access token is too long",
            TokenProblem::Malformed => "The access token is malformed",
            TokenProblem::DisallowedAlgorithm => "The token algorithm is not accepted",
            TokenProblem::UnknownKey => "The token was signed with an unknown key",
            TokenProblem::UnsupportedCritical => "The token uses an unsupported critical header",
            TokenProblem::WrongType => "The token type is not accepted",
            TokenProblem::BadSignature => "The token signature is invalid",
            TokenProblem::Expired => "The access token expired",
            TokenProblem::NotYetValid => "The access token is not yet valid",
            TokenProblem::WrongIssuer => "The token issuer is not accepted",
            TokenProblem::WrongAudience => "The token audience is not accepted",
            TokenProblem::MissingClaim => "The token lacks a required claim",
            TokenProblem::UnusableClaims => "The token claims are not usable",
            TokenProblem::WrongCredentials => "The credentials are not valid",
            TokenProblem::KeyBound => "The access token is bound to another key or to DPoP",
            TokenProblem::Inactive => "The access token is not active",
            TokenProblem::Revoked => "The access token was revoked",
        }
    }
}

/// Why a DPoP proof (RFC 9449 §4.3) was refused: 401 with `error="invalid_dpop_proof"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofProblem {
    /// No `DPoP` header with a `DPoP` authorization, or more than one.
    Missing,
    /// Not a compact JWS with a JSON header and claims, or a claim of the wrong type.
    Malformed,
    /// `typ` is not `dpop+jwt`.
    WrongType,
    /// `alg` is symmetric, `none`, not on the accepted list, or not the key's.
    DisallowedAlgorithm,
    /// `jwk` is missing, not a public key (a private member in it), or unusable.
    BadKey,
    /// The signature does not verify with `jwk`.
    BadSignature,
    /// `htm` is not the request's method.
    WrongMethod,
    /// `htu` is not the request's URI.
    WrongUri,
    /// `iat` is missing or outside the accepted window.
    Stale,
    /// `jti` is missing, or was used before within the window.
    Replayed,
    /// `ath` is missing or not the hash of the access token.
    WrongTokenHash,
    /// The server asks for nonces and `nonce` is missing or no longer current: 401 with
    /// `error="use_dpop_nonce"` and a fresh one in `DPoP-Nonce` (RFC 9449 §8).
    UseNonce,
}

impl ProofProblem {
    /// The `error_description` sent with `error="invalid_dpop_proof"`.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            ProofProblem::Missing => "Exactly one DPoP proof is required",
            ProofProblem::Malformed => "The DPoP proof is malformed",
            ProofProblem::WrongType => "The DPoP proof type is not dpop+jwt",
            ProofProblem::DisallowedAlgorithm => "The DPoP proof algorithm is not accepted",
            ProofProblem::BadKey => "The DPoP proof key is not a usable public key",
            ProofProblem::BadSignature => "The DPoP proof signature is invalid",
            ProofProblem::WrongMethod => "The DPoP proof is for another method",
            ProofProblem::WrongUri => "The DPoP proof is for another URI",
            ProofProblem::Stale => "The DPoP proof is not fresh",
            ProofProblem::Replayed => "The DPoP proof was used before",
            ProofProblem::WrongTokenHash => "The DPoP proof is for another access token",
            ProofProblem::UseNonce => "The DPoP proof must carry the nonce the server gave",
        }
    }
}

/// Why a request is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestProblem {
    /// More than one `Authorization` header line (RFC 9110 §5.3: it is not a list field).
    DuplicateAuthorization,
    /// A token in the header and in the query string at once (RFC 6750 §2).
    TokenInSeveralPlaces,
    /// The header an API key is read from was sent more than once.
    DuplicateKeyHeader,
}

impl RequestProblem {
    /// The `error_description` sent with `error="invalid_request"`.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            RequestProblem::DuplicateAuthorization => "More than one Authorization header",
            RequestProblem::TokenInSeveralPlaces => {
                "The access token was sent in more than one place"
            }
            RequestProblem::DuplicateKeyHeader => "More than one API key header",
        }
    }
}

/// What an `insufficient_user_authentication` challenge asks for (RFC 9470 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepUp {
    /// The authentication contexts the route accepts, space-separated; empty if it names none.
    pub acr_values: &'static str,
    /// The most seconds since the login that the route accepts.
    pub max_age: Option<u32>,
}

impl StepUp {
    /// Whether there is anything to ask for.
    pub(crate) fn asks_anything(&self) -> bool {
        !self.acr_values.is_empty() || self.max_age.is_some()
    }
}

/// What the server lacks to decide on a guarded request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misconfiguration {
    /// No [`RouteGuard`](crate::RouteGuard) was registered with `App::app_data`.
    NoRouteGuard,
    /// A country rule is in force but no [`CountryResolver`](crate::CountryResolver) is
    /// registered.
    NoCountryResolver,
    /// A rule accepts only schemes (`scheme("..")`) that no authenticator of the guard has.
    NoSuchScheme,
}

impl Denial {
    /// The HTTP status this denial answers with.
    #[must_use]
    pub fn status(self) -> StatusCode {
        match self {
            Denial::MissingCredentials
            | Denial::UnsupportedScheme
            | Denial::InvalidToken(_)
            | Denial::InvalidProof(_)
            | Denial::InsufficientUserAuthentication(_) => StatusCode::UNAUTHORIZED,
            Denial::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Denial::Forbidden | Denial::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Denial::NotFound => StatusCode::NOT_FOUND,
            Denial::Misconfigured(_) | Denial::PolicyFailed => StatusCode::INTERNAL_SERVER_ERROR,
            Denial::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Denial::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The problem document's `detail`: generic on purpose.
    fn detail(self) -> &'static str {
        match self {
            Denial::MissingCredentials | Denial::UnsupportedScheme => {
                "This resource requires authentication."
            }
            Denial::InvalidToken(_) | Denial::InvalidProof(_) => {
                "The credentials presented are not valid."
            }
            Denial::InvalidRequest(_) => "The request's credentials are malformed.",
            Denial::Forbidden => "You are not allowed to access this resource.",
            Denial::NotFound => "The requested resource was not found.",
            Denial::InsufficientScope(_) => {
                "The access token lacks a scope this resource requires."
            }
            Denial::InsufficientUserAuthentication(_) => {
                "This resource requires a stronger or more recent login."
            }
            Denial::Misconfigured(_) | Denial::PolicyFailed => {
                "The server cannot authorize this request."
            }
            Denial::Unavailable { .. } => {
                "The server cannot check credentials right now; retry later."
            }
            Denial::TooManyAttempts { .. } => "Too many failed logins; retry later.",
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denial::MissingCredentials => f.write_str("no credentials"),
            Denial::UnsupportedScheme => f.write_str("credentials in an unsupported scheme"),
            Denial::InvalidToken(problem) => write!(f, "invalid token: {problem:?}"),
            Denial::InvalidProof(problem) => write!(f, "invalid DPoP proof: {problem:?}"),
            Denial::InvalidRequest(problem) => write!(f, "invalid request: {problem:?}"),
            Denial::Forbidden => f.write_str("forbidden by the route's rule"),
            Denial::NotFound => f.write_str("forbidden by the route's rule, answered as not found"),
            Denial::InsufficientScope(scopes) => write!(f, "missing scope among `{scopes}`"),
            Denial::InsufficientUserAuthentication(step_up) => write!(
                f,
                "the login is too weak or too old (acr_values `{}`, max_age {:?})",
                step_up.acr_values, step_up.max_age
            ),
            Denial::PolicyFailed => f.write_str("an application predicate failed"),
            Denial::Unavailable { retry_after_secs } => {
                write!(
                    f,
                    "credentials cannot be checked now; retry in {retry_after_secs} s"
                )
            }
            Denial::TooManyAttempts { retry_after_secs } => write!(
                f,
                "too many failed logins for this user or address; locked for {retry_after_secs} s"
            ),
            Denial::Misconfigured(Misconfiguration::NoRouteGuard) => f.write_str(
                "no RouteGuard registered: add `.app_data(RouteGuard::new(..))` to the App",
            ),
            Denial::Misconfigured(Misconfiguration::NoCountryResolver) => f.write_str(
                "a country rule is in force but no CountryResolver is registered: \
                 add `.countries(..)` to the RouteGuard builder",
            ),
            Denial::Misconfigured(Misconfiguration::NoSuchScheme) => f.write_str(
                "the route's rule accepts only schemes no authenticator of the RouteGuard has: \
                 check the names in `scheme(..)` against the authenticators' names",
            ),
        }
    }
}

/// A refused request: the reason and the challenges to send with it.
///
/// Implements [`ResponseError`], so it renders as the exact response a client must see.
#[derive(Debug, Clone)]
pub struct GuardError {
    denial: Denial,
    challenges: Vec<HeaderValue>,
    /// What few refusals carry besides: boxed, as a refusal travels in every `Result` of the
    /// request path.
    extras: Option<Box<Extras>>,
}

/// The application's own page, and a `DPoP-Nonce` for the client's next proof (RFC 9449 §8).
#[derive(Debug, Clone, Default)]
struct Extras {
    rendered: Option<Rendered>,
    dpop_nonce: Option<HeaderValue>,
}

impl GuardError {
    /// A refusal with an optional `WWW-Authenticate` value.
    #[must_use]
    pub fn new(denial: Denial, challenge: Option<HeaderValue>) -> Self {
        GuardError {
            denial,
            challenges: challenge.into_iter().collect(),
            extras: None,
        }
    }

    /// A refusal with one `WWW-Authenticate` line per accepted scheme (RFC 9110 §11.6.1).
    #[must_use]
    pub fn with_challenges(denial: Denial, challenges: Vec<HeaderValue>) -> Self {
        GuardError {
            denial,
            challenges,
            extras: None,
        }
    }

    /// The error with a `DPoP-Nonce` header for the client's next proof.
    pub(crate) fn with_dpop_nonce(mut self, nonce: Option<HeaderValue>) -> Self {
        if nonce.is_some() {
            self.extras.get_or_insert_with(Box::default).dpop_nonce = nonce;
        }
        self
    }

    /// The error with the application's own page in place of the problem document.
    pub(crate) fn rendered(mut self, rendered: Option<Rendered>) -> Self {
        if rendered.is_some() {
            self.extras.get_or_insert_with(Box::default).rendered = rendered;
        }
        self
    }

    /// Why the request was refused.
    #[must_use]
    pub fn denial(&self) -> Denial {
        self.denial
    }

    /// The first `WWW-Authenticate` value sent with the response, if any.
    #[must_use]
    pub fn challenge(&self) -> Option<&HeaderValue> {
        self.challenges.first()
    }

    /// Every `WWW-Authenticate` value sent with the response, one header line each.
    #[must_use]
    pub fn challenges(&self) -> &[HeaderValue] {
        &self.challenges
    }
}

impl fmt::Display for GuardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.denial, f)
    }
}

impl std::error::Error for GuardError {}

impl ResponseError for GuardError {
    fn status_code(&self) -> StatusCode {
        self.denial.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut response = HttpResponse::build(status);
        let rendered = self
            .extras
            .as_ref()
            .and_then(|extras| extras.rendered.as_ref());
        if let Some(rendered) = rendered {
            for (name, value) in &rendered.headers {
                response.append_header((name.clone(), value.clone()));
            }
        } else {
            response.insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            ));
        }
        for challenge in &self.challenges {
            response.append_header((header::WWW_AUTHENTICATE, challenge.clone()));
        }
        if let Denial::Unavailable { retry_after_secs }
        | Denial::TooManyAttempts { retry_after_secs } = self.denial
        {
            response.insert_header((header::RETRY_AFTER, retry_after_secs));
        }
        if let Some(nonce) = self.extras.as_ref().and_then(|e| e.dpop_nonce.as_ref()) {
            let name = header::HeaderName::from_static("dpop-nonce");
            response.insert_header((name, nonce.clone()));
        }
        match rendered {
            Some(rendered) => response.body(rendered.body.clone()),
            None => response.body(problem_body(status, self.denial.detail())),
        }
    }
}

/// An RFC 9457 problem document. `type` is `about:blank`, so `title` is the status phrase.
fn problem_body(status: StatusCode, detail: &str) -> String {
    serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    })
    .to_string()
}

/// The `DPoP` challenge (RFC 9449 §7.1) for `denial`: the accepted algorithms, and the error
/// for a refused proof or token.
#[must_use]
pub fn dpop_challenge(algs: &str, denial: Denial) -> String {
    let mut challenge = format!("DPoP algs=\"{algs}\"");
    let error = match denial {
        Denial::InvalidProof(ProofProblem::UseNonce) => {
            Some(("use_dpop_nonce", ProofProblem::UseNonce.description()))
        }
        Denial::InvalidProof(problem) => Some(("invalid_dpop_proof", problem.description())),
        Denial::InvalidToken(problem) => Some(("invalid_token", problem.description())),
        Denial::InvalidRequest(problem) => Some(("invalid_request", problem.description())),
        Denial::InsufficientScope(_) => Some((
            "insufficient_scope",
            "The access token lacks a required scope",
        )),
        _ => None,
    };
    if let Some((code, description)) = error {
        challenge.push_str(&format!(
            ", error=\"{code}\", error_description=\"{description}\""
        ));
    }
    if let Denial::InsufficientScope(scopes) = denial
        && !scopes.is_empty()
    {
        challenge.push_str(&format!(", scope=\"{scopes}\""));
    }
    challenge
}

/// Renders a `Bearer` challenge for `denial` (RFC 6750 §3): bare for missing credentials,
/// with `error` and `error_description` when credentials were presented but refused.
#[must_use]
pub fn bearer_challenge(realm: &str, denial: Denial) -> String {
    let error = match denial {
        Denial::InvalidToken(problem) => Some(("invalid_token", problem.description())),
        Denial::InvalidRequest(problem) => Some(("invalid_request", problem.description())),
        Denial::InsufficientScope(_) => Some((
            "insufficient_scope",
            "The access token lacks a required scope",
        )),
        Denial::InsufficientUserAuthentication(_) => Some((
            "insufficient_user_authentication",
            "A stronger or more recent authentication is required",
        )),
        _ => None,
    };
    let mut challenge = format!("Bearer realm=\"{realm}\"");
    if let Some((code, description)) = error {
        challenge.push_str(&format!(
            ", error=\"{code}\", error_description=\"{description}\""
        ));
    }
    // Scope tokens are `%x21 / %x23-5B / %x5D-7E` (RFC 6749 §3.3), so they need no escaping;
    // the macros refuse anything else at compile time.
    if let Denial::InsufficientScope(scopes) = denial
        && !scopes.is_empty()
    {
        challenge.push_str(&format!(", scope=\"{scopes}\""));
    }
    // Context names are checked by the macros as scopes are: no escaping needed.
    if let Denial::InsufficientUserAuthentication(step_up) = denial {
        if !step_up.acr_values.is_empty() {
            challenge.push_str(&format!(", acr_values=\"{}\"", step_up.acr_values));
        }
        if let Some(max_age) = step_up.max_age {
            challenge.push_str(&format!(", max_age=\"{max_age}\""));
        }
    }
    challenge
}
