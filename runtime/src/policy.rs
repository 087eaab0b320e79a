//! The access rules a guard attribute compiles to, and their evaluation.
//!
//! The macros turn `#[require_role(any("admin", "auditor"))]` into a constant [`Rule`] tree, so
//! a request pays for a walk over static data and nothing else: no parsing, no allocation.
//! Only rules that call an application [`Predicate`] need to await anything.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use actix_web::HttpRequest;

use crate::hierarchy::RoleHierarchy;
use crate::identity::Identity;

/// An access rule, evaluated against an authenticated [`Identity`].
///
/// Built by the guard attributes as a `const`; write one by hand only for a [`Policy`] of
/// your own.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Rule {
    /// Any authenticated caller.
    Authenticated,
    /// The caller holds this role, directly or through the role hierarchy.
    Role(&'static str),
    /// The credential was granted this OAuth scope.
    Scope(&'static str),
    /// The caller holds this permission (Auth0-style `permissions` claim).
    Permission(&'static str),
    /// At least one of the rules holds.
    Any(&'static [Rule]),
    /// Every one of the rules holds.
    All(&'static [Rule]),
    /// The rule does not hold.
    Not(&'static Rule),
    /// An application function decides, e.g. whether the caller owns the resource.
    Predicate(Predicate),
}

/// What a predicate answers: allowed or not, or an error that makes the guard answer 500.
pub type PredicateOutcome = Result<bool, Box<dyn std::error::Error>>;

/// The future a predicate returns.
pub type PredicateFuture<'a> = Pin<Box<dyn Future<Output = PredicateOutcome> + 'a>>;

/// An application function used as a rule, with its name for the log.
#[derive(Clone, Copy)]
pub struct Predicate {
    /// The function's path as written in the attribute.
    pub name: &'static str,
    /// The function, adapted by the macro to a uniform signature.
    pub check: for<'a> fn(&'a Identity, &'a HttpRequest) -> PredicateFuture<'a>,
}

impl fmt::Debug for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Predicate({})", self.name)
    }
}

/// What the rule is checked against.
#[derive(Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub(crate) identity: &'a Identity,
    pub(crate) hierarchy: &'a RoleHierarchy,
}

impl Subject<'_> {
    pub(crate) fn has_role(&self, role: &str) -> bool {
        self.identity.has_role(role)
            || self
                .hierarchy
                .implied_by(role)
                .iter()
                .any(|senior| self.identity.has_role(senior))
    }
}

impl Rule {
    /// Whether `identity` satisfies this rule, with no role hierarchy. Predicates count as
    /// not satisfied here, since they must be awaited; guards await them.
    #[must_use]
    pub fn allows(&self, identity: &Identity) -> bool {
        let subject = Subject {
            identity,
            hierarchy: RoleHierarchy::none(),
        };
        self.eval(&subject, Scopes::AsHeld, true)
    }

    /// Whether evaluating this rule calls an application predicate.
    #[must_use]
    pub const fn has_predicate(&self) -> bool {
        match self {
            Rule::Predicate(_) => true,
            Rule::Not(rule) => rule.has_predicate(),
            Rule::Any(rules) | Rule::All(rules) => {
                let mut i = 0;
                while i < rules.len() {
                    if rules[i].has_predicate() {
                        return true;
                    }
                    i += 1;
                }
                false
            }
            _ => false,
        }
    }

    /// The synchronous evaluation. `positive` tracks whether this node sits under an even
    /// number of `not`s, so that [`Scopes::Granted`] grants scopes only where that helps.
    fn eval(&self, subject: &Subject<'_>, scopes: Scopes, positive: bool) -> bool {
        match self {
            Rule::Authenticated => true,
            Rule::Role(role) => subject.has_role(role),
            Rule::Scope(scope) => match scopes {
                Scopes::AsHeld => subject.identity.has_scope(scope),
                Scopes::Granted => positive,
            },
            Rule::Permission(permission) => subject.identity.has_permission(permission),
            Rule::Any(rules) => rules
                .iter()
                .any(|rule| rule.eval(subject, scopes, positive)),
            Rule::All(rules) => rules
                .iter()
                .all(|rule| rule.eval(subject, scopes, positive)),
            Rule::Not(rule) => !rule.eval(subject, scopes, !positive),
            // Outside the async evaluation a predicate is the answer that does not help.
            Rule::Predicate(_) => !positive,
        }
    }

    /// The full evaluation, awaiting predicates and short-circuiting like `||` and `&&`.
    fn eval_async<'a>(
        &'a self,
        subject: Subject<'a>,
        req: &'a HttpRequest,
    ) -> Pin<Box<dyn Future<Output = PredicateOutcome> + 'a>> {
        Box::pin(async move {
            match self {
                Rule::Predicate(predicate) => (predicate.check)(subject.identity, req).await,
                Rule::Not(rule) => Ok(!rule.eval_async(subject, req).await?),
                Rule::Any(rules) => {
                    for rule in *rules {
                        if rule.eval_async(subject, req).await? {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                }
                Rule::All(rules) => {
                    for rule in *rules {
                        if !rule.eval_async(subject, req).await? {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                }
                leaf => Ok(leaf.eval(&subject, Scopes::AsHeld, true)),
            }
        })
    }
}

/// How scope leaves are evaluated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scopes {
    /// As the credential holds them.
    AsHeld,
    /// As if the credential held every scope: tells whether scopes alone are missing.
    Granted,
}

/// The verdict on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allow,
    /// Denied, and granting the rule's scopes would allow it: RFC 6750 `insufficient_scope`.
    MissingScope,
    Deny,
}

/// Evaluates `rule` synchronously; only for rules without predicates.
pub(crate) fn judge(rule: &Rule, subject: &Subject<'_>) -> Verdict {
    if rule.eval(subject, Scopes::AsHeld, true) {
        Verdict::Allow
    } else {
        denial_kind(rule, subject)
    }
}

/// Evaluates `rule`, awaiting its predicates.
pub(crate) async fn judge_async(
    rule: &Rule,
    subject: Subject<'_>,
    req: &HttpRequest,
) -> Result<Verdict, Box<dyn std::error::Error>> {
    if rule.eval_async(subject, req).await? {
        Ok(Verdict::Allow)
    } else {
        Ok(denial_kind(rule, &subject))
    }
}

fn denial_kind(rule: &Rule, subject: &Subject<'_>) -> Verdict {
    if rule.eval(subject, Scopes::Granted, true) {
        Verdict::MissingScope
    } else {
        Verdict::Deny
    }
}

/// A type that carries a [`Rule`]: the marker a guard attribute generates for its handler.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a route-guard policy",
    note = "policies are generated by the guard attributes (`#[require_role(...)]`, ...); \
            implement `route_guard::Policy` only for a type that names a `Rule`"
)]
pub trait Policy: 'static {
    /// The rule every request must satisfy.
    const RULE: Rule;

    /// The scopes named in a 403 `insufficient_scope` challenge, space-separated.
    const SCOPES: &'static str = "";
}
