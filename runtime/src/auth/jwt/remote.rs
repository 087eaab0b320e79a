//! Keys fetched from a JWKS URL or found through OpenID Connect discovery, cached and refreshed
//! without ever blocking a request on a healthy cache.
//!
//! - One key set is shared by every worker (`ArcSwap`): reading it is a lock-free load.
//! - A refresh runs as its own task, so a client that disconnects cannot cancel it, and at most
//!   one runs at a time (single flight).
//! - A refresh starts when the set is past the lifetime the provider's `Cache-Control` grants
//!   (or the configured interval), or when a token names a `kid` the set lacks, but never
//!   sooner than the cooldown after the previous attempt: clients cannot make the guard hammer
//!   the provider.
//! - A failed refresh (timeout, 5xx, garbage, an oversized body, no usable key) keeps the last
//!   good set.
//! - Every fetch takes a generation number when it starts, and a set is installed only if no
//!   later-started fetch has installed one already: a slow [`load_keys`] racing a background
//!   refresh cannot bring back a key the provider has withdrawn since.
//!
//! [`load_keys`]: crate::JwtAuthenticator::load_keys

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use jsonwebtoken::Algorithm;
use reqwest::{Client, Url};
use tokio::sync::watch;

use super::cache::TokenCache;
use super::jwk::{KeySet, parse_jwks};
use super::jwks::{Jwks, Source};
use super::key::JwtKey;
use crate::auth::fetch::{self, FetchError};
use crate::config::ConfigError;

/// The algorithms a fetched key may verify: the asymmetric ones. A JWKS is public, so an HMAC
/// (`oct`) key in it would be a shared secret anyone could sign with.
const FETCHED_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The fetched keys and the machinery that refreshes them.
pub(crate) struct RemoteKeys {
    settings: Jwks,
    client: Client,
    /// The discovery document's address and the issuer it must name, when discovering.
    discovery: Option<(Url, String)>,
    jwks_url: Mutex<Option<Url>>,
    keys: ArcSwap<KeySet>,
    /// The generation of the fetch whose set is in `keys` (0: none yet). Held while a set is
    /// installed, so that comparing generations, swapping and the withdrawn-key check are one
    /// step; read without it to tell whether the set changed.
    installed: Mutex<u64>,
    /// A copy of `installed`, readable without the lock.
    installed_generation: AtomicU64,
    /// The last generation handed to a fetch.
    fetches: AtomicU64,
    control: Mutex<Control>,
    /// Counts finished refresh attempts; waiters watch it.
    done: watch::Sender<u64>,
    /// Verified tokens to forget when a key disappears.
    cache: Option<TokenCache>,
}

#[derive(Default)]
struct Control {
    in_flight: bool,
    last_attempt: Option<Instant>,
}

impl RemoteKeys {
    pub(crate) fn new(settings: Jwks, cache: Option<TokenCache>) -> Result<Self, ConfigError> {
        if settings.cooldown.is_zero() || settings.timeout.is_zero() || settings.max_body == 0 {
            return Err(ConfigError::new(
                "the JWKS cooldown, timeout and max_body must be greater than zero",
            ));
        }
        // A key set's lifetime is clamped to [cooldown, max_cache]; `Duration::clamp` panics
        // when the bounds cross, so crossed bounds are refused here, before any refresh.
        if settings.cooldown > settings.max_cache {
            return Err(ConfigError::new(format!(
                "the JWKS cooldown ({}s) is longer than the {}s a key set may be kept; \
                 choose a cooldown of at most {}s",
                settings.cooldown.as_secs(),
                settings.max_cache.as_secs(),
                settings.max_cache.as_secs(),
            )));
        }
        let (discovery, jwks_url) = match &settings.source {
            Source::Url(url) => (None, Some(fetch::check_url(url).map_err(ConfigError::new)?)),
            Source::Discover(issuer) => {
                let url = fetch::discovery_url(issuer).map_err(ConfigError::new)?;
                (Some((url, issuer.clone())), None)
            }
        };
        let connect = settings.timeout.min(Duration::from_secs(5));
        let client = fetch::client(connect, settings.timeout).map_err(ConfigError::new)?;
        Ok(RemoteKeys {
            settings,
            client,
            discovery,
            jwks_url: Mutex::new(jwks_url),
            keys: ArcSwap::from_pointee(KeySet::default()),
            installed: Mutex::new(0),
            installed_generation: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
            control: Mutex::new(Control::default()),
            done: watch::Sender::new(0),
            cache,
        })
    }

