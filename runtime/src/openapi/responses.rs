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

/// What may refuse a request on an operation.
pub(crate) struct Refusals<'a> {
    pub(crate) alternatives: &'a [Alternative],
    pub(crate) schemes: &'a [Scheme],
    /// Every guard on the operation hides it (404 instead of 401 and 403).
    pub(crate) hide_all: bool,
    /// Some guard hides it.
    pub(crate) hide_any: bool,
}

impl Refusals<'_> {
    /// Adds the responses the guard can answer to `operation`, leaving alone those it
    /// declares itself.
    pub(crate) fn add_to(&self, operation: &mut Operation) {
        let alternatives = self.alternatives;
        let open = |a: &Alternative| !a.credentials && a.conditions.is_empty();
        if alternatives.iter().any(open) {
            return;
        }
        let credentials = alternatives.iter().any(|a| a.credentials);
        let bare = |a: &Alternative| a.credentials && a.names.is_empty() && a.conditions.is_empty();
        let forbidden = !alternatives.iter().any(bare);
        let scopes = alternatives
            .iter()
            .any(|a| a.names.iter().any(|n| n.kind == "scope"));
        let mut add = |status: &str, response: Value| {
            let responses = &mut operation.responses.responses;
            if !responses.contains_key(status)
                && let Ok(response) = serde_json::from_value::<Response>(response)
            {
                responses.insert(status.to_owned(), RefOr::T(response));
            }
        };
        if credentials {
            add("400", self.bad_request());
        }
        if credentials && !self.hide_all {
            add("401", self.unauthorized());
        }
        if forbidden && !self.hide_all {
            add("403", self.forbidden(scopes));
        }
        if self.hide_any {
            add(
                "404",
                refusal(
                    "Not Found: the route answers 404 to every caller its rule does not admit.",
                    None,
                ),
            );
        }
        if credentials && self.schemes.iter().any(|s| s.may_be_unavailable) {
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
    let mut response = json!({
        "description": description,
        "content": { "application/problem+json": {
            "schema": { "$ref": format!("#/components/schemas/{PROBLEM}") },
        }},
    });
    if let Some(challenge) = challenge {
        response["headers"] = json!({
            "WWW-Authenticate": { "schema": { "type": "string" }, "description": challenge },
        });
    }
    response
}

fn unavailable() -> Value {
    let mut response = refusal(
        "Service Unavailable: a dependency the credentials are checked against (the key server, the user store) is down.",
        None,
    );
    response["headers"] = json!({
        "Retry-After": {
            "schema": { "type": "integer", "format": "int32" },
            "description": "Seconds to wait before trying again.",
        },
    });
    response
}
