//! State many instances of an application share: revoked tokens, subjects logged out
//! everywhere, and the `jti`s a replay check has seen.
//!
//! A guard keeps a local view of the revocations ([`RevocationView`]) that every request reads
//! without a network round trip. A [`SharedStore`] keeps that view fresh and carries what one
//! instance revokes to the others: [`MemoryStore`] (the default: one instance, nothing to
//! configure) or, with the `redis` feature, `RedisStore` (pub/sub, a full reload on every
//! (re)connection, so that a missed message leaves no hole).
//!
//! While the view cannot be trusted to be fresh (the store is down), tokens are refused with
//! 503 and `Retry-After` by default; see [`WhenStoreDown`].
//!
//! Nothing a store writes contains a token: entries are SHA-256 digests of (`iss`, `jti`) and
//! (`iss`, `sub`), with the expiry or cut-off time.

mod memory;
#[cfg(feature = "redis")]
mod redis;
mod view;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{RedisStore, RedisStoreBuilder};
pub use view::RevocationView;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use sha2::{Digest as _, Sha256};

use crate::identity::Identity;

/// A SHA-256 digest standing for an (issuer, identifier) pair, so that no store holds a token
/// or a subject in clear.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntryDigest([u8; 32]);

impl EntryDigest {
    /// The digest of `id` (a `jti`, a `sub`, a proof's `jti`) under `issuer`, in `space`
    /// (tokens, subjects and replay namespaces never collide).
    #[must_use]
    pub fn of(space: &str, issuer: &str, id: &str) -> Self {
        let mut hash = Sha256::new();
        for part in [space, issuer, id] {
            // Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        EntryDigest(hash.finalize().into())
    }

    /// Lower-case hexadecimal, as stores write it.
    #[must_use]
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads [`to_hex`](Self::to_hex)'s output back; `None` for anything else.
    #[must_use]
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).ok()?;
            *slot = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(EntryDigest(out))
    }
}

impl fmt::Debug for EntryDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntryDigest({})", self.to_hex())
    }
}

/// One revocation (or login lock), as stores carry it between instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation {
    /// One token, by (`iss`, `jti`), until it expires.
    Token {
        /// [`EntryDigest::of`]`("token", iss, jti)`.
        digest: EntryDigest,
        /// The token's `exp` (seconds since the epoch): the entry is dropped after it.
        expires_at: u64,
    },
    /// Every token of a subject issued (`iat`) before a time: "log out everywhere".
    Subject {
        /// [`EntryDigest::of`]`("subject", iss, sub)`.
        digest: EntryDigest,
        /// Tokens whose `iat` is earlier are refused (seconds since the epoch).
        not_before: u64,
    },
    /// Logins locked after too many failures ([`Lockout`]), for a user name or a client
    /// address.
    Lock {
        /// [`EntryDigest::of`]`("lockout-user", authenticator, name)` or
        /// `("lockout-address", "", address)`.
        digest: EntryDigest,
        /// When the lock ends (seconds since the epoch).
        until: u64,
    },
}

/// Why a store could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(String);

