//! [`RedisStore`]: revocations and replay checks shared by every instance through Redis (or a
//! protocol-compatible server such as Valkey).
//!
//! Layout, under the configured prefix (`route-guard:` by default):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `<prefix>revoked-tokens` | sorted set | digest of (`iss`, `jti`), scored by the token's `exp` |
//! | `<prefix>revoked-subjects` | sorted set | `<digest of (iss, sub)>:<not before>`, scored by the cut-off |
//! | `<prefix>replay:<digest>` | string with a TTL | `1`, for a proof's window |
//! | `<prefix>failures:<digest>` | counter with a TTL | failed logins of a user name or address in the window |
//! | `<prefix>locks` | sorted set | digest of a locked user name or address, scored by the lock's end |
//! | `<prefix>revocations` | pub/sub channel | `t <digest> <exp>`, `s <digest> <not before>` or `l <digest> <until>` |
//!
//! Each write drops the entries that expired. Every instance subscribes to the channel, then
//! loads both sets in full, on start and after every reconnection, so that a message missed
//! while disconnected leaves no hole; until that load is done, the view is stale.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::{FutureExt as _, StreamExt as _};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{
    EntryDigest, Revocation, RevocationView, SharedStore, StoreError, StoreFuture, now_secs,
};
use crate::config::ConfigError;

/// How long a subject's cut-off is kept in Redis: longer than any token lives.
const SUBJECT_RETENTION_SECS: u64 = 7 * 24 * 3600;

/// Configures a [`RedisStore`]; see [`RedisStore::builder`].
#[must_use = "a builder does nothing until `connect` is called"]
#[derive(Debug, Clone)]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    timeout: Duration,
    heartbeat: Duration,
}

impl RedisStoreBuilder {
    /// Names every key and the channel with `prefix` (default `route-guard:`), so that several
    /// applications can share one server.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a connection attempt or a command may take (default 1 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long the subscription may stay silent before it is pinged (default 500 ms); a ping
    /// left unanswered for [`timeout`](Self::timeout) marks the view stale and reconnects.
    pub fn heartbeat(mut self, heartbeat: Duration) -> Self {
        self.heartbeat = heartbeat;
        self
    }

    /// Connects, and starts nothing yet: the subscription starts when a guard is built with
    /// the store ([`RouteGuardBuilder::shared_store`](crate::RouteGuardBuilder::shared_store)),
    /// on the Tokio runtime (actix-web's) that builds it.
    ///
    /// Fails if the URL is not a Redis URL or the server cannot be reached now.
    pub async fn connect(self) -> Result<RedisStore, ConfigError> {
        let client = redis::Client::open(self.url.as_str())
            .map_err(|e| ConfigError::new(format!("the Redis URL is not valid: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            ConfigError::new("RedisStore::connect must run on a Tokio runtime (actix-web's)")
        })?;
        let manager = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(|e| ConfigError::new(format!("cannot connect to Redis: {e}")))?;
        Ok(RedisStore {
            inner: Arc::new(Inner {
                client,
                manager,
                tokens: format!("{}revoked-tokens", self.prefix),
                locks: format!("{}locks", self.prefix),
                failures: format!("{}failures:", self.prefix),
                subjects: format!("{}revoked-subjects", self.prefix),
                channel: format!("{}revocations", self.prefix),
                replay: format!("{}replay:", self.prefix),
                timeout: self.timeout,
                heartbeat: self.heartbeat,
                runtime,
            }),
        })
    }
}

/// Revocations and replay checks shared through Redis (feature `redis`).
///
/// Requests never wait for Redis: each instance keeps every revocation in memory, kept fresh by
/// a subscription, and reloaded in full after every reconnection. While the subscription is
/// down, the view is stale and tokens are refused with 503 by default
/// ([`WhenStoreDown`](crate::store::WhenStoreDown)); the store reconnects by itself.
///
/// ```no_run
/// use route_guard::store::RedisStore;
/// use route_guard::{JwtAuthenticator, JwtKey, RouteGuard};
///
/// # async fn run() -> Result<(), route_guard::ConfigError> {
/// let store = RedisStore::builder("redis://127.0.0.1:6379/")
///     .prefix("orders-api:")
///     .connect()
///     .await?;
/// let jwt = JwtAuthenticator::builder()
///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
///     .build()?;
/// let guard = RouteGuard::builder(jwt).shared_store(store).build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    manager: ConnectionManager,
    tokens: String,
    locks: String,
    failures: String,
    subjects: String,
    channel: String,
    replay: String,
    timeout: Duration,
    heartbeat: Duration,
    /// The runtime that connected, for a guard built outside one.
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("channel", &self.inner.channel)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Starts a configuration for the server at `url` (`redis://host:port/db`,
    /// `rediss://` for TLS is not built in).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: "route-guard:".to_owned(),
            timeout: Duration::from_secs(1),
            heartbeat: Duration::from_millis(500),
        }
    }
}

