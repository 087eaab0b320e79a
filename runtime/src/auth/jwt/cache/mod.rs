//! A cache of verified tokens, so a repeated token skips signature verification.
//!
//! RS256, ES256 and EdDSA verification costs tens of microseconds; clients send the same access
//! token on every request until it expires. API gateways cache verified tokens for the same
//! reason (Envoy's `jwt_authn` filter, `jwt_cache_config`). The cache never weakens a check:
//!
//! - it is keyed by the **whole** token, compared byte for byte, so no hash collision or shared
//!   prefix lets one token pass as another;
//! - a hit re-applies `exp` and `nbf` against the current time, so an entry never outlives its
//!   token; an expired entry is dropped and answered `invalid_token` ("expired");
//! - every entry records the key-set generation it was verified under; [`TokenCache::invalidate_all`]
//!   bumps the generation (on key rotation), and older entries are never served again;
//! - invalidating is not revoking: it only drops remembered verifications, so the next request
//!   with a token verifies it again, and a token that still verifies is accepted and cached
//!   again. Refusing a token before its `exp` needs a check outside this cache;
//! - route rules run after the identity is found, on a hit as on a miss;
//! - it is bounded by entry count and by an estimate of memory, and can be switched off with
//!   [`JwtAuthenticatorBuilder::no_cache`](crate::JwtAuthenticatorBuilder::no_cache).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;
use quick_cache::{OptionsBuilder, Weighter};

use crate::config::ConfigError;
use crate::identity::Identity;
use crate::identity::claims::numeric_date;
use crate::refusal::TokenProblem;

/// The default number of tokens a [`JwtAuthenticator`](crate::JwtAuthenticator) remembers.
pub const DEFAULT_CACHE_ENTRIES: usize = 10_000;

/// The memory budget per entry assumed when only a count is given: room for a 1 KiB token
/// and its decoded claims.
const DEFAULT_BYTES_PER_ENTRY: u64 = 4 * 1024;

/// What an entry costs beyond the token and its claims: the map nodes, `Arc`, roles, subject.
const ENTRY_OVERHEAD: u64 = 256;

/// A bounded, concurrent cache of verified tokens for one [`JwtAuthenticator`](crate::JwtAuthenticator).
///
/// It is a handle: clones share the same entries, so an application can keep one to call
/// [`invalidate_all`](Self::invalidate_all) when it rotates keys. Give each authenticator its own
/// cache; entries verified by one are never served to another.
///
/// # Invalidating is not revoking
///
/// [`invalidate`](Self::invalidate) and [`invalidate_all`](Self::invalidate_all) drop cached
/// verifications; they do not refuse any token. The next request carrying a token verifies it
/// again from scratch (signature, `exp`, `nbf`, issuer, audience) and, if it still passes, is
/// accepted and the token is cached again. Use them after changing the keys an authenticator
/// trusts, so no token is served from the cache on the strength of a key it no longer holds.
/// A token that must stop working before its `exp` (a revoked session) needs a check the
/// verification itself makes, such as a short `exp` or a policy consulting a deny list.
///
/// ```
/// use route_guard::{JwtAuthenticator, JwtKey, TokenCache};
///
/// let cache = TokenCache::with_limits(50_000, 64 * 1024 * 1024);
/// let jwt = JwtAuthenticator::builder()
///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
///     .cache(cache.clone())
///     .build()?;
/// // Later, after changing the keys the authenticator trusts: every token is verified again
/// // on its next use (still-valid ones are accepted and cached again).
/// cache.invalidate_all();
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct TokenCache {
    shared: Arc<Shared>,
}

struct Shared {
    entries: Cache<Box<str>, Entry, EntryWeighter>,
    generation: AtomicU64,
    max_entries: usize,
    max_bytes: u64,
}

/// A verified token's identity and the facts needed to re-check it without the signature.
#[derive(Clone)]
struct Entry {
    identity: Arc<Identity>,
    /// `exp + leeway`: the last second at which the token is still accepted.
    expires_at: u64,
    /// `nbf - leeway`, or 0 without `nbf`: the first second at which it is accepted.
    not_before: u64,
    generation: u64,
    owner: u64,
    bytes: u64,
}

/// Weighs an entry by its estimated memory, but never below `max_bytes / max_entries`: one
/// weight capacity then bounds both the number of entries and their memory.
#[derive(Clone)]
struct EntryWeighter {
    min_weight: u64,
}

impl Weighter<Box<str>, Entry> for EntryWeighter {
    fn weight(&self, _token: &Box<str>, entry: &Entry) -> u64 {
        entry.bytes.max(self.min_weight)
    }
}

/// The least memory budget one shard of the cache gets.
const MIN_SHARD_BYTES: u64 = 64 * 1024;

