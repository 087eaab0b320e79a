//! Remembered introspection answers, and one call in flight per token.
//!
//! - Keys are the SHA-256 digest of the whole token: two tokens never share an entry (short of
//!   a SHA-256 collision), and the cache holds no usable credential.
//! - An active answer is kept until the earlier of its `exp` and the configured TTL; a refusing
//!   one (not active, another audience) for the shorter inactive TTL; a fault never.
//! - Bounded by entries and by an estimate of memory (quick_cache's S3-FIFO, as the JWT cache).
//! - Single flight: the first request for a token the cache lacks starts the call as a task of
//!   its own; every request carrying the token meanwhile waits for that call's answer, faults
//!   included. A client that hangs up does not cancel it.
//!
//! The trade-off: a token revoked at the provider keeps working until its entry ends (the TTL
//! at most). Choose the TTL as the longest a revoked token may be honoured.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use quick_cache::{OptionsBuilder, Weighter};
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;

use super::Inner;
use crate::auth::{AuthFuture, AuthResult};
use crate::identity::Identity;
use crate::refusal::{Denial, TokenProblem};

/// A token's cache key: the SHA-256 digest of all of it.
pub(crate) type Key = [u8; 32];

pub(crate) fn key(token: &str) -> Key {
    Sha256::digest(token.as_bytes()).into()
}

/// What an entry costs beyond its answer's members: the key, the map nodes, the identity.
const ENTRY_OVERHEAD: u64 = 256;

#[derive(Clone)]
struct Entry {
    answer: Result<Arc<Identity>, TokenProblem>,
    until: Instant,
    bytes: u64,
}

#[derive(Clone)]
struct EntryWeighter {
    min_weight: u64,
}

impl Weighter<Key, Entry> for EntryWeighter {
    fn weight(&self, _key: &Key, entry: &Entry) -> u64 {
        entry.bytes.max(self.min_weight)
    }
}

type Waiting = watch::Receiver<Option<AuthResult>>;

/// The remembered answers and the calls in flight.
pub(crate) struct Answers {
    entries: Option<Cache<Key, Entry, EntryWeighter>>,
    flights: Mutex<HashMap<Key, Waiting>>,
}

impl Answers {
    /// A cache of at most `limits = (entries, bytes)`, or none.
    pub(crate) fn new(limits: Option<(usize, u64)>) -> Self {
        let entries = limits.map(|(max_entries, max_bytes)| {
            let min_weight = (max_bytes / max_entries as u64).max(1);
            let weighter = EntryWeighter { min_weight };
            let options = OptionsBuilder::new()
                .estimated_items_capacity(max_entries)
                .weight_capacity(max_bytes)
                .shards(crate::auth::jwt::cache::shards_for(max_bytes))
                .build();
            match options {
                Ok(options) => {
                    Cache::with_options(options, weighter, Default::default(), Default::default())
                }
                Err(_) => Cache::with_weighter(max_entries, max_bytes, weighter),
            }
        });
        Answers {
            entries,
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// The remembered answer for `key`, if it has not ended.
    fn remembered(&self, key: &Key) -> Option<Result<Arc<Identity>, TokenProblem>> {
        let entries = self.entries.as_ref()?;
        let entry = entries.get(key)?;
        if Instant::now() >= entry.until {
            entries.remove(key);
            return None;
        }
        Some(entry.answer)
    }

    fn flights(&self) -> MutexGuard<'_, HashMap<Key, Waiting>> {
        self.flights.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers `answer` for `key` until `until`; `bytes` estimates its memory.
    fn remember(
        &self,
        key: Key,
        answer: Result<Arc<Identity>, TokenProblem>,
        until: Instant,
        bytes: u64,
    ) {
        if let Some(entries) = &self.entries {
            entries.insert(
                key,
                Entry {
                    answer,
                    until,
                    bytes: bytes.saturating_add(ENTRY_OVERHEAD),
                },
            );
        }
    }

    /// How many answers are remembered now.
    pub(crate) fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, Cache::len)
    }
}

