//! The metrics the guard records through the `metrics` facade, when the `metrics` feature is
//! on. Without it every function here is empty and inlined away.
//!
//! Every label value is one of a fixed set of names, or a policy name the application's code
//! gives: nothing a client sends becomes a label.

#[cfg(feature = "metrics")]
use std::time::Duration;

/// Counter: one per decision of a guard. Labels `policy`, `result`, `reason`, `error`.
pub const AUTHORIZATION_ATTEMPTS: &str = "route_guard.authorization.attempts";
/// Histogram, seconds: one per authentication of a request, except those the verified-token
/// cache answered at once (counted in [`TOKEN_CACHE_LOOKUPS`]). Labels `scheme`, `result`.
pub const AUTHENTICATION_DURATION: &str = "route_guard.authentication.duration";
/// Counter: one per lookup in a verified-token cache. Label `result` (`hit`, `miss`).
pub const TOKEN_CACHE_LOOKUPS: &str = "route_guard.token_cache.lookups";
/// Counter: one per refresh of a JWKS, discovery included. Label `outcome`.
pub const JWKS_FETCHES: &str = "route_guard.jwks.fetches";
/// Histogram, seconds: how long each JWKS refresh took. Label `outcome`.
pub const JWKS_FETCH_DURATION: &str = "route_guard.jwks.fetch.duration";

/// Counter: one per call to an introspection endpoint (RFC 7662). Label `outcome`: `active`,
/// `inactive`, or the fault (`timeout`, `connect`, `status`, `too_large`, `invalid`, `error`).
/// Its cache is counted in [`TOKEN_CACHE_LOOKUPS`].
pub const INTROSPECTIONS: &str = "route_guard.introspection.calls";
/// Histogram, seconds: how long each introspection call took. Label `outcome`.
pub const INTROSPECTION_DURATION: &str = "route_guard.introspection.duration";

/// Histogram bucket bounds, in seconds, that suit both durations: from a cached token's
/// microseconds to a password hash's tens of milliseconds and a key fetch's seconds. Give them
/// to the exporter for aggregatable histograms (Prometheus' `set_buckets`) rather than
/// summaries, which also cost more per sample to maintain.
pub const DURATION_BUCKETS: &[f64] = &[
    0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0,
];

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
            describe_counter!(INTROSPECTIONS, "Token introspection calls, by outcome");
            describe_histogram!(
                INTROSPECTION_DURATION,
                Unit::Seconds,
                "Time a token introspection call took, by outcome"
            );
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
    // The reason decides the result and the error code: the policy and it name the series.
    handles::with(
        &handles::ATTEMPTS,
        handles::labels([policy, reason]),
        || {
            metrics::counter!(
                AUTHORIZATION_ATTEMPTS,
                "policy" => policy,
                "result" => result,
                "reason" => reason,
                "error" => error,
            )
        },
        |counter| counter.increment(1),
    );
}

/// Every value of the `scheme` label.
pub(crate) const SCHEMES: [&str; 6] = ["bearer", "basic", "apikey", "dpop", "custom", "none"];
/// Every value of an authentication's `result` label.
#[cfg(feature = "metrics")]
const AUTHENTICATION_RESULTS: [&str; 3] = ["success", "failure", "none"];

/// One authentication: `result` is `success`, `failure` or `none` (no credentials found).
#[cfg(feature = "metrics")]
#[inline]
pub(crate) fn authentication(scheme: &'static str, result: &'static str, took: Duration) {
    let position = |labels: &[&str], value| labels.iter().position(|label| *label == value);
    let scheme_index = position(&SCHEMES, scheme).unwrap_or(SCHEMES.len() - 2);
    let result_index = position(&AUTHENTICATION_RESULTS, result).unwrap_or(2);
    handles::in_slot(
        &handles::DURATIONS,
        scheme_index * AUTHENTICATION_RESULTS.len() + result_index,
        || metrics::histogram!(AUTHENTICATION_DURATION, "scheme" => scheme, "result" => result),
        |histogram| histogram.record(took),
    );
}

