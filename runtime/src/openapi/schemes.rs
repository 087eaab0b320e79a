//! The guard's authenticators as OpenAPI security schemes.

use serde_json::{Value, json};
use utoipa::openapi::security::SecurityScheme;

use crate::auth::CredentialScheme;
use crate::guard::RouteGuard;
use crate::refusal::Denial;

/// One authenticator of the guard, documented.
pub(crate) struct Scheme {
    /// Its name in `components.securitySchemes`, unique within the guard.
    pub(crate) name: String,
    /// The authenticator's name in the guard, as a rule's `scheme(..)` names it.
    pub(crate) authenticator: String,
    /// A requirement on it lists OAuth scopes only (OpenID Connect); on the others it lists
    /// every name the rule needs, roles included (OpenAPI 3.1 §4.8.30).
    pub(crate) scopes_only: bool,
    pub(crate) definition: SecurityScheme,
    /// Its bare challenge, as a 401 carries it.
    pub(crate) challenge: String,
    pub(crate) may_be_unavailable: bool,
    /// Its failed logins are counted, and may lock a user or an address out (429).
    pub(crate) throttled: bool,
}

/// The guard's authenticators, in the order they are asked.
pub(crate) fn schemes(guard: &RouteGuard) -> Vec<Scheme> {
    let mut found: Vec<Scheme> = Vec::new();
    let chain = guard.chain();
    let all = chain.authenticators.iter().zip(chain.names.iter());
    for (index, (authenticator, chain_name)) in all.enumerate() {
        let scheme = authenticator.scheme();
        let (base, scopes_only, definition) = describe(&scheme);
        let Ok(definition) = serde_json::from_value::<SecurityScheme>(definition) else {
            tracing::warn!(
                ?scheme,
                "route-guard: no OpenAPI security scheme for this authenticator"
            );
            continue;
        };
        let taken = |name: &str| found.iter().any(|s| s.name == name);
        let name = (1..)
            .map(|n| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base}{n}")
                }
            })
            .find(|name| !taken(name))
            .unwrap_or_default();
        found.push(Scheme {
            name,
            authenticator: chain_name.to_string(),
            scopes_only,
            definition,
            challenge: authenticator.challenge(guard.realm(), Denial::MissingCredentials),
            // A token is also checked against the shared revocations, which refuse it with
            // 503 while their store is down.
            may_be_unavailable: authenticator.may_be_unavailable()
                || (matches!(scheme, CredentialScheme::BearerJwt { .. })
                    && guard.revocations_may_be_unavailable()),
            throttled: guard.counts_failures_of(index),
        });
    }
    found
}

/// A scheme's base name, whether its requirements list scopes only, and its definition.
fn describe(scheme: &CredentialScheme) -> (String, bool, Value) {
    match scheme {
        CredentialScheme::BearerJwt {
            openid_issuer: Some(issuer),
        } => {
            let url = format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            );
            let definition = json!({ "type": "openIdConnect", "openIdConnectUrl": url });
            ("openIdConnect".to_owned(), true, definition)
        }
        CredentialScheme::BearerJwt {
            openid_issuer: None,
        } => {
            let definition = json!({ "type": "http", "scheme": "bearer", "bearerFormat": "JWT" });
            ("bearer".to_owned(), false, definition)
        }
        CredentialScheme::BearerOpaque { issuer } => {
            let about = match issuer {
                Some(issuer) => format!(
                    "An opaque access token from {issuer}, checked at its introspection \
                     endpoint (RFC 7662)"
                ),
                None => "An opaque access token, checked at its issuer's introspection \
                         endpoint (RFC 7662)"
                    .to_owned(),
            };
            let definition = json!({ "type": "http", "scheme": "bearer", "description": about });
            ("opaqueBearer".to_owned(), false, definition)
        }
        CredentialScheme::Basic => {
            let definition = json!({ "type": "http", "scheme": "basic" });
            ("basic".to_owned(), false, definition)
        }
        CredentialScheme::ApiKeyHeader(header) => {
            let definition = json!({ "type": "apiKey", "in": "header", "name": header });
            ("apiKey".to_owned(), false, definition)
        }
        // utoipa knows only the registered HTTP schemes by name; any other is documented as
        // what it is on the wire, a value of the `Authorization` header.
        CredentialScheme::Http(name) => {
            let definition = json!({
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": format!("`Authorization: {name} …`"),
            });
            (component_name(name), false, definition)
        }
    }
}

/// `name` as a component name: letters, digits, `.`, `-` and `_` (OpenAPI 3.1 §4.8.7.1).
fn component_name(name: &str) -> String {
    let keep = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    let name: String = name
        .chars()
        .map(|c| if keep(c) { c } else { '_' })
        .collect();
    if name.is_empty() {
        "custom".to_owned()
    } else {
        name.to_ascii_lowercase()
    }
}
