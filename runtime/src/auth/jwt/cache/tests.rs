//! The verified-token cache, tested on its own.

use std::cell::Cell;

use serde_json::{Map, Value, json};

use super::*;

const NOW: u64 = 1_900_000_000;

fn identity(claims: Value) -> Identity {
    let Value::Object(claims) = claims else {
        return Identity::new("nobody", Vec::<String>::new(), Map::new());
    };
    Identity::new("alice", ["user"], claims)
}

fn bound(cache: &TokenCache, leeway: u64) -> BoundCache {
    CacheChoice::Use(cache.clone())
        .bind(leeway)
        .unwrap()
        .unwrap()
}

/// Looks `token` up at `now`, counting the verifications the cache could not avoid.
fn lookup(
    cache: &BoundCache,
    token: &str,
    now: u64,
    claims: &Value,
    calls: &Cell<u32>,
) -> Result<Arc<Identity>, TokenProblem> {
    cache.get_or_verify(token, now, || {
        calls.set(calls.get() + 1);
        Ok(identity(claims.clone()))
    })
}

#[test]
fn a_hit_skips_verification_and_returns_the_same_identity() {
    let cache = TokenCache::new(16);
    let bound = bound(&cache, 0);
    let (calls, claims) = (Cell::new(0), json!({ "exp": NOW + 60 }));
    let first = lookup(&bound, "a.b.c", NOW, &claims, &calls).unwrap();
    let second = lookup(&bound, "a.b.c", NOW + 1, &claims, &calls).unwrap();
    assert_eq!(calls.get(), 1);
    assert!(Arc::ptr_eq(&first, &second));
}

#[test]
fn a_hit_reapplies_exp_and_nbf_with_the_leeway() {
    let cache = TokenCache::new(16);
    let bound = bound(&cache, 5);
    let calls = Cell::new(0);
    let claims = json!({ "exp": NOW + 10, "nbf": NOW });
    lookup(&bound, "t", NOW, &claims, &calls).unwrap();
    // A clock stepped back before nbf - leeway.
    let early = lookup(&bound, "t", NOW - 6, &claims, &calls);
    assert_eq!(early.unwrap_err(), TokenProblem::NotYetValid);
    assert!(lookup(&bound, "t", NOW + 14, &claims, &calls).is_ok());
    // RFC 7519 §4.1.4: valid only before exp (plus the leeway), not at it.
    let late = lookup(&bound, "t", NOW + 15, &claims, &calls);
    assert_eq!(late.unwrap_err(), TokenProblem::Expired);
    assert_eq!(calls.get(), 1);
    assert!(cache.is_empty(), "the expired entry is dropped");
}

#[test]
fn invalidate_all_forces_verification_again() {
    let cache = TokenCache::new(16);
    let bound = bound(&cache, 0);
    let (calls, claims) = (Cell::new(0), json!({ "exp": NOW + 60 }));
    lookup(&bound, "t", NOW, &claims, &calls).unwrap();
    cache.invalidate_all();
    lookup(&bound, "t", NOW, &claims, &calls).unwrap();
    assert_eq!(calls.get(), 2);
}

/// `invalidate` and `invalidate_all` drop a verification; they do not revoke: the next use
/// verifies again, is accepted, and is cached again.
#[test]
fn invalidating_is_not_revoking() {
    let cache = TokenCache::new(16);
    let bound = bound(&cache, 0);
    let (calls, claims) = (Cell::new(0), json!({ "exp": NOW + 60 }));
    lookup(&bound, "t", NOW, &claims, &calls).unwrap();
    cache.invalidate("t");
    assert!(cache.is_empty());
    assert!(lookup(&bound, "t", NOW, &claims, &calls).is_ok());
    assert_eq!(
        (calls.get(), cache.len()),
        (2, 1),
        "verified and cached again"
    );
    cache.invalidate_all();
    assert!(lookup(&bound, "t", NOW, &claims, &calls).is_ok());
    assert_eq!(
        (calls.get(), cache.len()),
        (3, 1),
        "verified and cached again"
    );
    lookup(&bound, "t", NOW, &claims, &calls).unwrap();
    assert_eq!(calls.get(), 3, "served from the cache once more");
}

#[test]
fn a_verification_racing_a_key_rotation_is_not_served_afterwards() {
    let cache = TokenCache::new(16);
    let bound = bound(&cache, 0);
    let claims = json!({ "exp": NOW + 60 });
    // The keys change while this token is being verified under the old ones.
    let result = bound.get_or_verify("t", NOW, || {
        cache.invalidate_all();
        Ok(identity(claims.clone()))
    });
    assert!(result.is_ok());
    let calls = Cell::new(0);
    lookup(&bound, "t", NOW, &claims, &calls).unwrap();
    assert_eq!(calls.get(), 1, "the stale entry was served");
}

#[test]
fn entries_of_one_authenticator_are_not_served_to_another() {
    let cache = TokenCache::new(16);
    let (first, second) = (bound(&cache, 0), bound(&cache, 0));
    let (calls, claims) = (Cell::new(0), json!({ "exp": NOW + 60 }));
    lookup(&first, "t", NOW, &claims, &calls).unwrap();
    lookup(&second, "t", NOW, &claims, &calls).unwrap();
    assert_eq!(calls.get(), 2);
}

#[test]
fn failures_and_unreadable_dates_are_not_cached() {
    let cache = TokenCache::new(16);
    let bound = bound(&cache, 0);
    let failed = bound.get_or_verify("bad", NOW, || Err(TokenProblem::BadSignature));
    assert_eq!(failed.unwrap_err(), TokenProblem::BadSignature);
    let calls = Cell::new(0);
    // Not NumericDates at all (RFC 7519 §2: any JSON number is one).
    for exp in [json!("soon"), json!([NOW]), json!(true)] {
        lookup(&bound, "t", NOW, &json!({ "exp": exp }), &calls).unwrap();
    }
    assert!(cache.is_empty());
    // Fractional dates are read as jsonwebtoken reads them: rounded.
    lookup(
        &bound,
        "f",
        NOW,
        &json!({ "exp": NOW as f64 + 0.6 }),
        &calls,
    )
    .unwrap();
    assert_eq!(cache.len(), 1);
}

#[test]
fn zero_capacity_is_a_configuration_error() {
    for cache in [TokenCache::new(0), TokenCache::with_limits(10, 0)] {
        assert!(CacheChoice::Use(cache).bind(0).is_err());
    }
    assert!(CacheChoice::Off.bind(0).unwrap().is_none());
}