    /// The keys to verify with now. Starts a background refresh when they are stale.
    pub(crate) fn current(self: &Arc<Self>) -> Arc<KeySet> {
        let keys = self.keys.load_full();
        self.refresh_if_stale(&keys);
        keys
    }

    /// Starts a background refresh if the keys are past their lifetime. Called on every
    /// request, including those the verified-token cache answers, so that a key the provider
    /// withdrew stops working within one lifetime however busy the cache is.
    fn refresh_if_stale(self: &Arc<Self>, keys: &KeySet) {
        let now = Instant::now();
        if keys.loaded && keys.fresh_until.is_some_and(|until| now >= until) {
            self.start();
        }
    }

    /// [`refresh_if_stale`](Self::refresh_if_stale) on the keys in use.
    pub(crate) fn touch(self: &Arc<Self>) {
        self.refresh_if_stale(&self.keys.load());
    }

    /// A refresh to wait for, because a token named a key the set lacks: the one in flight, or
    /// a new one unless the cooldown forbids it.
    pub(crate) fn refresh_for_unknown_key(self: &Arc<Self>) -> Option<watch::Receiver<u64>> {
        let receiver = self.done.subscribe();
        self.start().then_some(receiver)
    }

    /// The generation of the set in use: it changes whenever a fetched set is installed.
    pub(crate) fn installed_generation(&self) -> u64 {
        self.installed_generation.load(Ordering::Acquire)
    }

    /// Waits for the refresh `receiver` watches, then returns the keys: at most as long as
    /// that refresh may take, one fetch timeout per request it makes (two on a cold start
    /// with discovery: the discovery document, then the JWKS), and a second to spare.
    pub(crate) async fn wait(&self, mut receiver: watch::Receiver<u64>) -> Arc<KeySet> {
        let requests = if self.discovery.is_some() { 2 } else { 1 };
        let patience = self
            .settings
            .timeout
            .saturating_mul(requests)
            .saturating_add(Duration::from_secs(1));
        // Timed out or the task was dropped with its runtime: use whatever keys there are.
        let _ = tokio::time::timeout(patience, receiver.changed()).await;
        self.keys.load_full()
    }

    /// Seconds until another fetch may start: the `Retry-After` of a 503. Rounded up, so that
    /// a client waiting as told finds the cooldown over (2.9 s left is 3, not 2), and at least 1.
    pub(crate) fn retry_after_secs(&self) -> u32 {
        let control = self.control();
        let remaining = control.last_attempt.map_or(Duration::ZERO, |last| {
            self.settings.cooldown.saturating_sub(last.elapsed())
        });
        let secs = remaining
            .as_secs()
            .saturating_add(u64::from(remaining.subsec_nanos() > 0));
        u32::try_from(secs.max(1)).unwrap_or(u32::MAX)
    }

    /// Fetches now, whatever the cooldown, and reports how many keys are in use.
    pub(crate) async fn load(self: &Arc<Self>) -> Result<usize, FetchError> {
        let generation = self.next_generation();
        let outcome = self.fetch().await;
        self.control().last_attempt = Some(Instant::now());
        self.install(generation, outcome)
    }

    /// The generation of a fetch starting now: later than every fetch started before.
    pub(super) fn next_generation(&self) -> u64 {
        self.fetches.fetch_add(1, Ordering::AcqRel).wrapping_add(1)
    }

    fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a refresh task unless one is running (`true` then too) or the cooldown since the
    /// last attempt has not passed (`false`).
    fn start(self: &Arc<Self>) -> bool {
        let mut control = self.control();
        if control.in_flight {
            return true;
        }
        if control
            .last_attempt
            .is_some_and(|last| last.elapsed() < self.settings.cooldown)
        {
            return false;
        }
        // Outside a runtime (a direct `verify` call in a plain test) there is nothing to run
        // the task on; the cached keys are all there is.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        control.in_flight = true;
        control.last_attempt = Some(Instant::now());
        drop(control);
        let finish = Finish(self.clone());
        let generation = self.next_generation();
        runtime.spawn(async move {
            let outcome = finish.0.fetch().await;
            let _ = finish.0.install(generation, outcome);
        });
        true
    }