fn store_error(e: redis::RedisError) -> StoreError {
    StoreError::new(format!("Redis: {e}"))
}

impl SharedStore for RedisStore {
    fn attach(&self, view: Arc<RevocationView>) {
        let inner = Arc::clone(&self.inner);
        let weak = Arc::downgrade(&view);
        drop(view);
        // On the runtime building the guard, else on the one that connected the store: a
        // guard built outside any runtime still gets its subscription.
        let runtime =
            tokio::runtime::Handle::try_current().unwrap_or_else(|_| inner.runtime.clone());
        runtime.spawn(async move {
            let mut backoff = Duration::from_millis(50);
            // The task holds the view weakly: it ends when the guard is gone.
            loop {
                let mut loaded = false;
                let Err(error) = inner.follow(&weak, &mut loaded).await else {
                    break; // The guard is gone.
                };
                let Some(view) = weak.upgrade() else { break };
                view.set_fresh(false);
                tracing::warn!(%error, "route-guard: the Redis subscription failed; revocation view stale");
                if loaded {
                    // It worked for a while: try again at once.
                    backoff = Duration::from_millis(50);
                }
                drop(view);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        });
    }

    fn publish(&self, revocation: Revocation) -> StoreFuture<()> {
        let inner = Arc::clone(&self.inner);
        async move {
            let now = now_secs();
            let mut pipe = redis::pipe();
            pipe.atomic();
            let message = match revocation {
                Revocation::Token { digest, expires_at } => {
                    scored(&mut pipe, &inner.tokens, expires_at, digest, now);
                    format!("t {} {expires_at}", digest.to_hex())
                }
                Revocation::Lock { digest, until } => {
                    scored(&mut pipe, &inner.locks, until, digest, now);
                    format!("l {} {until}", digest.to_hex())
                }
                Revocation::Subject { digest, not_before } => {
                    pipe.cmd("ZADD")
                        .arg(&inner.subjects)
                        .arg(not_before)
                        .arg(format!("{}:{not_before}", digest.to_hex()))
                        .ignore();
                    let horizon = now.saturating_sub(SUBJECT_RETENTION_SECS);
                    pipe.cmd("ZREMRANGEBYSCORE")
                        .arg(&inner.subjects)
                        .arg("-inf")
                        .arg(format!("({horizon}"))
                        .ignore();
                    format!("s {} {not_before}", digest.to_hex())
                }
            };
            pipe.cmd("PUBLISH")
                .arg(&inner.channel)
                .arg(message)
                .ignore();
            let mut connection = inner.manager.clone();
            pipe.query_async::<()>(&mut connection)
                .await
                .map_err(store_error)
        }
        .boxed()
    }

    fn count_failure(&self, key: EntryDigest, window: Duration) -> StoreFuture<(u32, Duration)> {
        RedisStore::count(Arc::clone(&self.inner), key, window)
    }

    fn first_use(&self, key: EntryDigest, window: Duration) -> StoreFuture<bool> {
        let inner = Arc::clone(&self.inner);
        async move {
            let millis = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
            let mut connection = inner.manager.clone();
            let set: Option<String> = redis::cmd("SET")
                .arg(format!("{}{}", inner.replay, key.to_hex()))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(millis)
                .query_async(&mut connection)
                .await
                .map_err(store_error)?;
            Ok(set.is_some())
        }
        .boxed()
    }
}

impl RedisStore {
    fn count(
        inner: Arc<Inner>,
        key: EntryDigest,
        window: Duration,
    ) -> StoreFuture<(u32, Duration)> {
        async move {
            let millis = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
            let name = format!("{}{}", inner.failures, key.to_hex());
            let mut connection = inner.manager.clone();
            // The window starts with the first failure: the key is created with its TTL,
            // and INCR keeps it.
            let (count, left): (u32, i64) = redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(&name)
                .arg(0)
                .arg("NX")
                .arg("PX")
                .arg(millis)
                .ignore()
                .cmd("INCR")
                .arg(&name)
                .cmd("PTTL")
                .arg(&name)
                .query_async(&mut connection)
                .await
                .map_err(store_error)?;
            let left = u64::try_from(left).map_or(window, Duration::from_millis);
            Ok((count, left))
        }
        .boxed()
    }
}

impl Inner {
    /// Subscribes, loads everything, marks the view fresh and applies messages until the
    /// connection fails or stops answering pings (an error), or the view is gone (`Ok`).
    async fn follow(
        &self,
        view: &Weak<RevocationView>,
        loaded: &mut bool,
    ) -> Result<(), StoreError> {
        let timeout =
            |what: &'static str| move |_| StoreError::new(format!("Redis: {what} timed out"));
        let pubsub = tokio::time::timeout(self.timeout, self.client.get_async_pubsub())
            .await
            .map_err(timeout("connecting"))?
            .map_err(store_error)?;
        let (mut sink, mut stream) = pubsub.split();
        tokio::time::timeout(self.timeout, sink.subscribe(&self.channel))
            .await
            .map_err(timeout("subscribing"))?
            .map_err(store_error)?;
        // Subscribed first, so that whatever is published during the load is in the stream.
        let everything = tokio::time::timeout(self.timeout, self.load())
            .await
            .map_err(timeout("loading the revocations"))??;
        let Some(strong) = view.upgrade() else {
            return Ok(());
        };
        strong.merge(everything);
        strong.set_fresh(true);
        drop(strong);
        *loaded = true;
        tracing::info!("route-guard: revocation view loaded from Redis");
        loop {
            let event = tokio::time::timeout(self.heartbeat, stream.next()).await;
            let Some(view) = view.upgrade() else {
                return Ok(());
            };
            match event {
                Ok(Some(message)) => match parse(message.get_payload_bytes()) {
                    Some(revocation) => view.apply(revocation),
                    None => tracing::warn!(
                        "route-guard: ignored a message on the revocation channel that is not one"
                    ),
                },
                Ok(None) => return Err(StoreError::new("Redis: the subscription ended")),
                Err(_silent) => {
                    // A subscribed connection answers `["pong", ""]` (RESP2), not `PONG`.
                    tokio::time::timeout(self.timeout, sink.ping::<redis::Value>())
                        .await
                        .map_err(timeout("a ping"))?
                        .map_err(store_error)?;
                }
            }
        }
    }

