//! The local view of revocations every request reads, in memory, without a round trip.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock};

use super::{EntryDigest, Revocation, WhenStoreDown, now_secs};
use crate::identity::Identity;
use crate::refusal::{Denial, TokenProblem};

/// The revocations this instance knows, and whether its store vouches that they are all of
/// them. A [`SharedStore`](super::SharedStore) fills it; the guard reads it on every request.
#[derive(Debug)]
pub struct RevocationView {
    entries: RwLock<Entries>,
    /// How many entries there are, read without the lock: with none, a request costs an
    /// atomic load.
    count: AtomicUsize,
    /// How many login locks there are, read without the lock.
    locks: AtomicUsize,
    fresh: AtomicBool,
    when_down: WhenStoreDown,
}

#[derive(Debug, Default)]
struct Entries {
    /// Revoked tokens and their expiry.
    tokens: HashMap<EntryDigest, u64>,
    /// Subjects and the `iat` their tokens must reach.
    subjects: HashMap<EntryDigest, u64>,
    /// Locked user names and addresses, and when their locks end.
    locks: HashMap<EntryDigest, u64>,
    /// When expired tokens were last dropped.
    pruned_at: u64,
}

/// How long a subject's cut-off is kept: longer than any token lives.
const SUBJECT_RETENTION_SECS: u64 = 7 * 24 * 3600;

impl RevocationView {
    pub(crate) fn new(when_down: WhenStoreDown) -> Self {
        RevocationView {
            entries: RwLock::new(Entries::default()),
            count: AtomicUsize::new(0),
            locks: AtomicUsize::new(0),
            fresh: AtomicBool::new(false),
            when_down,
        }
    }

    /// Adds one revocation (again: applying one twice changes nothing).
    pub fn apply(&self, revocation: Revocation) {
        self.merge([revocation]);
    }

    /// Adds many revocations at once, as a reload after a (re)connection does. Entries are
    /// never removed but by expiry, so merging a full load cannot lose one applied meanwhile.
    pub fn merge(&self, revocations: impl IntoIterator<Item = Revocation>) {
        let now = now_secs();
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        for revocation in revocations {
            match revocation {
                Revocation::Token { digest, expires_at } if expires_at >= now => {
                    let slot = entries.tokens.entry(digest).or_insert(expires_at);
                    *slot = (*slot).max(expires_at);
                }
                Revocation::Token { .. } => {}
                Revocation::Subject { digest, not_before } => {
                    let slot = entries.subjects.entry(digest).or_insert(not_before);
                    *slot = (*slot).max(not_before);
                }
                Revocation::Lock { digest, until } if until >= now => {
                    let slot = entries.locks.entry(digest).or_insert(until);
                    *slot = (*slot).max(until);
                }
                Revocation::Lock { .. } => {}
            }
        }
        if entries.pruned_at < now {
            entries.pruned_at = now;
            entries.tokens.retain(|_, exp| *exp >= now);
            let horizon = now.saturating_sub(SUBJECT_RETENTION_SECS);
            entries.subjects.retain(|_, at| *at >= horizon);
            entries.locks.retain(|_, until| *until >= now);
        }
        self.count.store(
            entries.tokens.len() + entries.subjects.len(),
            Ordering::Release,
        );
        self.locks.store(entries.locks.len(), Ordering::Release);
    }

    /// Says whether the store vouches that the view holds every revocation (it is connected
    /// and has loaded them all).
    pub fn set_fresh(&self, fresh: bool) {
        self.fresh.store(fresh, Ordering::Release);
    }

    /// Whether the store vouches for the view.
    #[must_use]
    pub fn is_fresh(&self) -> bool {
        self.fresh.load(Ordering::Acquire)
    }

    /// How many revocations the view holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Whether the view holds no revocation.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The seconds left on the longest lock among `keys`, if any is locked.
    pub(crate) fn locked(&self, keys: &[EntryDigest]) -> Option<u32> {
        if self.locks.load(Ordering::Acquire) == 0 {
            return None;
        }
        let now = now_secs();
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        keys.iter()
            .filter_map(|key| entries.locks.get(key))
            .filter(|until| **until >= now)
            .map(|until| u32::try_from(until - now).unwrap_or(u32::MAX).max(1))
            .max()
    }

    /// What the check does while the view is stale.
    pub(crate) fn when_down(&self) -> WhenStoreDown {
        self.when_down
    }

