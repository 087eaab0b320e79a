//! Sender-constrained tokens (DPoP, RFC 9449): a token bound to a key the client holds
//! (`cnf.jkt`), used only with a fresh proof of possession of that key for this very request.
//!
//! The verified-token cache may keep the token's verification; a proof is verified on every
//! request, and its `jti` checked against the replay store.

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use url::Url;

use super::strict_json::strict_object;
use crate::auth::AuthFuture;
use crate::auth::bearer::Presented;
use crate::config::ConfigError;
use crate::identity::Identity;
use crate::refusal::{Denial, ProofProblem, TokenProblem};
use crate::store::{EntryDigest, MemoryStore, SharedStore};

/// The default window a proof's `iat` must fall in, either side of now, and for which its
/// `jti` is remembered.
pub const DEFAULT_PROOF_WINDOW: Duration = Duration::from_secs(60);

/// The longest proof read; longer ones are refused before decoding.
const MAX_PROOF_LEN: usize = 8 * 1024;

/// The longest `jti` accepted.
const MAX_JTI_LEN: usize = 256;

/// What a spent `jti` is remembered beyond twice the proof window.
const REPLAY_MARGIN: Duration = Duration::from_secs(5);

/// How long a client is told to wait when the replay store cannot answer.
const STORE_RETRY_AFTER_SECS: u32 = 5;

/// Whether an issuer's tokens may, or must, be sender-constrained with DPoP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpopMode {
    /// `Authorization: DPoP` with a proof, or `Bearer` for tokens that are not bound.
    Allowed,
    /// `Authorization: DPoP` with a proof only.
    Required,
}

/// DPoP for one issuer's tokens (RFC 9449): see
/// [`JwtAuthenticatorBuilder::dpop`](crate::jwt::JwtAuthenticatorBuilder::dpop).
///
/// A proof's `htu` is compared with the configured external origin followed by the request's
/// path: never with the `Host` header a client or an untrusted proxy chose.
///
/// ```
/// use route_guard::{Dpop, JwtAuthenticator, JwtKey};
///
/// let jwt = JwtAuthenticator::builder()
///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
///     .dpop(Dpop::required("https://api.example.com")?)
///     .build()?;
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Dpop {
    pub(crate) mode: DpopMode,
    origin: Url,
    algorithms: Vec<Algorithm>,
    /// The accepted algorithms, space-separated, as the challenge's `algs` names them.
    pub(crate) algs: Box<str>,
    window: Duration,
    replay: Arc<dyn SharedStore>,
    nonces: Option<Nonces>,
    /// The keys of recent proofs, by their protected header as sent: a client signs every proof
    /// with one key, so its header (`typ`, `alg`, `jwk`) repeats, and reading the key and its
    /// thumbprint once serves all its proofs. Only a header that was checked in full is kept.
    keys: Arc<quick_cache::sync::Cache<Box<str>, Arc<ProofKey>>>,
}

/// How many clients' proof keys are kept.
const PROOF_KEYS: usize = 4096;

/// A proof key read from a protected header that passed every check.
struct ProofKey {
    key: super::JwtKey,
    algorithm: Algorithm,
    thumbprint: String,
}

/// How long a server nonce is good for: the period it was made in and the next.
pub const NONCE_PERIOD: Duration = Duration::from_secs(300);

/// Server nonces (RFC 9449 §8): a MAC of the current period under a secret, so that every
/// instance sharing the secret accepts the nonces any of them gave, with nothing stored.
#[derive(Clone)]
struct Nonces {
    key: hmac::Hmac<Sha256>,
}

impl Nonces {
    fn period(now: u64) -> u64 {
        now / NONCE_PERIOD.as_secs()
    }

    fn for_period(&self, period: u64) -> String {
        use hmac::Mac as _;
        let mut mac = self.key.clone();
        mac.update(b"route-guard dpop nonce");
        mac.update(&period.to_be_bytes());
        let tag = mac.finalize().into_bytes();
        let mut nonce = period.to_be_bytes().to_vec();
        nonce.extend_from_slice(tag.get(..16).unwrap_or_default());
        URL_SAFE_NO_PAD.encode(nonce)
    }