/// The answer for `token`: remembered, or from the call in flight for it, or from a new call.
pub(crate) fn answer(inner: &Arc<Inner>, token: &str) -> AuthFuture {
    let key = key(token);
    if let Some(answer) = inner.cache.remembered(&key) {
        crate::observe::instruments::token_cache(true);
        return AuthFuture::ready(answer.map_err(Denial::InvalidToken));
    }
    crate::observe::instruments::token_cache(false);
    let receiver = {
        let mut flights = inner.cache.flights();
        if let Some(waiting) = flights.get(&key) {
            waiting.clone()
        } else {
            // A call may have landed between the lookup above and the lock.
            if let Some(answer) = inner.cache.remembered(&key) {
                return AuthFuture::ready(answer.map_err(Denial::InvalidToken));
            }
            let (sender, receiver) = watch::channel(None);
            flights.insert(key, receiver.clone());
            drop(flights);
            start(Arc::clone(inner), key, token.to_owned(), sender);
            receiver
        }
    };
    let patience = inner.settings.patience();
    let unavailable = inner.settings.unavailable();
    AuthFuture::new(async move {
        let mut receiver = receiver;
        let waited = tokio::time::timeout(patience, receiver.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(answer)) => answer.clone().unwrap_or(Err(unavailable)),
            // Too long, or the call was dropped with its runtime.
            _ => Err(unavailable),
        }
    })
}

/// Lands a call however it ends: the flight is removed and its waiters told, with the
/// answer given or, if the call was dropped unfinished, 503.
struct Landing {
    inner: Arc<Inner>,
    key: Key,
    sender: watch::Sender<Option<AuthResult>>,
    answer: Option<AuthResult>,
}

impl Landing {
    fn land(mut self, answer: AuthResult) {
        self.answer = Some(answer);
    }
}

impl Drop for Landing {
    fn drop(&mut self) {
        self.inner.cache.flights().remove(&self.key);
        let answer = self
            .answer
            .take()
            .unwrap_or(Err(self.inner.settings.unavailable()));
        self.sender.send_replace(Some(answer));
    }
}

/// Runs the call for `token` as a task of its own, so that no client hanging up cancels it.
fn start(inner: Arc<Inner>, key: Key, token: String, sender: watch::Sender<Option<AuthResult>>) {
    let landing = Landing {
        inner,
        key,
        sender,
        answer: None,
    };
    // Outside a runtime there is nothing to run the call on: the landing answers 503.
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("route-guard: introspection needs a Tokio runtime; answering 503");
        return;
    };
    runtime.spawn(async move {
        let inner = Arc::clone(&landing.inner);
        let answer = match inner.introspect(&token).await {
            Ok(said) => {
                let now = jsonwebtoken::get_current_timestamp();
                let (judged, lifetime) = inner.judge(said, now);
                let bytes = judged.as_ref().map_or(0, |identity| {
                    identity.claims_value().to_string().len() as u64 * 3
                });
                if let Some(until) = Instant::now().checked_add(lifetime)
                    && !lifetime.is_zero()
                {
                    inner.cache.remember(key, judged.clone(), until, bytes);
                }
                judged.map_err(Denial::InvalidToken)
            }
            Err(error) => {
                tracing::warn!(%error, "route-guard: token introspection failed; answering 503");
                Err(inner.settings.unavailable())
            }
        };
        landing.land(answer);
    });
}

impl super::Settings {
    /// The 503 of a failed call.
    pub(crate) fn unavailable(&self) -> Denial {
        Denial::Unavailable {
            retry_after_secs: self.retry_after_secs,
        }
    }

    /// How long a request waits for a call: up to three requests (two metadata documents, then
    /// the endpoint) and a second to spare.
    fn patience(&self) -> Duration {
        self.timeout
            .saturating_mul(3)
            .saturating_add(Duration::from_secs(1))
    }
}