impl StoreError {
    /// An error with a message for the log.
    pub fn new(message: impl Into<String>) -> Self {
        StoreError(message.into())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// What a store's asynchronous operations return.
pub type StoreFuture<T> = BoxFuture<'static, Result<T, StoreError>>;

/// Where the state instances share lives: [`MemoryStore`], `RedisStore` (feature `redis`), or
/// the application's own.
pub trait SharedStore: Send + Sync + 'static {
    /// Keeps `view` fresh from now on: loads every revocation the store holds, applies those
    /// other instances publish, and marks the view stale ([`RevocationView::set_fresh`]) while
    /// it cannot. Called once, when the guard is built.
    fn attach(&self, view: Arc<RevocationView>);

    /// Records `revocation` for every instance. The instance that calls it has already
    /// applied it to its own view.
    fn publish(&self, revocation: Revocation) -> StoreFuture<()>;

    /// Remembers `key` for `window` and answers whether this is the first time it was seen
    /// within it, atomically across every instance sharing the store: the replay check of
    /// proofs (a DPoP proof's `jti`).
    fn first_use(&self, key: EntryDigest, window: Duration) -> StoreFuture<bool>;

    /// Counts one failed login for `key` in a window of `window` that starts with the first
    /// failure, across every instance; answers the count so far and the time left in the
    /// window.
    fn count_failure(&self, key: EntryDigest, window: Duration) -> StoreFuture<(u32, Duration)>;

    /// Whether the store can be down, leaving the view stale (true unless it lives in this
    /// process); the OpenAPI documents then list 503 for token routes.
    fn may_be_unavailable(&self) -> bool {
        true
    }
}

/// What revocation checks do while the store cannot confirm the local view is fresh (the
/// server is down or restarting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WhenStoreDown {
    /// Refuse every token with 503 and `Retry-After` (the default, 5 s): a token revoked
    /// during the outage is never let through. Basic and API-key logins are not affected.
    Refuse {
        /// Seconds sent in `Retry-After`.
        retry_after_secs: u32,
    },
    /// Keep answering from the last view: revocations made elsewhere during the outage are
    /// enforced only once the store is back.
    UseLastKnown,
}

impl Default for WhenStoreDown {
    fn default() -> Self {
        WhenStoreDown::Refuse {
            retry_after_secs: 5,
        }
    }
}

/// Failed-login throttling for Basic and API keys
/// ([`RouteGuardBuilder::lockout`](crate::RouteGuardBuilder::lockout)).
///
/// Failures are counted per user name (Basic) and per client address (the one
/// [`TrustedProxies`](crate::TrustedProxies) finds), across every instance sharing the store.
/// Once either count reaches `failures` within `window`, that name or address gets 429 Too
/// Many Requests with `Retry-After` until the window ends, before any password is checked,
/// whether the user exists or not.
///
/// While the store is down, locks already known keep applying, and new failures are not
/// counted: locking every login out instead would let whoever can take the store down lock
/// everyone out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    pub(crate) failures: u32,
    pub(crate) window: Duration,
}

impl Lockout {
    /// Locks after `failures` failed logins (at least 1) within 15 minutes.
    #[must_use]
    pub fn after(failures: u32) -> Self {
        Lockout {
            failures: failures.max(1),
            window: Duration::from_secs(15 * 60),
        }
    }

    /// Counts failures within `window` (at least one second) from the first one, and locks
    /// until it ends.
    #[must_use]
    pub fn within(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::from_secs(1));
        self
    }
}

/// Revokes tokens and subjects for every instance:
/// [`RouteGuard::revocations`](crate::RouteGuard::revocations). Cheap to clone.
///
/// ```no_run
/// use actix_web::{HttpRequest, HttpResponse, post};
/// use route_guard::{Authenticated, RouteGuard, require_auth};
///
/// #[post("/logout")]
/// #[require_auth]
/// async fn logout(user: Authenticated, req: HttpRequest) -> HttpResponse {
///     let Some(guard) = req.app_data::<RouteGuard>() else {
///         return HttpResponse::InternalServerError().finish();
///     };
///     match guard.revocations().revoke_identity(user.identity()).await {
///         Ok(()) => HttpResponse::NoContent().finish(),
///         Err(_) => HttpResponse::ServiceUnavailable().finish(),
///     }
/// }
/// ```
#[derive(Clone)]
pub struct Revocations {
    view: Arc<RevocationView>,
    store: Arc<dyn SharedStore>,
}

impl Revocations {
    pub(crate) fn new(view: Arc<RevocationView>, store: Arc<dyn SharedStore>) -> Self {
        Revocations { view, store }
    }