    /// The nonce a client should use now.
    fn current(&self, now: u64) -> String {
        self.for_period(Nonces::period(now))
    }

    /// Whether `nonce` was given in this period or the one before.
    fn accepts(&self, nonce: &str, now: u64) -> bool {
        let period = Nonces::period(now);
        [period, period.saturating_sub(1)].iter().any(|&p| {
            subtle::ConstantTimeEq::ct_eq(self.for_period(p).as_bytes(), nonce.as_bytes()).into()
        })
    }
}

impl std::fmt::Debug for Dpop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dpop")
            .field("mode", &self.mode)
            .field("origin", &self.origin.as_str())
            .field("algs", &self.algs)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

/// Every asymmetric algorithm jsonwebtoken verifies: a proof is signed with the client's
/// private key, never a shared secret.
const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
];

impl Dpop {
    /// DPoP-bound tokens with their proofs, and plain bearer tokens that are not bound, for an
    /// API whose clients reach it at `origin` (`https://api.example.com`, or with a path prefix
    /// a proxy strips: `https://example.com/api`).
    pub fn allowed(origin: &str) -> Result<Dpop, ConfigError> {
        Dpop::new(DpopMode::Allowed, origin)
    }

    /// DPoP-bound tokens with their proofs only.
    pub fn required(origin: &str) -> Result<Dpop, ConfigError> {
        Dpop::new(DpopMode::Required, origin)
    }