    /// Every revocation still in force.
    async fn load(&self) -> Result<Vec<Revocation>, StoreError> {
        let now = now_secs();
        let mut connection = self.manager.clone();
        type Scored = Vec<(String, u64)>;
        let (tokens, locks, subjects): (Scored, Scored, Vec<String>) = redis::pipe()
            .cmd("ZRANGEBYSCORE")
            .arg(&self.tokens)
            .arg(now)
            .arg("+inf")
            .arg("WITHSCORES")
            .cmd("ZRANGEBYSCORE")
            .arg(&self.locks)
            .arg(now)
            .arg("+inf")
            .arg("WITHSCORES")
            .cmd("ZRANGEBYSCORE")
            .arg(&self.subjects)
            .arg(now.saturating_sub(SUBJECT_RETENTION_SECS))
            .arg("+inf")
            .query_async(&mut connection)
            .await
            .map_err(store_error)?;
        let mut out = Vec::with_capacity(tokens.len() + locks.len() + subjects.len());
        for (member, until) in locks {
            if let Some(digest) = EntryDigest::from_hex(&member) {
                out.push(Revocation::Lock { digest, until });
            }
        }
        for (member, expires_at) in tokens {
            if let Some(digest) = EntryDigest::from_hex(&member) {
                out.push(Revocation::Token { digest, expires_at });
            }
        }
        for member in subjects {
            let parsed = member.split_once(':').and_then(|(digest, at)| {
                Some(Revocation::Subject {
                    digest: EntryDigest::from_hex(digest)?,
                    not_before: at.parse().ok()?,
                })
            });
            if let Some(revocation) = parsed {
                out.push(revocation);
            }
        }
        Ok(out)
    }
}

/// Adds `digest` to the sorted set `set` until `at`, and drops the entries that ended.
fn scored(pipe: &mut redis::Pipeline, set: &str, at: u64, digest: EntryDigest, now: u64) {
    pipe.cmd("ZADD")
        .arg(set)
        .arg("GT")
        .arg(at)
        .arg(digest.to_hex())
        .ignore();
    pipe.cmd("ZREMRANGEBYSCORE")
        .arg(set)
        .arg("-inf")
        .arg(format!("({now}"))
        .ignore();
}

/// A message of the revocation channel; `None` for anything else.
fn parse(payload: &[u8]) -> Option<Revocation> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut parts = text.split(' ');
    let (kind, digest, at) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let digest = EntryDigest::from_hex(digest)?;
    let at = at.parse().ok()?;
    match kind {
        "t" => Some(Revocation::Token {
            digest,
            expires_at: at,
        }),
        "s" => Some(Revocation::Subject {
            digest,
            not_before: at,
        }),
        "l" => Some(Revocation::Lock { digest, until: at }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_messages_parse_and_garbage_does_not() {
        let digest = EntryDigest::of("token", "i", "j");
        let text = format!("t {} 42", digest.to_hex());
        assert_eq!(
            parse(text.as_bytes()),
            Some(Revocation::Token {
                digest,
                expires_at: 42
            })
        );
        for garbage in [
            &b""[..],
            b"t",
            b"x 00 1",
            b"\xff\xfe",
            format!("t {} 42 extra", digest.to_hex()).as_bytes(),
            format!("s {} -1", digest.to_hex()).as_bytes(),
        ] {
            assert_eq!(parse(garbage), None, "{garbage:?}");
        }
    }
}
