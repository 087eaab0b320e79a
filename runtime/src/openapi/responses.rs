//! The refusals a guarded operation can answer, as OpenAPI responses.

use serde_json::{Value, json};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{RefOr, Response, schema::Schema};

use super::facts::Alternative;
use super::schemes::Scheme;

/// The schema of the default refusal bodies, in `components.schemas`.
pub(crate) const PROBLEM: &str = "RouteGuardProblem";

/// The RFC 9457 problem document every refusal carries (unless the application renders its
/// own, see `RouteGuardBuilder::render_errors`).
pub(crate) fn problem_schema() -> Option<RefOr<Schema>> {
    let text = json!({ "type": "string" });
    let schema = json!({
        "type": "object",
        "description": "An RFC 9457 problem document; `detail` never echoes credentials.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": text, "title": text, "detail": text,
            "status": { "type": "integer", "format": "int32" },
        },
    });
    serde_json::from_value(schema).ok()
}

/// What may refuse a request on an operation: each guard's alternatives and whether it hides.
pub(crate) struct Refusals<'a> {
    pub(crate) guards: &'a [(Vec<Alternative>, bool)],
    pub(crate) schemes: &'a [Scheme],
}

/// What one guard can answer.
#[derive(Default)]
struct Answers {
    credentials: bool,
    unauthorized: bool,
    forbidden: bool,
    scope_challenge: bool,
    not_found: bool,
}

impl Answers {
    fn of(alternatives: &[Alternative], hide: bool) -> Answers {
        let credentials = alternatives.iter().any(|a| a.credentials);
        // Anyone may pass (`MaybeAuthenticated`): only credentials that fail are refused.
        let open = |a: &Alternative| !a.credentials && a.conditions.is_empty();
        if alternatives.iter().any(open) {
            return Answers {
                credentials,
                unauthorized: credentials,
                ..Answers::default()
            };
        }
        let bare = |a: &Alternative| a.credentials && a.names.is_empty() && a.conditions.is_empty();
        let forbidden = !alternatives.iter().any(bare);
        let scopes = alternatives
            .iter()
            .any(|a| a.names.iter().any(|n| n.kind == "scope"));
        Answers {
            credentials,
            unauthorized: credentials && !hide,
            forbidden: forbidden && !hide,
            scope_challenge: scopes && forbidden && !hide,
            not_found: hide && (credentials || forbidden),
        }
    }

    fn or(self, other: Answers) -> Answers {
        Answers {
            credentials: self.credentials || other.credentials,
            unauthorized: self.unauthorized || other.unauthorized,
            forbidden: self.forbidden || other.forbidden,
            scope_challenge: self.scope_challenge || other.scope_challenge,
            not_found: self.not_found || other.not_found,
        }
    }
}

impl Refusals<'_> {
    /// Adds the responses the guards can answer to `operation`, leaving alone those it
    /// declares itself.
    pub(crate) fn add_to(&self, operation: &mut Operation) {
        let answers = self
            .guards
            .iter()
            .fold(Answers::default(), |all, (alternatives, hide)| {
                all.or(Answers::of(alternatives, *hide))
            });
        let mut add = |status: &str, response: Value| {
            let responses = &mut operation.responses.responses;
            if !responses.contains_key(status)
                && let Ok(response) = serde_json::from_value::<Response>(response)
            {
                responses.insert(status.to_owned(), RefOr::T(response));
            }
        };
        if answers.credentials {
            add("400", self.bad_request());
        }
        if answers.unauthorized {
            add("401", self.unauthorized());
        }
        if answers.forbidden {
            add("403", self.forbidden(answers.scope_challenge));
        }
        if answers.not_found {
            add(
                "404",
                refusal(
                    "Not Found: the route answers 404 to every caller its rule does not admit.",
                    None,
                ),
            );
        }
        if answers.credentials && self.schemes.iter().any(|s| s.throttled) {
            add("429", throttled());
        }
        if answers.credentials && self.schemes.iter().any(|s| s.may_be_unavailable) {
            add("503", unavailable());
        }
    }

    fn challenges(&self) -> String {
        let each: Vec<String> = self
            .schemes
            .iter()
            .map(|s| format!("`{}`", s.challenge))
            .collect();
        each.join(", ")
    }

    fn unauthorized(&self) -> Value {
        let header = format!(
            "One challenge per accepted scheme: {}; a refused token's adds `error=\"invalid_token\"`.",
            self.challenges()
        );
        refusal(
            "Unauthorized: credentials are missing, malformed, expired or wrong.",
            Some(header),
        )
    }

    fn bad_request(&self) -> Value {
        refusal(
            "Bad Request: credentials were sent twice (two `Authorization` lines, a token in the header and the query).",
            Some("The deciding scheme's challenge, with `error=\"invalid_request\"`.".to_owned()),
        )
    }

    fn forbidden(&self, scopes: bool) -> Value {
        let header = scopes.then(|| {
            "Only when a required scope is missing: `Bearer` with `error=\"insufficient_scope\"` and the `scope` the rule needs.".to_owned()
        });
        refusal(
            "Forbidden: the caller is known but not allowed, or the client's address or country is refused.",
            header,
        )
    }
}

/// A refusal with the problem body and, if `challenge` says what it holds, the
/// `WWW-Authenticate` header.
fn refusal(description: &str, challenge: Option<String>) -> Value {
    let headers = challenge.map(|challenge| {
        json!({ "WWW-Authenticate": { "schema": { "type": "string" }, "description": challenge } })
    });
    with_headers(description, headers)
}

fn with_headers(description: &str, headers: Option<Value>) -> Value {
    let mut response = json!({
        "description": description,
        "content": { "application/problem+json": {
            "schema": { "$ref": format!("#/components/schemas/{PROBLEM}") },
        }},
    });
    if let (Some(headers), Some(fields)) = (headers, response.as_object_mut()) {
        fields.insert("headers".to_owned(), headers);
    }
    response
}

fn throttled() -> Value {
    let retry_after = json!({ "Retry-After": {
        "schema": { "type": "integer", "format": "int32" },
        "description": "Seconds until the lock ends.",
    }});
    with_headers(
        "Too Many Requests: too many failed logins for this user name or from this address; no password is checked until the lock ends.",
        Some(retry_after),
    )
}

fn unavailable() -> Value {
    let retry_after = json!({ "Retry-After": {
        "schema": { "type": "integer", "format": "int32" },
        "description": "Seconds to wait before trying again.",
    }});
    with_headers(
        "Service Unavailable: a dependency the credentials are checked against (the key server, the user store, the shared revocation store) is down.",
        Some(retry_after),
    )
}