    /// Refuses the token `jti` of issuer `iss` until `expires_at` (its `exp`, seconds since the
    /// epoch), on this instance at once and on the others as soon as the store carries it.
    ///
    /// An error means the store did not record it: this instance refuses the token, the
    /// others may not.
    pub async fn revoke(&self, iss: &str, jti: &str, expires_at: u64) -> Result<(), StoreError> {
        let revocation = Revocation::Token {
            digest: EntryDigest::of("token", iss, jti),
            expires_at,
        };
        self.view.apply(revocation);
        self.store.publish(revocation).await
    }

    /// Refuses every token of subject `sub` from issuer `iss` issued (`iat`) before
    /// `not_before` (seconds since the epoch): "log out everywhere".
    pub async fn revoke_subject(
        &self,
        iss: &str,
        sub: &str,
        not_before: u64,
    ) -> Result<(), StoreError> {
        let revocation = Revocation::Subject {
            digest: EntryDigest::of("subject", iss, sub),
            not_before,
        };
        self.view.apply(revocation);
        self.store.publish(revocation).await
    }

    /// Revokes the token `identity` was built from, by its `iss`, `jti` and `exp` claims.
    /// A token without `jti` cannot be told from its subject's other tokens: it is an error.
    pub async fn revoke_identity(&self, identity: &Identity) -> Result<(), StoreError> {
        let claims = identity.claims();
        let iss = claims.get("iss").and_then(|v| v.as_str()).unwrap_or("");
        let jti = claims.get("jti").and_then(|v| v.as_str());
        let exp = claims.get("exp").and_then(|v| v.as_f64());
        match (jti, exp) {
            (Some(jti), Some(exp)) => self.revoke(iss, jti, exp.max(0.0).ceil() as u64).await,
            _ => Err(StoreError::new(
                "the identity's token has no `jti` or `exp` claim: revoke its subject instead",
            )),
        }
    }

    /// Logs the subject of `identity` out everywhere: every token of theirs from the same
    /// issuer issued before now is refused.
    pub async fn revoke_subject_of(&self, identity: &Identity) -> Result<(), StoreError> {
        let claims = identity.claims();
        let iss = claims.get("iss").and_then(|v| v.as_str()).unwrap_or("");
        self.revoke_subject(iss, identity.subject(), now_secs())
            .await
    }
}

impl fmt::Debug for Revocations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revocations").finish_non_exhaustive()
    }
}

/// Remembers proofs' identifiers across every instance:
/// [`RouteGuard::replays`](crate::RouteGuard::replays). Cheap to clone.
#[derive(Clone)]
pub struct Replays {
    store: Arc<dyn SharedStore>,
}

impl Replays {
    pub(crate) fn new(store: Arc<dyn SharedStore>) -> Self {
        Replays { store }
    }

    /// Whether `id` (a proof's `jti`) from `issuer` (the proof's key thumbprint, or a client
    /// name) is new within `window`; `Ok(false)` is a replay. Only a digest of both is stored.
    pub async fn first_use(
        &self,
        issuer: &str,
        id: &str,
        window: Duration,
    ) -> Result<bool, StoreError> {
        let key = EntryDigest::of("replay", issuer, id);
        self.store.first_use(key, window).await
    }
}

impl fmt::Debug for Replays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replays").finish_non_exhaustive()
    }
}

/// Seconds since the epoch, now.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_round_trip_through_hex_and_keep_parts_apart() {
        let digest = EntryDigest::of("token", "https://idp", "abc");
        assert_eq!(EntryDigest::from_hex(&digest.to_hex()), Some(digest));
        assert_ne!(
            EntryDigest::of("token", "ab", "c"),
            EntryDigest::of("token", "a", "bc")
        );
        assert_ne!(
            EntryDigest::of("token", "i", "x"),
            EntryDigest::of("subject", "i", "x")
        );
        assert_eq!(EntryDigest::from_hex("zz"), None);
        assert_eq!(EntryDigest::from_hex(&"g".repeat(64)), None);
    }
}