/// How many shards to split a budget of `max_bytes` into. quick_cache gives each shard an even
/// share of the budget (four shards per core by default) and admits no entry heavier than its
/// shard's share: a 16 KiB budget split eight ways cached no 3 KiB entry at all, though the
/// whole budget holds five. Fewer shards for small budgets keep every entry admissible that
/// the budget could hold.
pub(crate) fn shards_for(max_bytes: u64) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let affordable = usize::try_from(max_bytes / MIN_SHARD_BYTES).unwrap_or(usize::MAX);
    affordable.clamp(1, cores.saturating_mul(4))
}

impl TokenCache {
    /// A cache of at most `max_entries` tokens, with a memory budget of 4 KiB per entry.
    #[must_use]
    pub fn new(max_entries: usize) -> Self {
        let max_bytes = (max_entries as u64).saturating_mul(DEFAULT_BYTES_PER_ENTRY);
        Self::with_limits(max_entries, max_bytes)
    }

    /// A cache of at most `max_entries` tokens whose estimated memory (token, decoded claims
    /// and bookkeeping) stays under `max_bytes`. Entries are evicted by the S3-FIFO policy of
    /// [`quick_cache`]; a token too large for the budget is simply not cached.
    #[must_use]
    pub fn with_limits(max_entries: usize, max_bytes: u64) -> Self {
        let min_weight = max_bytes
            .checked_div(max_entries as u64)
            .unwrap_or(1)
            .max(1);
        let weighter = EntryWeighter { min_weight };
        let options = OptionsBuilder::new()
            .estimated_items_capacity(max_entries)
            .weight_capacity(max_bytes)
            .shards(shards_for(max_bytes))
            .build();
        let entries = match options {
            Ok(options) => {
                Cache::with_options(options, weighter, Default::default(), Default::default())
            }
            Err(_) => Cache::with_weighter(max_entries, max_bytes, weighter),
        };
        TokenCache {
            shared: Arc::new(Shared {
                entries,
                generation: AtomicU64::new(0),
                max_entries,
                max_bytes,
            }),
        }
    }

    /// Forgets every cached verification, and makes sure no verification still in flight can
    /// add one made under the old keys. Call it whenever the key set changes.
    ///
    /// This is not revocation: a token that still verifies is accepted on its next use and
    /// cached again (see [the type's docs](Self#invalidating-is-not-revoking)).
    pub fn invalidate_all(&self) {
        // Bump first: a verification that read the old generation inserts a stale entry,
        // which lookups then refuse, even if it lands after the clear.
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
        self.shared.entries.clear();
    }

    /// The cached verification of `token`, whichever authenticator made it: for
    /// [`Issuers`](crate::Issuers), which then hands it to that authenticator.
    pub(crate) fn lookup(&self, token: &str) -> Option<CachedToken> {
        let generation = self.shared.generation.load(Ordering::Acquire);
        let entry = self.shared.entries.get(token)?;
        Some(CachedToken { entry, generation })
    }

    /// Forgets the cached verification of one token, so its next use is verified from scratch.
    ///
    /// This is not revocation: if the token still verifies, it is accepted and cached again
    /// (see [the type's docs](Self#invalidating-is-not-revoking)).
    pub fn invalidate(&self, token: &str) {
        self.shared.entries.remove(token);
    }

    /// The number of tokens cached now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shared.entries.len()
    }

    /// Whether no token is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.shared.entries.is_empty()
    }

    /// The key-set generation: it changes on every [`invalidate_all`](Self::invalidate_all).
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// The configured `(max_entries, max_bytes)`.
    #[must_use]
    pub fn limits(&self) -> (usize, u64) {
        (self.shared.max_entries, self.shared.max_bytes)
    }
}

impl fmt::Debug for TokenCache {
    // Cached tokens are credentials: only the shape of the cache is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("len", &self.len())
            .field("max_entries", &self.shared.max_entries)
            .field("max_bytes", &self.shared.max_bytes)
            .field("generation", &self.generation())
            .finish()
    }
}

/// A cache entry found by [`TokenCache::lookup`], not yet judged.
pub(crate) struct CachedToken {
    entry: Entry,
    generation: u64,
}

impl CachedToken {
    /// Which authenticator made the entry.
    pub(crate) fn owner(&self) -> u64 {
        self.entry.owner
    }
}

/// The cache setting of a builder.
#[derive(Debug, Default)]
pub(crate) enum CacheChoice {
    #[default]
    Default,
    Use(TokenCache),
    Off,
}

impl CacheChoice {
    /// Ties the chosen cache to one authenticator and its clock leeway.
    pub(crate) fn bind(self, leeway_secs: u64) -> Result<Option<BoundCache>, ConfigError> {
        let cache = match self {
            CacheChoice::Off => return Ok(None),
            CacheChoice::Default => TokenCache::new(DEFAULT_CACHE_ENTRIES),
            CacheChoice::Use(cache) => cache,
        };
        if cache.shared.max_entries == 0 || cache.shared.max_bytes == 0 {
            return Err(ConfigError::new(
                "a TokenCache needs room for at least one entry; use `.no_cache()` to switch it off",
            ));
        }
        static OWNERS: AtomicU64 = AtomicU64::new(0);
        Ok(Some(BoundCache {
            cache,
            owner: OWNERS.fetch_add(1, Ordering::Relaxed),
            leeway: leeway_secs,
        }))
    }
}

