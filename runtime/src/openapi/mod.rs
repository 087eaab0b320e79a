//! OpenAPI documents from the guards (feature `utoipa`).
//!
//! A guard attribute written above `#[utoipa::path(..)]` records its rule in the operation (the
//! extension `x-route-guard`); [`RouteGuard::openapi`] turns those records into the document:
//! each operation's security requirements for the schemes this guard is configured with, the
//! refusals it can answer, and `components.securitySchemes`.

mod facts;
mod responses;
mod schemes;

use actix_web::dev::ResourceDef;
use serde_json::{Value, json};
use utoipa::Modify;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Components, OpenApi};

use self::facts::{Alternative, Malformed, alternatives, rule_json, text};
use self::responses::{PROBLEM, Refusals, problem_schema};
use self::schemes::{Scheme, schemes};
use crate::guard::RouteGuard;
use crate::guard::scope::GuardScope;

/// The extension a guard attribute records its rule in, and the documented rule replaces.
const EXTENSION: &str = "x-route-guard";

impl RouteGuard {
    /// Documents the guarded operations of an OpenAPI document: a [`Modify`] to apply to the
    /// document utoipa generates.
    ///
    /// Each operation whose `#[utoipa::path]` sits below a guard attribute gets, from the rule
    /// and this guard's authenticators:
    ///
    /// - `security`: one requirement per way to pass the rule and accepted scheme, naming what
    ///   the rule needs (`any(..)` gives alternatives; the empty requirement `{}` where a
    ///   caller may pass without credentials, e.g. inside an `ip(..)` range);
    /// - the responses the guard can answer, unless the operation declares them: 400, 401
    ///   (with `WWW-Authenticate`), 403, 404 for `hide`, 503 (with `Retry-After`) where an
    ///   authenticator depends on a key server or a user store, each with a problem+json body;
    /// - `x-route-guard`: the rules, and what they require beyond credentials (address,
    ///   country, predicates, negations), which the description repeats.
    ///
    /// `components.securitySchemes` gets one scheme per authenticator: `bearer` (http, JWT),
    /// `openIdConnect` (for keys discovered from an issuer), `basic`, `apiKey` (its header).
    ///
    /// ```
    /// use route_guard::{JwtAuthenticator, JwtKey, RouteGuard, require_role};
    /// use utoipa::{Modify as _, OpenApi};
    ///
    /// #[require_role("admin")]
    /// #[utoipa::path(get, path = "/admin", responses((status = 200, description = "hi")))]
    /// async fn admin() -> &'static str { "hi" }
    ///
    /// #[derive(OpenApi)]
    /// #[openapi(paths(admin))]
    /// struct ApiDoc;
    ///
    /// let jwt = JwtAuthenticator::builder()
    ///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
    ///     .build()?;
    /// let guard = RouteGuard::new(jwt);
    /// let mut doc = ApiDoc::openapi();
    /// guard.openapi().modify(&mut doc);
    /// let json = serde_json::to_value(&doc)?;
    /// assert_eq!(json["paths"]["/admin"]["get"]["security"], serde_json::json!([{ "bearer": ["admin"] }]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn openapi(&self) -> GuardDocs {
        GuardDocs {
            guard: self.clone(),
            scopes: Vec::new(),
        }
    }
}

/// Documents a guarded application in an OpenAPI document; see [`RouteGuard::openapi`].
#[derive(Debug, Clone)]
#[must_use]
pub struct GuardDocs {
    guard: RouteGuard,
    scopes: Vec<ScopeDoc>,
}

#[derive(Debug, Clone)]
struct ScopeDoc {
    prefix: String,
    rule: Value,
    hide: bool,
    exempt: Vec<ResourceDef>,
}

impl GuardDocs {
    /// Documents `scope`'s rule on every operation of the document under `prefix`, the path
    /// of the `web::scope(prefix)` it wraps, except its exempt paths.
    ///
    /// actix-web does not tell which handlers a scope holds, and utoipa knows operations only
    /// by their documented path: an operation is inside when its path is `prefix` or starts
    /// with `prefix/`.
    pub fn scope(mut self, prefix: &str, scope: &GuardScope) -> Self {
        let policy = scope.policy.0;
        self.scopes.push(ScopeDoc {
            prefix: prefix.trim_end_matches('/').to_owned(),
            rule: rule_json(policy.rule),
            hide: policy.hide,
            exempt: scope.exempt.to_vec(),
        });
        self
    }

    /// The rules of the scopes `path` is inside.
    fn scope_guards(&self, path: &str) -> Vec<(Value, bool)> {
        let inside = |scope: &&ScopeDoc| {
            let rest = path.strip_prefix(scope.prefix.as_str());
            rest.is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                && !scope.exempt.iter().any(|pattern| pattern.is_match(path))
        };
        let scopes = self.scopes.iter().filter(inside);
        scopes
            .map(|scope| (scope.rule.clone(), scope.hide))
            .collect()
    }
}

