//! The settings of a provider's key set: where it is (a JWKS URL, or an issuer to discover)
//! and how often it may be fetched.

use std::time::Duration;

/// Where a [`JwtAuthenticator`](crate::JwtAuthenticator) fetches its keys, and how often.
///
/// ```
/// use std::time::Duration;
/// use route_guard::{Jwks, JwtAuthenticator};
///
/// // The issuer's discovery document names the JWKS; `iss` must then equal the issuer.
/// let jwt = JwtAuthenticator::builder()
///     .jwks(Jwks::discover("https://login.example.com/realms/acme"))
///     .audience("my-api")
///     .build()?;
///
/// // Or a JWKS URL directly, refreshed every five minutes unless the provider's cache headers
/// // say otherwise.
/// let jwt = JwtAuthenticator::builder()
///     .jwks(Jwks::url("https://login.example.com/keys").refresh_interval(Duration::from_secs(300)))
///     .issuer("https://login.example.com")
///     .audience("my-api")
///     .build()?;
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Jwks {
    pub(crate) source: Source,
    pub(super) refresh_interval: Duration,
    pub(super) max_cache: Duration,
    pub(super) cooldown: Duration,
    pub(super) timeout: Duration,
    pub(super) max_body: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum Source {
    Url(String),
    Discover(String),
}

/// How long a key set is used when the provider sends no cache headers.
pub const DEFAULT_JWKS_REFRESH: Duration = Duration::from_secs(600);
/// The least time between two fetches, whatever clients send.
pub const DEFAULT_JWKS_COOLDOWN: Duration = Duration::from_secs(30);

impl Jwks {
    /// Keys from this JWKS URL (`https`, or `http` to a loopback address).
    pub fn url(url: impl Into<String>) -> Self {
        Self::new(Source::Url(url.into()))
    }

    /// Keys from the JWKS that `issuer`'s `/.well-known/openid-configuration` names. The
    /// document must name exactly this issuer, and tokens must carry it in `iss`.
    pub fn discover(issuer: impl Into<String>) -> Self {
        Self::new(Source::Discover(issuer.into()))
    }

    fn new(source: Source) -> Self {
        Jwks {
            source,
            refresh_interval: DEFAULT_JWKS_REFRESH,
            max_cache: Duration::from_secs(24 * 3600),
            cooldown: DEFAULT_JWKS_COOLDOWN,
            timeout: Duration::from_secs(10),
            max_body: 512 * 1024,
        }
    }

    /// How long keys are used when the provider's answer has no `Cache-Control: max-age`;
    /// default 10 minutes. A `max-age` is honoured between the cooldown and 24 hours.
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = interval;
        self
    }

    /// The least time between two fetches, for an unknown `kid` or after a failure; default
    /// 30 seconds. Also the `Retry-After` of a 503 while no key could be fetched yet. At most
    /// 24 hours (the longest a key set is kept): a longer one is a configuration error.
    pub fn cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// How long one request to the provider may take, connection included; default 10
    /// seconds. A first fetch through discovery makes two (the discovery document, then the
    /// JWKS), and requests waiting for keys wait as long as both may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest document accepted, in bytes; default 512 KiB.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
}
