//! The metrics the guard records through the `metrics` facade, when the `metrics` feature is
//! on. Without it every function here is empty and inlined away.
//!
//! Every label value is one of a fixed set of names, or a policy name the application's code
//! gives: nothing a client sends becomes a label.

#[cfg(feature = "metrics")]
use std::time::Duration;

/// Counter: one per decision of a guard. Labels `policy`, `result`, `reason`, `error`.
pub const AUTHORIZATION_ATTEMPTS: &str = "route_guard.authorization.attempts";
/// Histogram, seconds: one per authentication of a request. Labels `scheme`, `result`.
pub const AUTHENTICATION_DURATION: &str = "route_guard.authentication.duration";
/// Counter: one per lookup in a verified-token cache. Label `result` (`hit`, `miss`).
pub const TOKEN_CACHE_LOOKUPS: &str = "route_guard.token_cache.lookups";
/// Counter: one per refresh of a JWKS, discovery included. Label `outcome`.
pub const JWKS_FETCHES: &str = "route_guard.jwks.fetches";
/// Histogram, seconds: how long each JWKS refresh took. Label `outcome`.
pub const JWKS_FETCH_DURATION: &str = "route_guard.jwks.fetch.duration";

/// Describes every metric to the installed recorder, once per process: exporters print the
/// descriptions (Prometheus' `# HELP`) and units.
pub(crate) fn describe() {
    #[cfg(feature = "metrics")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            use metrics::{Unit, describe_counter, describe_histogram};
            describe_counter!(
                AUTHORIZATION_ATTEMPTS,
                "Decisions of route-guard's guards, by policy, result and reason"
            );
            describe_histogram!(
                AUTHENTICATION_DURATION,
                Unit::Seconds,
                "Time to authenticate a request, by scheme and result"
            );
            describe_counter!(
                TOKEN_CACHE_LOOKUPS,
                "Lookups in the verified-token cache, by result"
            );
            describe_counter!(JWKS_FETCHES, "JWKS refreshes, by outcome");
            describe_histogram!(
                JWKS_FETCH_DURATION,
                Unit::Seconds,
                "Time a JWKS refresh took, by outcome"
            );
        });
    }
}

/// One decision of a guard.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
#[inline]
pub(crate) fn decision(
    policy: &'static str,
    result: &'static str,
    reason: &'static str,
    error: &'static str,
) {
    #[cfg(feature = "metrics")]
    metrics::counter!(
        AUTHORIZATION_ATTEMPTS,
        "policy" => policy,
        "result" => result,
        "reason" => reason,
        "error" => error,
    )
    .increment(1);
}

/// One authentication: `result` is `success`, `failure` or `none` (no credentials found).
#[cfg(feature = "metrics")]
#[inline]
pub(crate) fn authentication(scheme: &'static str, result: &'static str, took: Duration) {
    metrics::histogram!(AUTHENTICATION_DURATION, "scheme" => scheme, "result" => result)
        .record(took);
}

/// One lookup in a verified-token cache.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
#[inline]
pub(crate) fn token_cache(hit: bool) {
    #[cfg(feature = "metrics")]
    metrics::counter!(TOKEN_CACHE_LOOKUPS, "result" => if hit { "hit" } else { "miss" })
        .increment(1);
}

/// One JWKS refresh: `outcome` is `success` or the kind of failure.
#[cfg(all(feature = "metrics", feature = "jwks"))]
pub(crate) fn jwks_fetch(outcome: &'static str, took: Duration) {
    metrics::counter!(JWKS_FETCHES, "outcome" => outcome).increment(1);
    metrics::histogram!(JWKS_FETCH_DURATION, "outcome" => outcome).record(took);
}