impl Modify for GuardDocs {
    fn modify(&self, openapi: &mut OpenApi) {
        let schemes = schemes(&self.guard);
        add_components(
            openapi.components.get_or_insert_with(Components::new),
            &schemes,
        );
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                let guards = match recorded(operation) {
                    Ok(Some(recorded)) => [self.scope_guards(path), recorded].concat(),
                    Ok(None) => continue, // documented already, by an earlier `modify`
                    Err(Malformed) => {
                        tracing::warn!(
                            path,
                            "route-guard: `x-route-guard` is not a guard's record; operation left as it is"
                        );
                        continue;
                    }
                };
                document(operation, &guards, &schemes);
            }
        }
    }
}

/// The guard's security schemes and the refusal body's schema, unless the document has
/// components of those names.
fn add_components(components: &mut Components, schemes: &[Scheme]) {
    for scheme in schemes {
        let defined = &mut components.security_schemes;
        if !defined.contains_key(&scheme.name) {
            defined.insert(scheme.name.clone(), scheme.definition.clone());
        }
    }
    if let Some(problem) = problem_schema() {
        let schemas = &mut components.schemas;
        schemas.entry(PROBLEM.to_owned()).or_insert(problem);
    }
}

/// The guards a guard attribute recorded in `operation`, each one's rule and `hide` (none
/// recorded: none); `None` if an earlier `modify` documented it already.
fn recorded(operation: &Operation) -> Result<Option<Vec<(Value, bool)>>, Malformed> {
    let Some(record) = operation.extensions.as_ref().and_then(|e| e.get(EXTENSION)) else {
        return Ok(Some(Vec::new()));
    };
    if record.get("beyondCredentials").is_some() {
        return Ok(None);
    }
    let guards = record
        .get("guards")
        .and_then(Value::as_array)
        .ok_or(Malformed)?;
    guards
        .iter()
        .map(|guard| {
            let rule = guard.get("rule").ok_or(Malformed)?.clone();
            let hide = guard
                .get("hide")
                .and_then(Value::as_bool)
                .ok_or(Malformed)?;
            Ok((rule, hide))
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// Writes the security, responses and record of an operation that `guards` all apply to.
fn document(operation: &mut Operation, guards: &[(Value, bool)], schemes: &[Scheme]) {
    if guards.is_empty() {
        return;
    }
    let rules: Vec<Value> = guards.iter().map(|(rule, _)| rule.clone()).collect();
    let each: Result<Vec<(Vec<Alternative>, bool)>, Malformed> = guards
        .iter()
        .map(|(rule, hide)| Ok((alternatives(rule)?, *hide)))
        .collect();
    let (Ok(found), Ok(each)) = (alternatives(&json!({ "all": rules })), each) else {
        tracing::warn!("route-guard: a recorded rule is malformed; operation left as it is");
        return;
    };
    operation.security = Some(requirements(&found, schemes));
    Refusals {
        guards: &each,
        schemes,
    }
    .add_to(operation);
    let mut conditions: Vec<String> = Vec::new();
    for condition in found.iter().flat_map(|a| &a.conditions) {
        if !conditions.contains(condition) {
            conditions.push(condition.clone());
        }
    }
    if !conditions.is_empty() {
        let listed: Vec<String> = conditions.iter().map(|c| format!("`{c}`")).collect();
        let note = format!(
            "Access also depends on what no security requirement can express: {}.",
            listed.join(", ")
        );
        operation.description = Some(match operation.description.take() {
            Some(description) if !description.is_empty() => format!("{description}\n\n{note}"),
            _ => note,
        });
    }
    let texts: Vec<String> = rules.iter().filter_map(|rule| text(rule).ok()).collect();
    let record = json!({
        "guards": guards.iter().map(|(rule, hide)| json!({ "rule": rule, "hide": hide })).collect::<Vec<_>>(),
        "rules": texts,
        "hide": guards.iter().any(|(_, hide)| *hide),
        "beyondCredentials": conditions,
    });
    let extensions = operation.extensions.get_or_insert_with(Default::default);
    extensions.insert(EXTENSION.to_owned(), record);
}

/// One requirement per alternative and scheme: `{}` for an alternative that needs no
/// credentials.
fn requirements(alternatives: &[Alternative], schemes: &[Scheme]) -> Vec<SecurityRequirement> {
    let mut all: Vec<SecurityRequirement> = Vec::new();
    for alternative in alternatives {
        let each = if alternative.credentials {
            schemes
                .iter()
                .filter(|scheme| {
                    let wanted = alternative.scheme.as_deref();
                    wanted.is_none_or(|wanted| wanted == scheme.authenticator)
                })
                .map(|scheme| {
                    let names = alternative
                        .names
                        .iter()
                        .filter(|name| !scheme.scopes_only || name.kind == "scope");
                    let names: Vec<&str> = names.map(|name| name.name.as_str()).collect();
                    SecurityRequirement::new(scheme.name.as_str(), names)
                })
                .collect()
        } else {
            vec![SecurityRequirement::default()]
        };
        for requirement in each {
            if !all.contains(&requirement) {
                all.push(requirement);
            }
        }
    }
    all
}
