//! Applying a rule to a request: the one engine behind the guard attributes, hand-written
//! [`Guarded`](crate::Guarded) policies and [`GuardScope`](crate::GuardScope).
//!
//! Address and country rules are decided first, from the connection alone: a request they
//! refuse gets 403 without its credentials being read, and one they admit on their own needs
//! none. Everything else authenticates the caller (once per request) and then evaluates the
//! rule, awaiting application predicates only when the rule has some.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use actix_web::HttpRequest;
use futures_util::future::{self, Either, FutureExt as _, LocalBoxFuture, Ready};
use tracing::{Instrument as _, Span};

use crate::auth::chain::Accepted;
use crate::client::Network;
use crate::guard::{Resolution, RouteGuard, resolve};
use crate::identity::Identity;
use crate::observe::{self, Decided, Outcome};
use crate::policy::{Applied, PolicyRef, Subject, Verdict, admits_scheme, judge, judge_async};
use crate::refusal::{Cause, Denial, GuardError, Misconfiguration};

/// `Ok(Some(identity))`: allowed for this caller; `Ok(None)`: allowed by address rules alone,
/// without authentication; `Err`: the response to send.
pub(crate) type Checked = Result<Option<Arc<Identity>>, GuardError>;

/// Ready now, or later when authentication or a predicate awaits.
pub(crate) type CheckFuture = Either<Ready<Checked>, LocalBoxFuture<'static, Checked>>;

/// Applies every one of `rules` to `req`: all address and country rules first, then, if any
/// rule still depends on the caller, one authentication and each rule in order. Every decision
/// is reported (metrics, the span, the application's hook) before it is returned.
pub(crate) fn check(req: &HttpRequest, rules: &[PolicyRef]) -> CheckFuture {
    let ready = |checked| Either::Left(future::ready(checked));
    let first = first_name(rules);
    // Fail closed before anything else: without a guard nothing is configured, not even which
    // proxies to believe for an address rule.
    let Some(guard) = RouteGuard::registered(req) else {
        observe::unguarded(first);
        return ready(Err(RouteGuard::missing(req)));
    };
    let span = observe::span(first);
    let entered = span.enter();
    let network = rules
        .iter()
        .any(|PolicyRef(applied)| applied.network)
        .then(|| Network::new(req, guard.network()));
    let report = Report {
        req,
        guard,
        span: &span,
        network: network.as_ref(),
    };
    if let Some(network) = &network
        && let Some(decided) = by_address(&report, rules, network)
    {
        return ready(decided);
    }
    let accepted = match accepted_schemes(guard, rules, network.as_ref()) {
        Ok(accepted) => accepted,
        Err((applied, denial)) => {
            return ready(report.conclude(applied, None, Verdict::Veto(denial)));
        }
    };
    let resolution = resolve(guard, req, Some(accepted));
    let predicates = rules.iter().any(|PolicyRef(applied)| applied.predicates);
    if !predicates && let Resolution::Done(outcome) = &resolution {
        let identity = match outcome {
            Ok(identity) => identity,
            Err(error) => return ready(Err(report.unauthenticated(rules, error.clone()))),
        };
        for PolicyRef(applied) in rules {
            let subject = Subject::new(Some(identity), guard.role_hierarchy(), network.as_ref());
            let verdict = judge(applied.rule, &subject);
            if verdict != Verdict::Allow {
                return ready(report.conclude(applied, Some(identity), verdict));
            }
        }
        report.granted(rules, Some(identity));
        return ready(Ok(Some(identity.clone())));
    }
    drop(entered);
    let (req, guard, rules) = (req.clone(), guard.clone(), rules.to_vec());
    let later = later(req, guard, rules, network, resolution, span.clone());
    Either::Right(later.instrument(span).boxed_local())
}

/// Every rule's address and country leaves, before credentials are read: the response when
/// they decide the request (a refusal, or an admission that needs nothing else), `None` when
/// some rule depends on who the caller is.
fn by_address(report: &Report<'_>, rules: &[PolicyRef], network: &Network) -> Option<Checked> {
    let mut needs_identity = false;
    for PolicyRef(applied) in rules {
        if !applied.network {
            needs_identity = true;
            continue;
        }
        let subject = Subject::new(None, report.guard.role_hierarchy(), Some(network));
        match judge(applied.rule, &subject) {
            Verdict::Allow => {}
            Verdict::NeedsIdentity => needs_identity = true,
            verdict => return Some(report.conclude(applied, None, verdict)),
        }
    }
    if needs_identity {
        return None;
    }
    report.granted(rules, None);
    Some(Ok(None))
}

