//! The default store: this process's memory, for an application that runs one instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;

use super::{EntryDigest, Revocation, RevocationView, SharedStore, StoreFuture};

/// Revocations and replay checks in this process only. Nothing to configure, never down; other
/// instances of the application do not see what it holds.
#[derive(Debug, Default)]
pub struct MemoryStore {
    seen: Mutex<Seen>,
    failures: Mutex<Failures>,
}

#[derive(Debug, Default)]
struct Failures {
    counts: HashMap<EntryDigest, (u32, Instant)>,
    sweep_at: usize,
}

#[derive(Debug, Default)]
struct Seen {
    until: HashMap<EntryDigest, Instant>,
    /// Entries before the next sweep of expired ones, so that the table cannot grow without
    /// bound and a sweep costs amortized O(1) per insertion.
    sweep_at: usize,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        MemoryStore::default()
    }
}

impl SharedStore for MemoryStore {
    fn attach(&self, view: Arc<RevocationView>) {
        // The view is the whole store: always complete.
        view.set_fresh(true);
    }

    fn publish(&self, _revocation: Revocation) -> StoreFuture<()> {
        // The caller applied it to the view, which is all there is.
        async { Ok(()) }.boxed()
    }

    fn first_use(&self, key: EntryDigest, window: Duration) -> StoreFuture<bool> {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.until.len() >= seen.sweep_at {
            seen.until.retain(|_, until| *until > now);
            seen.sweep_at = (seen.until.len() * 2).max(1024);
        }
        let first = match seen.until.get(&key) {
            Some(until) if *until > now => false,
            _ => {
                seen.until.insert(key, now + window);
                true
            }
        };
        async move { Ok(first) }.boxed()
    }

    fn count_failure(&self, key: EntryDigest, window: Duration) -> StoreFuture<(u32, Duration)> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.counts.len() >= failures.sweep_at {
            failures.counts.retain(|_, (_, end)| *end > now);
            failures.sweep_at = (failures.counts.len() * 2).max(1024);
        }
        let slot = failures.counts.entry(key).or_insert((0, now + window));
        if slot.1 <= now {
            *slot = (0, now + window);
        }
        slot.0 = slot.0.saturating_add(1);
        let answer = (slot.0, slot.1 - now);
        async move { Ok(answer) }.boxed()
    }

    fn may_be_unavailable(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_use_is_true_once_per_window() {
        let store = MemoryStore::new();
        let key = EntryDigest::of("replay", "k", "j");
        let first = |window| futures_util::FutureExt::now_or_never(store.first_use(key, window));
        assert_eq!(first(Duration::from_millis(50)), Some(Ok(true)));
        assert_eq!(first(Duration::from_millis(50)), Some(Ok(false)));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(first(Duration::from_millis(50)), Some(Ok(true)));
        let other = EntryDigest::of("replay", "k", "other");
        assert_eq!(
            store
                .first_use(other, Duration::from_secs(1))
                .now_or_never(),
            Some(Ok(true))
        );
    }
}
