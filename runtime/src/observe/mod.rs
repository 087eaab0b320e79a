//! What a guard tells operators: metrics, decision events and a span per guarded request.
//!
//! # Metrics (the `metrics` feature)
//!
//! Recorded through the [`metrics`](https://docs.rs/metrics) facade, so the application picks
//! the exporter (Prometheus, OpenTelemetry, StatsD) by installing its recorder. Without the
//! feature nothing is recorded and nothing is compiled in. Names follow ASP.NET Core's
//! authentication and authorization meters; a Prometheus exporter writes the dots as `_`.
//!
//! | name | kind | labels | one per |
//! |---|---|---|---|
//! | `route_guard.authorization.attempts` | counter | `policy`, `result`, `reason`, `error` | decision of a guard |
//! | `route_guard.authentication.duration` | histogram (s) | `scheme`, `result` | authentication of a request, but a cache hit |
//! | `route_guard.token_cache.lookups` | counter | `result` (`hit`, `miss`) | lookup in a verified-token cache (JWTs) or introspection cache (opaque tokens) |
//! | `route_guard.jwks.fetches` | counter | `outcome` | JWKS refresh (discovery included) |
//! | `route_guard.jwks.fetch.duration` | histogram (s) | `outcome` | JWKS refresh |
//! | `route_guard.introspection.calls` | counter | `outcome` | call to an introspection endpoint (RFC 7662) |
//! | `route_guard.introspection.duration` | histogram (s) | `outcome` | call to an introspection endpoint |
//!
//! - `policy`: [`Policy::NAME`](crate::Policy::NAME): the rule for the guard attributes, in
//!   the `#[require(..)]` grammar without quotes (`role(admin)`, shared by every handler with
//!   that rule),
//!   `route_guard::require_auth` for `#[require_auth]`, where the rule is written for `rule!`.
//!   The policy that refused, or the route's first one when granted. Which route it was is the
//!   HTTP layer's label (`http.route`), not the guard's. A name holds `(`, `)`, `, ` and
//!   whatever the rule's names hold: Prometheus and OTLP carry it as it is; an exporter whose
//!   format gives `,` or `:` a meaning (DogStatsD tags) must escape it.
//! - `result` of an attempt: [`Outcome`]: `granted`, `unauthenticated` (401), `forbidden` (403,
//!   or 404 on a hidden route), `bad_request` (400), `throttled` (429), `unavailable` (503), `error` (500).
//! - `reason`: `none` when granted; otherwise `missing_credentials`, `unsupported_scheme`, the
//!   token's problem (`expired`, `bad_signature`, `wrong_audience`, `wrong_credentials`, `revoked_token`, …),
//!   `duplicate_authorization`, `rule` (the rule refused the caller), `address_rule` (an
//!   address or country rule refused the connection), `insufficient_scope`, `policy_failed`,
//!   `no_route_guard`, `no_country_resolver`, `too_many_attempts` or `unavailable`.
//! - `error`: the OAuth `error` code the client received (`invalid_token`, `invalid_request`,
//!   `insufficient_scope`) or `none`.
//! - `scheme`: `bearer`, `basic`, `apikey`, `custom` (an authenticator of the application's own),
//!   or `none` when no authenticator found credentials; `result` of an authentication: `success`,
//!   `failure`, or `none` (no credentials).
//! - `outcome` of a JWKS refresh: `success`, `timeout`, `connect` (refused, DNS), `status` (not
//!   200), `too_large`, `invalid` (not a usable key set or discovery document) or `error`.
//!
//! A token the verified-token cache answers at once is counted as a hit and not timed: it
//! takes about a microsecond, and timing it would double what the metrics cost per request.
//! Every other authentication is timed, those that wait (a key fetch, a password hash, the
//! enrichment hook) with their wait.
//!
//! No label holds a token, a subject, an address or anything else a client chose, so the number
//! of series is bounded by the application's code.
//!
//! Install the recorder before building the guards: each worker thread keeps the handles it
//! was first given, and the descriptions (`# HELP`) are given once, when the first guard is
//! built. Histograms are best exported with buckets ([`DURATION_BUCKETS`] suits both).
//!
//! # Decision events
//!
//! [`RouteGuardBuilder::on_decision`](crate::RouteGuardBuilder::on_decision) receives each
//! refusal, and each grant with
//! [`report_grants`](crate::RouteGuardBuilder::report_grants), as a [`Decision`]: outcome,
//! reason, policy, scheme, issuer, client address and a [`Pseudonym`] of the subject.
//!
//! # Traces
//!
//! Every guarded request runs in an `INFO` span named `route_guard` (target `route_guard`)
//! with the fields `policy`, `scheme`, `issuer`, `result` and `reason`, filled in when the guard
//! decides, so that a tracing or OpenTelemetry subscriber shows the guard as one step of the
//! request, its authentication (a key fetch, a password hash) inside it.

mod decision;
pub(crate) mod instruments;

pub use decision::{Decision, OnDecision, Outcome, Pseudonym};
pub use instruments::{
    AUTHENTICATION_DURATION, AUTHORIZATION_ATTEMPTS, DURATION_BUCKETS, INTROSPECTION_DURATION,
    INTROSPECTIONS, JWKS_FETCH_DURATION, JWKS_FETCHES, TOKEN_CACHE_LOOKUPS,
};

use std::panic::AssertUnwindSafe;

use actix_web::HttpRequest;
use tracing::Span;
use tracing::field::Empty;

use crate::client::{Network, NetworkConfig};
use crate::identity::Identity;
use crate::refusal::{Cause, Denial};