/// The authenticators that can satisfy every one of `rules`: all of them unless a rule names
/// schemes. `Err`: a rule no authenticator can satisfy, with the refusal: 403 when it is the
/// client's address that leaves none, 500 when no address could (a `scheme(..)` naming no
/// authenticator of the guard, a misconfiguration).
fn accepted_schemes<'r>(
    guard: &RouteGuard,
    rules: &'r [PolicyRef],
    network: Option<&Network>,
) -> Result<Accepted, (&'r Applied, Denial)> {
    let mut accepted = Accepted::ALL;
    for PolicyRef(applied) in rules.iter().filter(|PolicyRef(a)| a.schemes) {
        let names = guard.chain().names.iter().enumerate();
        let mut admitted = 0u64;
        for (index, name) in names {
            if admits_scheme(applied.rule, name, guard.role_hierarchy(), network) {
                // A chain holds at most 64 authenticators (`MAX_AUTHENTICATORS`).
                admitted |= 1u64.checked_shl(index as u32).unwrap_or(0);
            }
        }
        accepted.0 &= admitted;
        // None left: this rule, alone or with the ones before, leaves no scheme the guard has.
        if accepted.0 == 0 {
            let names = &guard.chain().names;
            let unknown = applied
                .rule
                .schemes_named()
                .any(|wanted| !names.iter().any(|name| **name == *wanted));
            let denial = if unknown {
                Denial::Misconfigured(Misconfiguration::NoSuchScheme)
            } else {
                Denial::Forbidden
            };
            return Err((applied, denial));
        }
    }
    Ok(accepted)
}

/// The rules once the identity is known, awaiting authentication and predicates.
async fn later(
    req: HttpRequest,
    guard: RouteGuard,
    rules: Vec<PolicyRef>,
    network: Option<Network>,
    resolution: Resolution,
    span: Span,
) -> Checked {
    let report = Report {
        req: &req,
        guard: &guard,
        span: &span,
        network: network.as_ref(),
    };
    let identity = match resolution.finish().await {
        Ok(identity) => identity,
        Err(error) => return Err(report.unauthenticated(&rules, error)),
    };
    for PolicyRef(applied) in &rules {
        let subject = Subject::new(Some(&identity), guard.role_hierarchy(), network.as_ref());
        let judged = AssertUnwindSafe(judge_async(applied.rule, &subject, &req));
        let verdict = match judged.catch_unwind().await {
            Ok(Ok(verdict)) => verdict,
            Ok(Err(error)) => {
                tracing::error!(%error, rule = ?applied.rule, path = req.path(), "route-guard: a policy predicate failed");
                Verdict::Veto(Denial::PolicyFailed)
            }
            // A panicking predicate answers 500 instead of resetting the connection.
            Err(_) => {
                tracing::error!(rule = ?applied.rule, path = req.path(), "route-guard: a policy predicate panicked");
                Verdict::Veto(Denial::PolicyFailed)
            }
        };
        if verdict != Verdict::Allow {
            return report.conclude(applied, Some(&identity), verdict);
        }
    }
    report.granted(&rules, Some(&identity));
    Ok(Some(identity))
}

/// The name of the route's first policy, which a grant and an authentication's refusal are
/// reported under.
fn first_name(rules: &[PolicyRef]) -> &'static str {
    rules
        .first()
        .map_or("unnamed", |PolicyRef(applied)| applied.name)
}

/// One request's decision in the making: what reporting it needs besides the outcome.
struct Report<'a> {
    req: &'a HttpRequest,
    guard: &'a RouteGuard,
    span: &'a Span,
    network: Option<&'a Network>,
}