    /// Puts the set fetched by generation `generation` in use, or keeps the last good one. A
    /// set from a fetch that started before the one installed is stale and dropped: the
    /// provider may have withdrawn one of its keys in between.
    pub(super) fn install(
        &self,
        generation: u64,
        outcome: Result<(KeySet, Duration), FetchError>,
    ) -> Result<usize, FetchError> {
        let (mut fresh, lifetime) = match outcome {
            Ok(set) if set.0.keys.is_empty() => Err("the JWKS holds no usable key".into()),
            other => other,
        }
        .inspect_err(|error| {
            tracing::warn!("route-guard: JWKS refresh failed, keeping the last good keys: {error}");
        })?;
        let lifetime = lifetime.clamp(self.settings.cooldown, self.settings.max_cache);
        fresh.fresh_until = Instant::now().checked_add(lifetime);
        let count = fresh.keys.len();
        super::key::warn_of_test_keys(&fresh.keys, "the fetched JWKS");
        let mut installed = self
            .installed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if generation < *installed {
            tracing::debug!(
                generation,
                installed = *installed,
                "route-guard: a JWKS fetched before the keys in use is dropped"
            );
            return Ok(self.keys.load().keys.len());
        }
        let fresh = Arc::new(fresh);
        let previous = self.keys.swap(Arc::clone(&fresh));
        *installed = generation;
        self.installed_generation
            .store(generation, Ordering::Release);
        drop(installed);
        if withdraws(&previous.keys, &fresh.keys)
            && let Some(cache) = &self.cache
        {
            // A token verified with a withdrawn key must not live on in the cache.
            cache.invalidate_all();
        }
        tracing::debug!(keys = count, "route-guard: JWKS refreshed");
        Ok(count)
    }

    /// One fetch, measured: discovery when needed, then the key set.
    async fn fetch(&self) -> Result<(KeySet, Duration), FetchError> {
        #[cfg(feature = "metrics")]
        let started = Instant::now();
        let fetched = self.fetch_unmeasured().await;
        #[cfg(feature = "metrics")]
        {
            let outcome = match &fetched {
                Ok((set, _)) if set.keys.is_empty() => "invalid",
                Ok(_) => "success",
                Err(error) => error.kind,
            };
            crate::observe::instruments::jwks_fetch(outcome, started.elapsed());
        }
        fetched
    }