    fn new(mode: DpopMode, origin: &str) -> Result<Dpop, ConfigError> {
        let parsed = Url::parse(origin).map_err(|e| {
            ConfigError::new(format!("the DPoP origin {origin:?} is not a URL: {e}"))
        })?;
        if !matches!(parsed.scheme(), "https" | "http")
            || parsed.host().is_none()
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(ConfigError::new(format!(
                "the DPoP origin {origin:?} must be http(s)://host[:port][/prefix], without query \
                 or fragment: the URL clients call, which their proofs name in `htu`"
            )));
        }
        Ok(Dpop {
            mode,
            origin: parsed,
            algorithms: ASYMMETRIC.to_vec(),
            algs: algs(&ASYMMETRIC),
            window: DEFAULT_PROOF_WINDOW,
            replay: Arc::new(MemoryStore::new()),
            nonces: None,
            keys: Arc::new(quick_cache::sync::Cache::new(PROOF_KEYS)),
        })
    }

    /// The algorithms a proof may be signed with; asymmetric ones only. Default: all that
    /// jsonwebtoken verifies.
    pub fn algorithms(
        mut self,
        algorithms: impl IntoIterator<Item = Algorithm>,
    ) -> Result<Dpop, ConfigError> {
        let chosen: Vec<Algorithm> = algorithms.into_iter().collect();
        if chosen.is_empty() {
            return Err(ConfigError::new("DPoP needs at least one proof algorithm"));
        }
        if let Some(symmetric) = chosen.iter().find(|a| !ASYMMETRIC.contains(a)) {
            return Err(ConfigError::new(format!(
                "{symmetric:?} is not an asymmetric algorithm: a DPoP proof is signed with the \
                 client's private key (RFC 9449 §4.2)"
            )));
        }
        self.algs = algs(&chosen);
        self.algorithms = chosen;
        Ok(self)
    }

    /// How far a proof's `iat` may be from now, either way (from 1 second to 1 hour); its `jti`
    /// is remembered for as long as the proof could pass. Default 60 seconds.
    pub fn proof_window(mut self, window: Duration) -> Dpop {
        self.window = window.clamp(Duration::from_secs(1), Duration::from_secs(3600));
        self
    }

    /// Where used `jti`s are remembered: in memory by default, which is right for one
    /// instance. Give every instance the store they share (a clone of the `RedisStore`, feature
    /// `redis`, given to
    /// [`RouteGuardBuilder::shared_store`](crate::RouteGuardBuilder::shared_store)) so that a
    /// proof replayed to another instance is refused too. Only a digest of the key and `jti`
    /// is stored.
    pub fn replay_store(mut self, store: impl SharedStore) -> Dpop {
        self.replay = Arc::new(store);
        self
    }

    /// Asks every proof for a server nonce (RFC 9449 §8): a proof without the current one gets
    /// 401 `use_dpop_nonce` and a fresh nonce in `DPoP-Nonce`, good for five to ten minutes.
    /// Instances that share `secret` (at least 32 random bytes) accept each other's nonces.
    /// Off by default: proofs are then bounded by their `iat` window and single use.
    pub fn nonces(mut self, secret: impl AsRef<[u8]>) -> Result<Dpop, ConfigError> {
        use hmac::Mac as _;
        let secret = secret.as_ref();
        if secret.len() < 32 {
            return Err(ConfigError::new(format!(
                "the DPoP nonce secret is {} bytes; it must be at least 32 (a random secret)",
                secret.len()
            )));
        }
        let key = hmac::Hmac::<Sha256>::new_from_slice(secret)
            .map_err(|e| ConfigError::new(format!("the DPoP nonce secret: {e}")))?;
        self.nonces = Some(Nonces { key });
        Ok(self)
    }

    /// The nonce to send with `denial`, if nonces are on and it asks for one.
    pub(crate) fn nonce_for(&self, denial: Denial) -> Option<String> {
        match (denial, &self.nonces) {
            (Denial::InvalidProof(ProofProblem::UseNonce), Some(nonces)) => {
                Some(nonces.current(jsonwebtoken::get_current_timestamp()))
            }
            _ => None,
        }
    }

    /// The URI a proof must name for `req`.
    fn expected_uri(&self, req: &HttpRequest) -> Url {
        let mut uri = self.origin.clone();
        let prefix = self.origin.path().trim_end_matches('/');
        uri.set_path(&format!("{prefix}{}", req.path()));
        uri
    }

    /// Checks one proof for `req` and `token`, at `now`: everything but the replay, whose key
    /// and lifetime it returns with the proof's key thumbprint.
    fn verify(
        &self,
        proof: &str,
        req: &HttpRequest,
        token: &str,
        now: u64,
    ) -> Result<Proven, ProofProblem> {
        if proof.len() > MAX_PROOF_LEN {
            return Err(ProofProblem::Malformed);
        }
        let mut segments = proof.split('.');
        let (Some(header), Some(payload), Some(signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(ProofProblem::Malformed);
        };
        let key = match self.keys.get(header) {
            Some(key) => key,
            None => {
                let key = Arc::new(self.proof_key(header)?);
                self.keys.insert(header.into(), Arc::clone(&key));
                key
            }
        };
        let message_len = header_len(proof, signature.len());
        let message = proof.get(..message_len).ok_or(ProofProblem::Malformed)?;
        match jsonwebtoken::crypto::verify(
            signature,
            message.as_bytes(),
            &key.key.key,
            key.algorithm,
        ) {
            Ok(true) => {}
            _ => return Err(ProofProblem::BadSignature),
        }
        let claims = object(payload)?;
        if claims.get("htm").and_then(Value::as_str) != Some(req.method().as_str()) {
            return Err(ProofProblem::WrongMethod);
        }
        let htu = claims.get("htu").and_then(Value::as_str);
        if !htu.is_some_and(|htu| self.names_request(htu, req)) {
            return Err(ProofProblem::WrongUri);
        }
        let window = self.window.as_secs();
        let iat = claims
            .get("iat")
            .and_then(crate::identity::claims::numeric_date)
            .ok_or(ProofProblem::Stale)?;
        if iat.saturating_add(window) < now || iat > now.saturating_add(window) {
            return Err(ProofProblem::Stale);
        }
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_LEN)
            .ok_or(ProofProblem::Replayed)?;
        let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
        if claims.get("ath").and_then(Value::as_str) != Some(ath.as_str()) {
            return Err(ProofProblem::WrongTokenHash);
        }
        if let Some(nonces) = &self.nonces
            && !claims
                .get("nonce")
                .and_then(Value::as_str)
                .is_some_and(|nonce| nonces.accepts(nonce, now))
        {
            return Err(ProofProblem::UseNonce);
        }
        Ok(Proven {
            thumbprint: key.thumbprint.clone(),
            replay_key: EntryDigest::of("dpop", &key.thumbprint, jti),
        })
    }

    /// The key of a proof's protected header (the base64url segment as sent), checked: `typ`
    /// `dpop+jwt`, an accepted asymmetric `alg`, no `crit`, and a public `jwk` of that
    /// algorithm, with its RFC 7638 thumbprint.
    fn proof_key(&self, segment: &str) -> Result<ProofKey, ProofProblem> {
        let header = object(segment)?;
        let typ = header.get("typ").and_then(Value::as_str);
        if !typ.is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt")) {
            return Err(ProofProblem::WrongType);
        }
        if header.contains_key("crit") {
            return Err(ProofProblem::Malformed);
        }
        let algorithm = header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(|alg| alg.parse::<Algorithm>().ok())
            .filter(|alg| self.algorithms.contains(alg))
            .ok_or(ProofProblem::DisallowedAlgorithm)?;
        let jwk = match header.get("jwk") {
            Some(Value::Object(jwk)) => jwk,
            _ => return Err(ProofProblem::BadKey),
        };
        // RFC 9449 §4.3: the key must be public. A private member means the client has leaked
        // its private key, or never held it.
        const PRIVATE: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
        if PRIVATE.iter().any(|member| jwk.contains_key(*member)) {
            return Err(ProofProblem::BadKey);
        }
        let jwk = Value::Object(jwk.clone());
        let key = super::jwk::key_from_value(&jwk, algorithm).map_err(|_| ProofProblem::BadKey)?;
        if key.algorithm != algorithm {
            return Err(ProofProblem::DisallowedAlgorithm);
        }
        let thumbprint = serde_json::from_value::<Jwk>(jwk)
            .ok()
            .and_then(|jwk| jwk.thumbprint(ThumbprintHash::SHA256).ok())
            .ok_or(ProofProblem::BadKey)?;
        Ok(ProofKey {
            key,
            algorithm,
            thumbprint,
        })
    }

    /// Whether `htu` names `req`: the configured origin followed by the request's path, as
    /// sent (the common case, a string comparison), or the same URI once normalized.
    fn names_request(&self, htu: &str, req: &HttpRequest) -> bool {
        let origin = self.origin.as_str().trim_end_matches('/');
        if htu.strip_prefix(origin) == Some(req.path()) {
            return true;
        }
        Url::parse(htu).is_ok_and(|htu| same_uri(&htu, &self.expected_uri(req)))
    }

    /// The `DPoP` header of `req`: exactly one (RFC 9449 §4.3 counts a second as invalid).
    fn proof(req: &HttpRequest) -> Result<&str, ProofProblem> {
        let mut values = req.headers().get_all("dpop");
        match (values.next(), values.next()) {
            (Some(value), None) => value.to_str().map_err(|_| ProofProblem::Malformed),
            _ => Err(ProofProblem::Missing),
        }
    }
}