/// A cache as one authenticator uses it.
#[derive(Debug, Clone)]
pub(crate) struct BoundCache {
    cache: TokenCache,
    /// Which authenticator verified an entry: another one may check other issuers or audiences.
    owner: u64,
    leeway: u64,
}

impl BoundCache {
    /// Which authenticator this binding stands for.
    pub(crate) fn owner(&self) -> u64 {
        self.owner
    }

    /// The cache itself, for whoever must invalidate it (the JWKS fetcher, when keys go).
    #[cfg_attr(not(feature = "jwks"), allow(dead_code))]
    pub(crate) fn token_cache(&self) -> &TokenCache {
        &self.cache
    }

    /// The identity of `token`: from the cache if it holds a still-valid entry, otherwise from
    /// `verify`, whose success is then remembered.
    pub(crate) fn get_or_verify(
        &self,
        token: &str,
        now: u64,
        verify: impl FnOnce() -> Result<Identity, TokenProblem>,
    ) -> Result<Arc<Identity>, TokenProblem> {
        let shared = &*self.cache.shared;
        let generation = shared.generation.load(Ordering::Acquire);
        if let Some(entry) = shared.entries.get(token)
            && let Some(answer) = self.answer(token, entry, now, generation)
        {
            return answer;
        }
        self.remember(token, generation, verify)
    }

    /// The identity of `token`, known not to be cached: from `verify`, whose success is then
    /// remembered.
    pub(crate) fn verify_and_remember(
        &self,
        token: &str,
        verify: impl FnOnce() -> Result<Identity, TokenProblem>,
    ) -> Result<Arc<Identity>, TokenProblem> {
        let generation = self.cache.shared.generation.load(Ordering::Acquire);
        self.remember(token, generation, verify)
    }

    /// Verifies and caches under `generation`, read before verifying: keys withdrawn meanwhile
    /// (which starts a new generation) leave the entry unusable.
    fn remember(
        &self,
        token: &str,
        generation: u64,
        verify: impl FnOnce() -> Result<Identity, TokenProblem>,
    ) -> Result<Arc<Identity>, TokenProblem> {
        crate::observe::instruments::token_cache(false);
        let identity = Arc::new(verify()?);
        if let Some(entry) = self.entry(token, &identity, generation) {
            self.cache.shared.entries.insert(token.into(), entry);
        }
        Ok(identity)
    }

    /// The answer of a cached entry, if this authenticator made it in the cache's current
    /// generation: its identity, or why it can no longer be used.
    fn answer(
        &self,
        token: &str,
        entry: Entry,
        now: u64,
        generation: u64,
    ) -> Option<Result<Arc<Identity>, TokenProblem>> {
        if entry.owner != self.owner || entry.generation != generation {
            return None;
        }
        crate::observe::instruments::token_cache(true);
        if now >= entry.expires_at {
            self.cache.shared.entries.remove(token);
            return Some(Err(TokenProblem::Expired));
        }
        if now < entry.not_before {
            return Some(Err(TokenProblem::NotYetValid));
        }
        Some(Ok(entry.identity))
    }

    /// The answer of `hit`, an entry found by [`TokenCache::lookup`], if this authenticator
    /// made it.
    pub(crate) fn answer_hit(
        &self,
        token: &str,
        hit: CachedToken,
        now: u64,
    ) -> Option<Result<Arc<Identity>, TokenProblem>> {
        self.answer(token, hit.entry, now, hit.generation)
    }

    /// The entry for a freshly verified token, or `None` when its `exp`/`nbf` cannot be read
    /// as whole seconds (such a token is verified every time rather than cached on a guess).
    fn entry(&self, token: &str, identity: &Arc<Identity>, generation: u64) -> Option<Entry> {
        let claims = identity.claims();
        let exp = numeric_date(claims.get("exp")?)?;
        let nbf = match claims.get("nbf") {
            None => 0,
            Some(nbf) => numeric_date(nbf)?,
        };
        // The payload is the middle segment; its decoded JSON is about 3/4 of its base64 text,
        // and a parsed `serde_json::Map` takes a few times the text.
        let payload = token.split('.').nth(1).map_or(0, str::len) as u64;
        Some(Entry {
            identity: Arc::clone(identity),
            expires_at: exp.saturating_add(self.leeway),
            not_before: nbf.saturating_sub(self.leeway),
            generation,
            owner: self.owner,
            bytes: token.len() as u64 + payload / 4 * 3 * 3 + ENTRY_OVERHEAD,
        })
    }
}

#[cfg(test)]
mod tests;