/// A guard's observability settings: the decision hook and what the metrics and events call
/// its authenticators.
pub(crate) struct Observer {
    hook: Option<Box<dyn OnDecision>>,
    grants: bool,
    /// `None` when no key could be drawn: events then carry no subject.
    key: Option<[u8; 32]>,
    /// The scheme label of each authenticator of the chain, in order.
    schemes: Box<[&'static str]>,
}

impl Observer {
    pub(crate) fn new(
        hook: Option<Box<dyn OnDecision>>,
        grants: bool,
        key: Option<[u8; 32]>,
        schemes: Box<[&'static str]>,
    ) -> Self {
        instruments::describe();
        Observer {
            hook,
            grants,
            key: key.or_else(random_key),
            schemes,
        }
    }

    /// The scheme label of authenticator `index`.
    pub(crate) fn scheme(&self, index: usize) -> &'static str {
        self.schemes.get(index).copied().unwrap_or("custom")
    }
}

/// A fresh pseudonym key from the operating system, or `None`, logged, if it has none to give.
fn random_key() -> Option<[u8; 32]> {
    let mut key = [0; 32];
    match getrandom::fill(&mut key) {
        Ok(()) => Some(key),
        Err(error) => {
            tracing::error!(%error, "route-guard: no random pseudonym key; decision events will carry no subject");
            None
        }
    }
}

/// The label of an authenticator whose bare challenge is `challenge` (`Bearer realm="api"`).
pub(crate) fn scheme_label(challenge: &str) -> &'static str {
    let scheme = challenge.split(' ').next().unwrap_or_default();
    instruments::SCHEMES
        .into_iter()
        .find(|known| *known != "none" && known.eq_ignore_ascii_case(scheme))
        .unwrap_or("custom")
}

/// The span of one guarded request, its fields filled in by [`decided`].
pub(crate) fn span(policy: &'static str) -> Span {
    // Without a subscriber that wants INFO, nothing at all: with `tracing`'s `log` feature on
    // (another crate of the application may turn it on), even a disabled span records its
    // fields for `log`, a hundred instructions per request.
    if !tracing::level_enabled!(tracing::Level::INFO) {
        return Span::none();
    }
    tracing::info_span!(
        target: "route_guard",
        "route_guard",
        policy,
        scheme = Empty,
        issuer = Empty,
        result = Empty,
        reason = Empty,
    )
}

/// What a guard decided, before it is reported.
pub(crate) struct Decided<'a> {
    pub(crate) policy: &'static str,
    pub(crate) identity: Option<&'a Identity>,
    /// `None` when granted.
    pub(crate) refused: Option<(Denial, Cause)>,
    /// The authenticator that accepted or refused the credentials, if one found any: asked
    /// only when someone listens.
    pub(crate) by: &'a dyn Fn() -> Option<usize>,
    /// The client as the rules saw it, if they looked.
    pub(crate) network: Option<&'a Network>,
    /// How to find the client when they did not.
    pub(crate) network_config: &'a NetworkConfig,
}

/// Reports a decision on `req` of the guard `observer` belongs to: to the metrics, the span and
/// the hook.
pub(crate) fn decided(req: &HttpRequest, observer: &Observer, span: &Span, decided: Decided<'_>) {
    let hook = observer
        .hook
        .as_deref()
        .filter(|_| decided.refused.is_some() || observer.grants);
    let unheard = span.is_disabled() && hook.is_none();
    if unheard && !cfg!(feature = "metrics") {
        return;
    }
    let denial = decided.refused.map(|(denial, _)| denial);
    let cause = decided.refused.map(|(_, cause)| cause);
    let outcome = denial.map_or(Outcome::Granted, Outcome::of);
    let reason = decision::reason(denial, cause);
    instruments::decision(
        decided.policy,
        outcome.as_str(),
        reason,
        decision::error_code(denial),
    );
    if unheard {
        return;
    }
    let scheme = (decided.by)().map(|index| observer.scheme(index));
    let issuer = decided
        .identity
        .and_then(|identity| identity.claims().get("iss")?.as_str());
    span.record("scheme", scheme.unwrap_or("none"));
    if let Some(issuer) = issuer {
        span.record("issuer", issuer);
    }
    span.record("result", outcome.as_str());
    span.record("reason", reason);
    let Some(hook) = hook else { return };
    let client = match decided.network {
        Some(network) => network.client(),
        None => Network::new(req, decided.network_config).client(),
    };
    let subject = decided
        .identity
        .zip(observer.key.as_ref())
        .map(|(identity, key)| Pseudonym::new(key, issuer.unwrap_or_default(), identity.subject()));
    let decision = Decision {
        outcome,
        denial,
        cause,
        policy: decided.policy,
        scheme,
        issuer,
        client,
        subject,
        request: req,
    };
    // The hook is the application's: a panic in it must not reset the connection.
    if std::panic::catch_unwind(AssertUnwindSafe(|| hook.decided(&decision))).is_err() {
        tracing::error!(
            path = req.path(),
            "route-guard: the decision hook panicked; the response is unchanged"
        );
    }
}

/// Reports a request refused because no guard is registered: to the metrics alone, as there is
/// no hook to call.
pub(crate) fn unguarded(policy: &'static str) {
    instruments::decision(policy, Outcome::Error.as_str(), "no_route_guard", "none");
}

#[cfg(test)]
mod tests {
    use super::scheme_label;

    #[test]
    fn scheme_labels_are_a_fixed_set() {
        assert_eq!(scheme_label("Bearer realm=\"api\""), "bearer");
        assert_eq!(
            scheme_label("Basic realm=\"api\", charset=\"UTF-8\""),
            "basic"
        );
        assert_eq!(
            scheme_label("ApiKey realm=\"api\", header=\"x-api-key\""),
            "apikey"
        );
        assert_eq!(scheme_label("Negotiate"), "custom");
        assert_eq!(scheme_label(""), "custom");
    }
}