impl Report<'_> {
    /// Granted: reported under the route's first policy.
    fn granted(&self, rules: &[PolicyRef], identity: Option<&Arc<Identity>>) {
        self.decided(first_name(rules), identity, None);
    }

    fn decided(
        &self,
        policy: &'static str,
        identity: Option<&Arc<Identity>>,
        refused: Option<(Denial, Cause)>,
    ) {
        let decided = Decided {
            policy,
            identity: identity.map(|identity| &**identity),
            refused,
            by: &|| self.guard.decided_by(self.req, identity.is_some()),
            network: self.network,
            network_config: self.guard.network(),
        };
        observe::decided(self.req, self.guard.observer(), self.span, decided);
    }

    /// Authentication refused the request: reported as the authenticator decided it, then
    /// hidden if the route hides itself.
    fn unauthenticated(&self, rules: &[PolicyRef], error: GuardError) -> GuardError {
        let denial = error.denial();
        let cause = match Outcome::of(denial) {
            Outcome::Unavailable | Outcome::Error => Cause::Server,
            _ => Cause::Credentials,
        };
        self.decided(first_name(rules), None, Some((denial, cause)));
        self.hidden(rules, error)
    }

    /// `hide` means that the route does not exist for anyone it does not admit: refused or missing
    /// credentials get the same 404 as a refused rule, without a challenge, which would name the
    /// schemes the route takes. A 400, 500 or 503 stays as it is: those are not about the caller.
    fn hidden(&self, rules: &[PolicyRef], error: GuardError) -> GuardError {
        let credentials = matches!(
            error.denial(),
            Denial::MissingCredentials
                | Denial::UnsupportedScheme
                | Denial::InvalidToken(_)
                | Denial::InvalidProof(_)
                | Denial::TooManyAttempts { .. }
        );
        if credentials && rules.iter().any(|PolicyRef(applied)| applied.hide) {
            self.guard.reject(self.req, Denial::NotFound)
        } else {
            error
        }
    }

    /// Turns a refusing verdict into the response, logging why.
    fn conclude(
        &self,
        applied: &Applied,
        identity: Option<&Arc<Identity>>,
        verdict: Verdict,
    ) -> Checked {
        let (req, guard, network) = (self.req, self.guard, self.network);
        let forbidden = if applied.hide {
            Denial::NotFound
        } else {
            Denial::Forbidden
        };
        let denial = match verdict {
            Verdict::Allow => return Ok(identity.cloned()),
            // `insufficient_scope` names the scopes to ask for (RFC 6750 §3.1); a rule that requires
            // none held (`not(scope(..))` alone) is refused as any other rule is.
            Verdict::MissingScope if !applied.hide && !applied.scopes.is_empty() => {
                Denial::InsufficientScope(applied.scopes)
            }
            Verdict::MissingScope => forbidden,
            // A hidden route names nothing it needs, a stronger login included.
            // Only a token's issuer can be asked for a stronger login: a password or key that
            // falls short is refused as any rule refuses.
            Verdict::StepUp
                if !applied.hide
                    && applied.step_up.asks_anything()
                    && identity.is_some_and(|id| id.claims().contains_key("iss")) =>
            {
                Denial::InsufficientUserAuthentication(applied.step_up)
            }
            Verdict::StepUp => forbidden,
            Verdict::Deny | Verdict::Veto(Denial::Forbidden) => forbidden,
            Verdict::Veto(denial) => denial,
            // Only reachable if a rule still needs an identity after authentication: fail closed.
            Verdict::NeedsIdentity => forbidden,
        };
        // The address a rule judged, or why there was none: a 403 for "client address unknown"
        // (a test request without a peer, a proxy that is not trusted) is otherwise a puzzle.
        let client = network.map(Network::describe);
        tracing::debug!(
            subject = identity.map(|identity| identity.subject()),
            path = req.path(),
            rule = ?applied.rule,
            client,
            %denial,
            "route-guard: refused by the route's rule"
        );
        if let Denial::Misconfigured(_) = denial {
            tracing::error!(path = req.path(), "route-guard: {denial}");
        }
        // Refused before authentication: by an address or country rule alone.
        let by_address = identity.is_none() && network.is_some();
        let cause = match denial {
            Denial::Misconfigured(_) | Denial::PolicyFailed => Cause::Server,
            _ if by_address => Cause::Address,
            _ => Cause::Rule,
        };
        self.decided(applied.name, identity, Some((denial, cause)));
        Err(if by_address {
            guard.reject_by_address(req, denial)
        } else {
            guard.reject(req, denial)
        })
    }
}