#[cfg(feature = "metrics")]
thread_local! {
    /// Whether the authentication running on this thread was answered by a cache hit.
    static CACHE_HIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// An authentication starts on this thread: no cache has answered it yet.
#[cfg(feature = "metrics")]
pub(crate) fn authentication_started() {
    let _ = CACHE_HIT.try_with(|hit| hit.set(false));
}

/// Whether a verified-token cache answered the authentication that started last on this
/// thread. Meaningful only for one that answered at once: nothing else ran on the thread in
/// between.
#[cfg(feature = "metrics")]
pub(crate) fn served_from_cache() -> bool {
    CACHE_HIT.try_with(std::cell::Cell::take).unwrap_or(false)
}

/// One lookup in a verified-token cache.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
#[inline]
pub(crate) fn token_cache(hit: bool) {
    #[cfg(feature = "metrics")]
    {
        if hit {
            let _ = CACHE_HIT.try_with(|cached| cached.set(true));
        }
        let result = if hit { "hit" } else { "miss" };
        handles::in_slot(
            &handles::LOOKUPS,
            usize::from(hit),
            || metrics::counter!(TOKEN_CACHE_LOOKUPS, "result" => result),
            |counter| counter.increment(1),
        );
    }
}

/// One JWKS refresh: `outcome` is `success` or the kind of failure.
#[cfg(all(feature = "metrics", feature = "jwks"))]
pub(crate) fn jwks_fetch(outcome: &'static str, took: Duration) {
    metrics::counter!(JWKS_FETCHES, "outcome" => outcome).increment(1);
    metrics::histogram!(JWKS_FETCH_DURATION, "outcome" => outcome).record(took);
}

/// One call to an introspection endpoint: `outcome` is `active`, `inactive` or the fault.
#[cfg(all(feature = "metrics", feature = "introspection"))]
pub(crate) fn introspection(outcome: &'static str, took: Duration) {
    metrics::counter!(INTROSPECTIONS, "outcome" => outcome).increment(1);
    metrics::histogram!(INTROSPECTION_DURATION, "outcome" => outcome).record(took);
}

/// The recorder's handles, kept per thread and label set: registering a metric builds its key
/// (an allocation for the labels) and looks it up in the recorder's registry, several hundred
/// nanoseconds that a request on the hot path should not pay each time. Metrics whose label
/// values are all known here keep their handles in fixed slots; the attempts, labelled with
/// policy names, in a small map. A handle is taken from the recorder installed when the thread
/// first records that label set: install the recorder before serving.
#[cfg(feature = "metrics")]
mod handles {
    use std::cell::{OnceCell, RefCell};
    use std::hash::{BuildHasherDefault, Hash, Hasher};
    use std::thread::LocalKey;

    use hashbrown::HashMap;
    use metrics::{Counter, Histogram};

    /// A label set by the addresses and lengths of its `'static` values: two different names
    /// never share both, and the same name written twice at most costs a second entry.
    pub(super) type Labels<const N: usize> = [(usize, usize); N];

    pub(super) fn labels<const N: usize>(values: [&'static str; N]) -> Labels<N> {
        values.map(|value| (value.as_ptr() as usize, value.len()))
    }

    type Cache<K, V> = RefCell<HashMap<K, V, BuildHasherDefault<AddressHasher>>>;

    /// Hashes label sets, which are addresses and lengths, with one multiply per word (FxHash's
    /// step): nothing here comes from a client, so no flooding resistance is needed.
    #[derive(Default)]
    pub(super) struct AddressHasher(u64);

    impl Hasher for AddressHasher {
        fn write(&mut self, bytes: &[u8]) {
            for &byte in bytes {
                self.write_u64(u64::from(byte));
            }
        }

        fn write_u64(&mut self, word: u64) {
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }

        fn write_usize(&mut self, word: usize) {
            self.write_u64(word as u64);
        }

        fn finish(&self) -> u64 {
            self.0
        }
    }

    type Slots<V, const N: usize> = [OnceCell<V>; N];

    thread_local! {
        pub(super) static ATTEMPTS: Cache<Labels<2>, Counter> = RefCell::default();
        pub(super) static LOOKUPS: Slots<Counter, 2> = const { [const { OnceCell::new() }; 2] };
        pub(super) static DURATIONS: Slots<Histogram, 18> =
            const { [const { OnceCell::new() }; 18] };
    }

    /// Runs `apply` on the handle in slot `index` of `slots`, registering it first if need be.
    /// A thread being torn down, whose slots are gone, records nothing.
    pub(super) fn in_slot<V, const N: usize>(
        slots: &'static LocalKey<Slots<V, N>>,
        index: usize,
        register: impl FnOnce() -> V,
        apply: impl FnOnce(&V),
    ) {
        let _ = slots.try_with(|slots| {
            if let Some(slot) = slots.get(index) {
                apply(slot.get_or_init(register));
            }
        });
    }

    /// Runs `apply` on the handle `cache` holds for `key`, registering it first if need be.
    /// A thread being torn down, whose cache is gone, records nothing.
    pub(super) fn with<K: Eq + Hash, V>(
        cache: &'static LocalKey<Cache<K, V>>,
        key: K,
        register: impl FnOnce() -> V,
        apply: impl FnOnce(&V),
    ) {
        let _ =
            cache.try_with(|cache| apply(cache.borrow_mut().entry(key).or_insert_with(register)));
    }
}