    /// The guard's check of an authenticated identity. Identities not built from a token (no
    /// `exp` claim: Basic, API keys) pass.
    pub(crate) fn check(&self, identity: &Identity) -> Result<(), Denial> {
        let claims = identity.claims();
        // Passwords and API keys have no token claims; a token has some of these, whether a
        // JWT or an introspection answer (where `exp` is optional, RFC 7662 §2.2).
        if !["exp", "iss", "jti", "iat"]
            .iter()
            .any(|name| claims.contains_key(*name))
        {
            return Ok(());
        }
        if !self.is_fresh()
            && let WhenStoreDown::Refuse { retry_after_secs } = self.when_down
        {
            tracing::warn!("route-guard: the revocation store is unavailable; refusing tokens");
            return Err(Denial::Unavailable { retry_after_secs });
        }
        if self.is_empty() {
            return Ok(());
        }
        let iss = claims.get("iss").and_then(|v| v.as_str()).unwrap_or("");
        let revoked = Denial::InvalidToken(TokenProblem::Revoked);
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        if !entries.tokens.is_empty()
            && let Some(jti) = claims.get("jti").and_then(|v| v.as_str())
            && entries
                .tokens
                .get(&EntryDigest::of("token", iss, jti))
                .is_some_and(|exp| *exp >= now_secs())
        {
            tracing::info!("route-guard: refused a revoked token");
            return Err(revoked);
        }
        if !entries.subjects.is_empty()
            && let Some(cutoff) =
                entries
                    .subjects
                    .get(&EntryDigest::of("subject", iss, identity.subject()))
        {
            // A token without `iat` cannot show it was issued after the cut-off.
            let iat = claims.get("iat").and_then(serde_json::Value::as_f64);
            if iat.is_none_or(|iat| iat < *cutoff as f64) {
                tracing::info!("route-guard: refused a token issued before its subject's logout");
                return Err(revoked);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: serde_json::Value) -> Identity {
        let map = claims.as_object().cloned().unwrap_or_default();
        let sub = map.get("sub").and_then(|v| v.as_str()).unwrap_or("");
        Identity::new(sub.to_owned(), Vec::<String>::new(), map)
    }

    fn fresh() -> RevocationView {
        let view = RevocationView::new(WhenStoreDown::default());
        view.set_fresh(true);
        view
    }

    #[test]
    fn a_revoked_jti_is_refused_and_others_pass() {
        let view = fresh();
        let exp = now_secs() + 60;
        view.apply(Revocation::Token {
            digest: EntryDigest::of("token", "i", "j1"),
            expires_at: exp,
        });
        let revoked = token(serde_json::json!({"iss": "i", "jti": "j1", "exp": exp, "sub": "a"}));
        let other = token(serde_json::json!({"iss": "i", "jti": "j2", "exp": exp, "sub": "a"}));
        let elsewhere = token(serde_json::json!({"iss": "k", "jti": "j1", "exp": exp}));
        assert_eq!(
            view.check(&revoked),
            Err(Denial::InvalidToken(TokenProblem::Revoked))
        );
        assert_eq!(view.check(&other), Ok(()));
        assert_eq!(view.check(&elsewhere), Ok(()));
    }

    #[test]
    fn expired_revocations_are_dropped() {
        let view = fresh();
        view.apply(Revocation::Token {
            digest: EntryDigest::of("token", "i", "old"),
            expires_at: now_secs() - 10,
        });
        assert!(view.is_empty());
    }

    #[test]
    fn a_subject_cutoff_refuses_older_tokens_and_those_without_iat() {
        let view = fresh();
        let now = now_secs();
        view.apply(Revocation::Subject {
            digest: EntryDigest::of("subject", "i", "alice"),
            not_before: now,
        });
        let exp = now + 60;
        let older =
            token(serde_json::json!({"iss": "i", "sub": "alice", "iat": now - 1, "exp": exp}));
        let newer = token(serde_json::json!({"iss": "i", "sub": "alice", "iat": now, "exp": exp}));
        let no_iat = token(serde_json::json!({"iss": "i", "sub": "alice", "exp": exp}));
        let bob = token(serde_json::json!({"iss": "i", "sub": "bob", "iat": now - 1, "exp": exp}));
        let revoked = Err(Denial::InvalidToken(TokenProblem::Revoked));
        assert_eq!(view.check(&older), revoked);
        assert_eq!(view.check(&no_iat), revoked);
        assert_eq!(view.check(&newer), Ok(()));
        assert_eq!(view.check(&bob), Ok(()));
    }

    #[test]
    fn a_stale_view_refuses_tokens_unless_told_otherwise_and_never_basic_logins() {
        let exp = now_secs() + 60;
        let jwt = token(serde_json::json!({"iss": "i", "sub": "a", "exp": exp}));
        let basic = token(serde_json::json!({}));
        let stale = RevocationView::new(WhenStoreDown::Refuse {
            retry_after_secs: 7,
        });
        assert_eq!(
            stale.check(&jwt),
            Err(Denial::Unavailable {
                retry_after_secs: 7
            })
        );
        assert_eq!(stale.check(&basic), Ok(()));
        let lenient = RevocationView::new(WhenStoreDown::UseLastKnown);
        assert_eq!(lenient.check(&jwt), Ok(()));
    }
}
