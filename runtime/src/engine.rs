//! Applying a rule to a request: the one engine behind the guard attributes, hand-written
//! [`Guarded`](crate::Guarded) policies and [`GuardScope`](crate::GuardScope).
//!
//! Address and country rules are decided first, from the connection alone: a request they
//! refuse gets 403 without its credentials being read, and one they admit on their own needs
//! none. Everything else authenticates the caller (once per request) and then evaluates the
//! rule, awaiting application predicates only when the rule has some.

use std::sync::Arc;

use actix_web::HttpRequest;
use futures_util::future::{self, Either, FutureExt as _, LocalBoxFuture, Ready};

use crate::error::{Denial, GuardError};
use crate::guard::{Resolution, RouteGuard, resolve};
use crate::hierarchy::RoleHierarchy;
use crate::identity::Identity;
use crate::network::Network;
use crate::policy::{Policy, Rule, Subject, Verdict, judge, judge_async};

/// A rule with what the engine needs to know about it, computed once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Applied {
    pub(crate) rule: &'static Rule,
    pub(crate) scopes: &'static str,
    pub(crate) hide: bool,
    pub(crate) network: bool,
    pub(crate) predicates: bool,
}

impl Applied {
    pub(crate) const fn of<P: Policy>() -> Applied {
        Applied {
            rule: RuleOf::<P>::REF,
            scopes: P::SCOPES,
            hide: P::HIDE,
            network: P::RULE.has_network(),
            predicates: P::RULE.has_predicate(),
        }
    }
}

/// A `'static` reference to a policy's rule: consts are promoted where a generic `&P::RULE`
/// inside a `const fn` would not be.
struct RuleOf<P>(std::marker::PhantomData<P>);

impl<P: Policy> RuleOf<P> {
    const REF: &'static Rule = &P::RULE;
}

/// `Ok(Some(identity))`: allowed for this caller; `Ok(None)`: allowed by address rules alone,
/// without authentication; `Err`: the response to send.
pub(crate) type Checked = Result<Option<Arc<Identity>>, GuardError>;

/// Ready now, or later when authentication or a predicate awaits.
pub(crate) type CheckFuture = Either<Ready<Checked>, LocalBoxFuture<'static, Checked>>;

pub(crate) fn check(req: &HttpRequest, applied: Applied) -> CheckFuture {
    let guard = req.app_data::<RouteGuard>();
    let hierarchy = guard.map_or(RoleHierarchy::none(), RouteGuard::role_hierarchy);
    let network = applied
        .network
        .then(|| Network::new(req, guard.map(RouteGuard::network)));
    if network.is_some() {
        match judge(
            applied.rule,
            &Subject::new(None, hierarchy, network.as_ref()),
        ) {
            Verdict::NeedsIdentity => {}
            verdict => return Either::Left(future::ready(conclude(req, applied, None, verdict))),
        }
    }
    let resolution = resolve(req);
    if !applied.predicates
        && let Resolution::Done(outcome) = &resolution
    {
        let checked = outcome.clone().and_then(|identity| {
            let verdict = judge(
                applied.rule,
                &Subject::new(Some(&identity), hierarchy, network.as_ref()),
            );
            conclude(req, applied, Some(identity), verdict)
        });
        return Either::Left(future::ready(checked));
    }
    let req = req.clone();
    Either::Right(
        async move {
            let identity = resolution.finish().await?;
            let guard = req.app_data::<RouteGuard>();
            let hierarchy = guard.map_or(RoleHierarchy::none(), RouteGuard::role_hierarchy);
            let subject = Subject::new(Some(&identity), hierarchy, network.as_ref());
            let verdict = match judge_async(applied.rule, &subject, &req).await {
                Ok(verdict) => verdict,
                Err(error) => {
                    tracing::error!(%error, rule = ?applied.rule, path = req.path(), "route-guard: a policy predicate failed");
                    Verdict::Veto(Denial::PolicyFailed)
                }
            };
            conclude(&req, applied, Some(identity), verdict)
        }
        .boxed_local(),
    )
}

/// Turns a verdict into the outcome, logging refusals.
fn conclude(
    req: &HttpRequest,
    applied: Applied,
    identity: Option<Arc<Identity>>,
    verdict: Verdict,
) -> Checked {
    let forbidden = if applied.hide {
        Denial::NotFound
    } else {
        Denial::Forbidden
    };
    let denial = match verdict {
        Verdict::Allow => return Ok(identity),
        Verdict::MissingScope => Denial::InsufficientScope(applied.scopes),
        Verdict::Deny | Verdict::Veto(Denial::Forbidden) => forbidden,
        Verdict::Veto(denial) => denial,
        // Only reachable if a rule still needs an identity after authentication: fail closed.
        Verdict::NeedsIdentity => forbidden,
    };
    tracing::debug!(
        subject = identity.as_deref().map(Identity::subject),
        path = req.path(),
        rule = ?applied.rule,
        %denial,
        "route-guard: refused by the route's rule"
    );
    if let Denial::Misconfigured(_) = denial {
        tracing::error!(path = req.path(), "route-guard: {denial}");
    }
    Err(match req.app_data::<RouteGuard>() {
        Some(guard) => guard.reject(req, denial),
        None => GuardError::new(denial, None),
    })
}
