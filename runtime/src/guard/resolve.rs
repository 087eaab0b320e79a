//! Authenticating a request once per guard, however many extractors and guards ask.

use std::sync::Arc;

use actix_web::{HttpMessage as _, HttpRequest};
use futures_util::future::{FutureExt as _, LocalBoxFuture, Shared, WeakShared};

use super::RouteGuard;
use crate::auth::chain::{Accepted, Answer, Refused, Started};
use crate::identity::Identity;
use crate::refusal::{Denial, GuardError, TokenProblem};

/// The outcome a route's extractors share.
pub(crate) type Outcome = Result<Arc<Identity>, GuardError>;

/// The outcome of authenticating a request: known, or still being worked out.
#[derive(Clone)]
pub(crate) enum Resolution {
    Done(Outcome),
    Pending(Shared<LocalBoxFuture<'static, Outcome>>),
}

impl Resolution {
    /// Waits for a pending authentication.
    pub(crate) async fn finish(self) -> Outcome {
        match self {
            Resolution::Done(result) => result,
            Resolution::Pending(future) => future.await,
        }
    }
}

/// One guard's authentication of a request, kept in the request's extensions so that every
/// guard and extractor on the route that asks the same guard shares one verification.
///
/// A pending authentication is kept as a weak handle: the work holds the request (to read its
/// headers), so a strong one here would be a cycle that outlives a client that hung up, with
/// whatever the work holds (a hashing permit, a connection to a user store). The extractors
/// that wait hold it strongly; when the last of them is dropped, so is the work.
struct Resolved {
    guard: usize,
    accepted: Accepted,
    state: Stored,
}

enum Stored {
    Done(Outcome),
    Pending(WeakShared<LocalBoxFuture<'static, Outcome>>),
}

/// Authenticates `req` with `guard` once, however many extractors ask: with the
/// authenticators a route's rules accept, or, for `None` (an extractor such as
/// [`Authenticated`](crate::Authenticated)), as the route's guards already did, else with all.
pub(crate) fn resolve(
    guard: &RouteGuard,
    req: &HttpRequest,
    accepted: Option<Accepted>,
) -> Resolution {
    let key = guard.key();
    if let Some(resolved) = req.extensions().get::<Resolved>()
        && resolved.guard == key
    {
        // Another guard of the route (a `GuardScope` around it) asked with other schemes: its
        // identity holds here too if the authenticator that accepted it is one this route
        // takes; the same credentials are never verified twice for one request.
        let same = accepted.is_none_or(|accepted| accepted == resolved.accepted);
        let reusable = same
            || matches!(&resolved.state, Stored::Done(Ok(_)))
                && accepted.is_some_and(|accepted| accepted.has(accepted_by(req, key)));
        match &resolved.state {
            _ if !reusable => {}
            Stored::Done(outcome) => return Resolution::Done(outcome.clone()),
            Stored::Pending(weak) => {
                if let Some(shared) = weak.upgrade() {
                    return Resolution::Pending(shared);
                }
            }
        }
    }
    let accepted = accepted.unwrap_or(Accepted::ALL);
    // Failed-login throttling, before any password is checked, whoever the user is.
    let lockout_keys = guard.lockout_keys(req, accepted);
    if let Some(retry_after_secs) = guard.revocation_view().locked(&lockout_keys) {
        tracing::info!("route-guard: login refused: too many failed attempts");
        let denial = Denial::TooManyAttempts { retry_after_secs };
        let outcome = Err(guard.reject_by(usize::MAX, denial, req, None, accepted));
        record(req, key, accepted, Stored::Done(outcome.clone()));
        return Resolution::Done(outcome);
    }
    let started = Clock::start();
    match guard.chain().authenticate(req, accepted) {
        Started::Now(answer) => {
            let outcome = settle(guard, req, answer, started, accepted);
            record(req, key, accepted, Stored::Done(outcome.clone()));
            Resolution::Done(outcome)
        }
        Started::Later(future) => {
            let (guard, request) = (guard.clone(), req.clone());
            let shared = async move {
                let answer = future.await;
                let outcome = settle(&guard, &request, answer, started.waited(), accepted);
                record(&request, key, accepted, Stored::Done(outcome.clone()));
                outcome
            }
            .boxed_local()
            .shared();
            if let Some(weak) = shared.downgrade() {
                record(req, key, accepted, Stored::Pending(weak));
            }
            Resolution::Pending(shared)
        }
    }
}

/// The index of the authenticator of guard `key` that accepted the request's credentials: the
/// recorded one, or the first (whose acceptance is not recorded).
fn accepted_by(req: &HttpRequest, key: usize) -> usize {
    req.extensions()
        .get::<AuthenticatedBy>()
        .filter(|by| by.guard == key)
        .map_or(0, |by| by.index)
}

fn record(req: &HttpRequest, guard: usize, accepted: Accepted, state: Stored) {
    req.extensions_mut().insert(Resolved {
        guard,
        accepted,
        state,
    });
}

/// Which authenticator of which guard accepted the request's credentials, so that a later
/// refusal (a missing scope, claims that do not fit) is rendered in that authenticator's scheme;
/// or which one refused them, for the decision's report. Not recorded when the first one
/// accepted: that is the common case, and the absence says it.
#[derive(Clone, Copy)]
pub(crate) struct AuthenticatedBy {
    /// [`RouteGuard::key`] of the guard whose authenticators `index` counts.
    pub(crate) guard: usize,
    pub(crate) index: usize,
}

/// The chain's answer as the route's extractors share it: the identity, or the response.
fn settle(
    guard: &RouteGuard,
    req: &HttpRequest,
    answer: Answer,
    started: Clock,
    accepted: Accepted,
) -> Outcome {
    let key = guard.key();
    let record_by = |index| {
        let by = AuthenticatedBy { guard: key, index };
        req.extensions_mut().insert(by);
    };
    match answer {
        Ok((identity, index)) => {
            // After the verified-token cache and the enrichment: a revoked token is refused
            // however it was verified, from the local view, without a round trip.
            if let Err(denial) = guard.revocation_view().check(&identity) {
                measure(guard, started, Some(index), "failure");
                record_by(index);
                return Err(guard.reject_by(index, denial, req, None, accepted));
            }
            measure(guard, started, Some(index), "success");
            if index > 0 {
                record_by(index);
            }
            Ok(identity)
        }
        Err(Refused { by, denial }) => {
            measure(
                guard,
                started,
                by,
                if by.is_some() { "failure" } else { "none" },
            );
            if let Some(index) = by {
                record_by(index);
                if denial == Denial::InvalidToken(TokenProblem::WrongCredentials)
                    && guard.counts_failures_of(index)
                {
                    guard.count_failures(guard.lockout_keys(req, accepted));
                }
            }
            Err(guard.reject_by(by.unwrap_or(usize::MAX), denial, req, None, accepted))
        }
    }
}

/// When an authentication started, and whether it had to wait; without the metrics, nothing.
#[derive(Clone, Copy)]
struct Clock {
    #[cfg(feature = "metrics")]
    at: std::time::Instant,
    #[cfg(feature = "metrics")]
    waited: bool,
}

impl Clock {
    fn start() -> Self {
        #[cfg(feature = "metrics")]
        crate::observe::instruments::authentication_started();
        Clock {
            #[cfg(feature = "metrics")]
            at: std::time::Instant::now(),
            #[cfg(feature = "metrics")]
            waited: false,
        }
    }

    /// The same start, for an authentication that did not answer at once.
    #[cfg_attr(not(feature = "metrics"), allow(unused_mut))]
    fn waited(mut self) -> Self {
        #[cfg(feature = "metrics")]
        {
            self.waited = true;
        }
        self
    }
}

/// Records how long authenticator `by` (`None`: no authenticator found credentials) took,
/// unless the answer came at once from the verified-token cache: that is counted as a hit and
/// takes about a microsecond, and timing it would double what the metrics cost per request.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
fn measure(guard: &RouteGuard, started: Clock, by: Option<usize>, result: &'static str) {
    #[cfg(feature = "metrics")]
    {
        use crate::observe::instruments;
        if !started.waited && instruments::served_from_cache() {
            return;
        }
        let scheme = by.map_or("none", |index| guard.observer().scheme(index));
        instruments::authentication(scheme, result, started.at.elapsed());
    }
}