/// The signed part's length: everything before the last `.`.
fn header_len(proof: &str, signature_len: usize) -> usize {
    proof.len().saturating_sub(signature_len + 1)
}

/// A base64url segment holding a JSON object, every member named once.
fn object(segment: &str) -> Result<Map<String, Value>, ProofProblem> {
    let json = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| ProofProblem::Malformed)?;
    match strict_object(&json) {
        Ok(Some(object)) => Ok(object),
        _ => Err(ProofProblem::Malformed),
    }
}

/// Two URIs that are the same after RFC 3986 §6.2.2/§6.2.3 normalization (which the URL
/// parser applies), query and fragment ignored.
fn same_uri(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

fn algs(algorithms: &[Algorithm]) -> Box<str> {
    let names: Vec<String> = algorithms.iter().map(|a| format!("{a:?}")).collect();
    names.join(" ").into_boxed_str()
}

/// A proof that passed every check but the replay.
struct Proven {
    thumbprint: String,
    /// The proof's key thumbprint and `jti`, digested.
    replay_key: EntryDigest,
}

/// `verified`, the identity of a token presented as `presented`, as far as that may go under
/// `dpop`: a bound token only with a proof of its key (`token` is the access token, kept for
/// the proof's `ath`), never as a bearer token.
pub(crate) fn bound(
    dpop: Option<&Arc<Dpop>>,
    req: &HttpRequest,
    presented: Presented,
    token: Option<String>,
    verified: AuthFuture,
) -> AuthFuture {
    match verified.into_ready() {
        Ok(Ok(identity)) => bind(dpop, req, presented, token.as_deref(), identity),
        Ok(Err(denial)) => AuthFuture::ready(Err(denial)),
        Err(pending) => {
            let (dpop, req) = (dpop.cloned(), req.clone());
            AuthFuture::new(async move {
                let identity = pending.await?;
                bind(dpop.as_ref(), &req, presented, token.as_deref(), identity).await
            })
        }
    }
}

/// What a verified token may do given how it was presented: a bound token only with a proof of
/// its key (never as a bearer token), a proof only for a bound token.
fn bind(
    dpop: Option<&Arc<Dpop>>,
    req: &HttpRequest,
    presented: Presented,
    token: Option<&str>,
    identity: Arc<Identity>,
) -> AuthFuture {
    let jkt = identity
        .claims()
        .get("cnf")
        .and_then(|cnf| cnf.get("jkt"))
        .and_then(Value::as_str);
    let refuse = |denial| AuthFuture::ready(Err(denial));
    let dpop = match (presented, dpop) {
        (Presented::Bearer, _) if jkt.is_some() => {
            return refuse(Denial::InvalidToken(TokenProblem::KeyBound));
        }
        (Presented::Bearer, Some(dpop)) if dpop.mode == DpopMode::Required => {
            return refuse(Denial::UnsupportedScheme);
        }
        (Presented::Bearer, _) => return AuthFuture::ready(Ok(identity)),
        (Presented::Dpop, None) => return refuse(Denial::UnsupportedScheme),
        (Presented::Dpop, Some(dpop)) => dpop,
    };
    let Some(jkt) = jkt else {
        return refuse(Denial::InvalidToken(TokenProblem::KeyBound));
    };
    let (Some(token), Ok(proof)) = (token, Dpop::proof(req)) else {
        return refuse(Denial::InvalidProof(ProofProblem::Missing));
    };
    let now = jsonwebtoken::get_current_timestamp();
    let proven = match dpop.verify(proof, req, token, now) {
        Ok(proven) => proven,
        Err(problem) => {
            tracing::debug!(?problem, "route-guard: DPoP proof refused");
            return refuse(Denial::InvalidProof(problem));
        }
    };
    if proven.thumbprint != jkt {
        return refuse(Denial::InvalidToken(TokenProblem::KeyBound));
    }
    // Remembered until no clock within the window could call the proof fresh again: both
    // sides of `iat`, plus the seconds the whole-second comparison rounds away and some skew
    // between instances sharing the store.
    let remember = 2 * dpop.window + REPLAY_MARGIN;
    let first = dpop.replay.first_use(proven.replay_key, remember);
    AuthFuture::new(async move {
        match first.await {
            Ok(true) => Ok(identity),
            Ok(false) => Err(Denial::InvalidProof(ProofProblem::Replayed)),
            Err(error) => {
                tracing::warn!(%error, "route-guard: the DPoP replay store cannot answer; answering 503");
                Err(Denial::Unavailable {
                    retry_after_secs: STORE_RETRY_AFTER_SECS,
                })
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_asymmetric_algorithms_sign_proofs() {
        let dpop = Dpop::allowed("https://api.example.com");
        assert!(dpop.is_ok());
        let hmac = Dpop::allowed("https://api.example.com")
            .and_then(|d| d.algorithms([Algorithm::ES256, Algorithm::HS256]));
        assert!(hmac.is_err());
        for bad in ["api.example.com", "ftp://x", "https://x/?q", "https://x/#f"] {
            assert!(Dpop::required(bad).is_err(), "{bad}");
        }
    }
}