    async fn fetch_unmeasured(&self) -> Result<(KeySet, Duration), FetchError> {
        let known = self
            .jwks_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let url = match (known, &self.discovery) {
            (Some(url), _) => url,
            (None, Some((discovery, issuer))) => {
                let document = fetch::get(&self.client, discovery, self.settings.max_body).await?;
                let url = fetch::jwks_uri(&document.body, issuer)?;
                *self.jwks_url.lock().unwrap_or_else(PoisonError::into_inner) = Some(url.clone());
                url
            }
            (None, None) => return Err("no JWKS URL".into()),
        };
        let fetched = fetch::get(&self.client, &url, self.settings.max_body).await;
        if fetched.is_err() && self.discovery.is_some() {
            // The provider may have moved its keys: discover again next time.
            *self.jwks_url.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
        let fetched = fetched?;
        let keys = parse_jwks(&fetched.body)?
            .into_iter()
            .filter(|key| FETCHED_ALGORITHMS.contains(&key.algorithm))
            .collect();
        let lifetime = fetched.max_age.unwrap_or(self.settings.refresh_interval);
        Ok((KeySet::loaded(keys), lifetime))
    }
}

/// Whether installing `installed` in place of `previous` withdraws a key: some key of
/// `previous` is not in `installed` with the same `kid`, algorithm and key material. Comparing
/// names alone would miss a provider that republishes a `kid` (or a kid-less key) with new
/// material, and tokens verified with the old material would be served from the cache.
fn withdraws(previous: &[JwtKey], installed: &[JwtKey]) -> bool {
    previous
        .iter()
        .any(|old| !installed.iter().any(|new| new.same_key(old)))
}

/// Marks the refresh finished however its task ends: completed, or dropped with its runtime.
struct Finish(Arc<RemoteKeys>);

impl Drop for Finish {
    fn drop(&mut self) {
        self.0.control().in_flight = false;
        self.0
            .done
            .send_modify(|attempts| *attempts = attempts.wrapping_add(1));
    }
}

impl fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteKeys")
            .field("source", &self.settings.source)
            .field("keys", &self.keys.load().keys.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const N1: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

    /// The same modulus with its last character changed: another 2048-bit key.
    fn other_modulus() -> String {
        let mut n = N1.to_owned();
        n.pop();
        n.push('A');
        n
    }

    fn keys(jwks: serde_json::Value) -> Vec<JwtKey> {
        parse_jwks(jwks.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_cooldown_longer_than_the_cache_ceiling_is_a_configuration_error() {
        let day = Duration::from_secs(24 * 3600);
        let jwks = |cooldown| Jwks::url("https://idp.example/keys").cooldown(cooldown);
        let refused = RemoteKeys::new(jwks(day + Duration::from_secs(1)), None).err();
        let message = refused.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("cooldown"), "{message}");
        // At the ceiling, installing a set of any advertised lifetime does not panic.
        let remote = RemoteKeys::new(jwks(day), None).unwrap();
        let set = keys(json!({"keys": [{"kty": "RSA", "kid": "k", "n": N1, "e": "AQAB"}]}));
        for lifetime in [Duration::ZERO, day, day * 2] {
            let outcome = Ok((KeySet::loaded(set.clone()), lifetime));
            let generation = remote.next_generation();
            assert_eq!(remote.install(generation, outcome).ok(), Some(1));
        }
    }

    #[test]
    fn a_set_fetched_before_the_installed_one_is_dropped() {
        let remote = RemoteKeys::new(Jwks::url("https://idp.example/keys"), None).unwrap();
        let set = |kid: &str| {
            let jwks = json!({"keys": [{"kty": "RSA", "kid": kid, "n": N1, "e": "AQAB"}]});
            Ok((KeySet::loaded(keys(jwks)), Duration::from_secs(60)))
        };
        let kids = || -> Vec<Option<String>> {
            remote
                .keys
                .load()
                .keys
                .iter()
                .map(|k| k.kid.clone())
                .collect()
        };
        // A slow fetch starts, a later one finishes first; the slow one's set is stale.
        let (slow, quick) = (remote.next_generation(), remote.next_generation());
        remote.install(quick, set("new")).unwrap();
        assert_eq!(remote.install(slow, set("withdrawn")).ok(), Some(1));
        assert_eq!(kids(), [Some("new".to_owned())]);
        assert_eq!(remote.installed_generation(), quick);
        assert_eq!(*remote.installed.lock().unwrap(), quick);
        // A fetch started after the installed one is installed.
        let later = remote.next_generation();
        remote.install(later, set("newer")).unwrap();
        assert_eq!(kids(), [Some("newer".to_owned())]);
    }

    #[test]
    fn new_material_under_the_same_kid_withdraws_the_old_key() {
        let old = keys(json!({"keys": [{"kty": "RSA", "kid": "k", "n": N1, "e": "AQAB"}]}));
        let same = keys(json!({"keys": [{"kty": "RSA", "kid": "k", "n": N1, "e": "AQAB"}]}));
        let replaced =
            keys(json!({"keys": [{"kty": "RSA", "kid": "k", "n": other_modulus(), "e": "AQAB"}]}));
        assert!(!withdraws(&old, &same));
        assert!(withdraws(&old, &replaced));
        // An added key withdraws nothing; a renamed one does.
        let both = [same.clone(), replaced.clone()].concat();
        assert!(!withdraws(&old, &both));
        let renamed = keys(json!({"keys": [{"kty": "RSA", "kid": "k2", "n": N1, "e": "AQAB"}]}));
        assert!(withdraws(&old, &renamed));
    }

    #[test]
    fn swapping_one_kid_less_key_for_another_withdraws_it() {
        let old = keys(json!({"keys": [{"kty": "RSA", "n": N1, "e": "AQAB"}]}));
        let new = keys(json!({"keys": [{"kty": "RSA", "n": other_modulus(), "e": "AQAB"}]}));
        assert!(withdraws(&old, &new));
        assert!(!withdraws(&old, &old));
    }
}
