//! HTTP Basic authentication (RFC 7617) against an application's user store, with passwords
//! kept as argon2 PHC strings.
//!
//! The password check runs off the async workers (argon2 is meant to be slow), a bounded number
//! at a time, and an unknown user costs exactly what a wrong password costs: the supplied
//! password is checked against a dummy hash made with the same parameters, so response times
//! do not reveal which user names exist.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::HttpRequest;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Argon2, Params};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Map;
use tokio::sync::Semaphore;

use super::header::authorization;
use crate::auth::{AuthFuture, AuthResult, Authenticator, CredentialScheme};
use crate::config::ConfigError;
use crate::identity::Identity;
use crate::refusal::{Denial, TokenProblem};

/// The longest `Authorization: Basic` value read; longer ones are refused before decoding, so
/// nobody can make the server hash megabytes.
const MAX_CREDENTIALS_LEN: usize = 4096;

/// A user as the store keeps them: an argon2 PHC string and roles.
#[derive(Clone)]
pub struct StoredUser {
    /// The password hash, e.g. `$argon2id$v=19$m=19456,t=2,p=1$…`; see [`hash_password`].
    pub password_hash: String,
    /// The user's roles.
    pub roles: Vec<String>,
}

impl fmt::Debug for StoredUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredUser")
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// Why a store could not answer; the guard answers 503 and logs it.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// The answer of a [`UserStore`] lookup.
pub type UserLookup = Pin<Box<dyn Future<Output = Result<Option<StoredUser>, StoreError>>>>;

/// Where [`BasicAuthenticator`] finds users: a database, a directory, a file.
///
/// [`Argon2Users`] is the in-memory implementation.
#[diagnostic::on_unimplemented(
    note = "implement `find` to look a user up in your store, or use `route_guard::Argon2Users`"
)]
pub trait UserStore: Send + Sync + 'static {
    /// The user named `username`, or `None` if there is none. Compare names as the store
    /// defines them; the guard passes the name exactly as the client sent it.
    fn find(&self, username: &str) -> UserLookup;

    /// A PHC hash whose parameters an unknown user's check should cost; `None` for argon2's
    /// defaults. Return the parameters most of the store's hashes use.
    fn reference_hash(&self) -> Option<String> {
        None
    }
}

/// Hashes `password` into an argon2id PHC string with argon2's default (OWASP) parameters and
/// a random salt: what [`Argon2Users`] and [`StoredUser`] hold.
pub fn hash_password(password: &str) -> Result<String, ConfigError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| ConfigError::new(format!("cannot hash the password: {e}")))
}

/// Users held in memory, with argon2 PHC hashes.
///
/// ```
/// use route_guard::{Argon2Users, BasicAuthenticator, RouteGuard, hash_password};
///
/// let users = Argon2Users::new().user("alice", &hash_password("correct horse")?, ["admin"])?;
/// let guard = RouteGuard::new(BasicAuthenticator::new(users)?);
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct Argon2Users {
    users: HashMap<String, StoredUser>,
}

impl Argon2Users {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `username` with an argon2 PHC `password_hash`; a hash that is not one is refused.
    pub fn user<I, S>(
        mut self,
        username: &str,
        password_hash: &str,
        roles: I,
    ) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let parsed = PasswordHash::new(password_hash).map_err(|e| {
            ConfigError::new(format!("the hash of {username:?} is not a PHC string: {e}"))
        })?;
        if !parsed.algorithm.as_str().starts_with("argon2") {
            return Err(ConfigError::new(format!(
                "the hash of {username:?} uses {}, not argon2",
                parsed.algorithm
            )));
        }
        let user = StoredUser {
            password_hash: password_hash.to_owned(),
            roles: roles.into_iter().map(Into::into).collect(),
        };
        self.users.insert(username.to_owned(), user);
        Ok(self)
    }
}

impl UserStore for Argon2Users {
    fn find(&self, username: &str) -> UserLookup {
        let user = self.users.get(username).cloned();
        Box::pin(async move { Ok(user) })
    }

    /// The most expensive parameters in the store, whatever the order of the users: an
    /// unknown user must cost at least what the dearest known one costs.
    fn reference_hash(&self) -> Option<String> {
        self.users
            .values()
            .filter_map(|user| {
                let parsed = PasswordHash::new(&user.password_hash).ok()?;
                let params = Params::try_from(&parsed).ok()?;
                let cost = (params.m_cost(), params.t_cost(), params.p_cost());
                Some((cost, &user.password_hash))
            })
            .max()
            .map(|(_, hash)| hash.clone())
    }
}

/// Verifies `Authorization: Basic` credentials against a [`UserStore`].
///
/// Wrong passwords and unknown users get the same 401 with
/// `WWW-Authenticate: Basic realm="…", charset="UTF-8"` (RFC 7617 §2.1), after the same work.
#[derive(Clone)]
pub struct BasicAuthenticator {
    inner: Arc<Inner>,
}

struct Inner {
    store: Box<dyn UserStore>,
    /// Checked when the user is unknown, so that case costs one full hash too.
    dummy: String,
    /// Bounds concurrent hashing: each argon2 check holds ~19 MiB for tens of milliseconds.
    hashing: Arc<Semaphore>,
}

impl BasicAuthenticator {
    /// Authenticates against `store`. Computes one hash now, for unknown users.
    pub fn new(store: impl UserStore) -> Result<Self, ConfigError> {
        let params = match store.reference_hash() {
            Some(hash) => PasswordHash::new(&hash)
                .ok()
                .and_then(|parsed| Params::try_from(&parsed).ok())
                .unwrap_or_default(),
            None => Params::default(),
        };
        let argon2 = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let dummy = argon2
            .hash_password(b"route-guard: no user has this password")
            .map_err(|e| ConfigError::new(format!("cannot compute the dummy hash: {e}")))?
            .to_string();
        let parallel = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(BasicAuthenticator {
            inner: Arc::new(Inner {
                store: Box::new(store),
                dummy,
                hashing: Arc::new(Semaphore::new(parallel)),
            }),
        })
    }
}

impl fmt::Debug for BasicAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuthenticator").finish_non_exhaustive()
    }
}

impl Authenticator for BasicAuthenticator {
    fn authenticate(&self, req: &HttpRequest) -> AuthFuture {
        let (username, password) = match credentials(req) {
            Ok(pair) => pair,
            Err(denial) => return AuthFuture::ready(Err(denial)),
        };
        let inner = self.inner.clone();
        AuthFuture::new(async move { inner.check(username, password).await })
    }

    fn challenge(&self, realm: &str, _denial: Denial) -> String {
        // Basic has no error codes: the challenge is the same for every refusal.
        format!("Basic realm=\"{realm}\", charset=\"UTF-8\"")
    }

    fn scheme(&self) -> CredentialScheme {
        CredentialScheme::Basic
    }
}

impl Inner {
    async fn check(self: Arc<Self>, username: String, password: String) -> AuthResult {
        let user = self.store.find(&username).await.map_err(|error| {
            tracing::error!(%error, "route-guard: the user store failed");
            Denial::Unavailable {
                retry_after_secs: 5,
            }
        })?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let permit =
            self.hashing
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| Denial::Unavailable {
                    retry_after_secs: 1,
                })?;
        let inner = self.clone();
        // The permit travels with the hash: a client that hangs up drops this future, but the
        // hash already started on the blocking pool runs to its end, and the permit bounds
        // exactly that work.
        let verified = run_blocking(move || {
            let stored = hash.as_deref().map(PasswordHash::new);
            if let Some(Err(error)) = &stored {
                tracing::error!(%error, "route-guard: a stored password hash is not a PHC string");
            }
            let verified = match stored {
                Some(Ok(stored)) => verify(&stored, &password),
                // An unknown user, or a stored hash that does not parse: refused after the
                // same work as a wrong password.
                _ => {
                    if let Some(dummy) = inner.dummy_hash() {
                        std::hint::black_box(verify(&dummy, &password));
                    }
                    false
                }
            };
            drop(permit);
            verified
        })
        .await;
        match (user, verified) {
            (Some(user), true) => {
                let identity = Identity::new(username, user.roles, Map::new());
                Ok(Arc::new(identity))
            }
            (user, _) => {
                tracing::debug!(
                    known = user.is_some(),
                    "route-guard: Basic credentials refused"
                );
                Err(Denial::InvalidToken(TokenProblem::WrongCredentials))
            }
        }
    }
}

/// Whether `password` matches the PHC `hash`.
fn verify(hash: &PasswordHash, password: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

impl Inner {
    /// The unknown user's hash, parsed; it was made by [`BasicAuthenticator::new`].
    fn dummy_hash(&self) -> Option<PasswordHash> {
        PasswordHash::new(&self.dummy).ok()
    }
}

/// Runs CPU-heavy work on the blocking pool, so the async worker keeps serving requests.
async fn run_blocking(work: impl FnOnce() -> bool + Send + 'static) -> bool {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime.spawn_blocking(work).await.unwrap_or(false),
        Err(_) => work(),
    }
}

/// The user name a request's `Authorization: Basic` presents, if it presents one: what failed
/// logins are counted by, before the password is checked.
pub(crate) fn user_name(req: &HttpRequest) -> Option<String> {
    credentials(req).ok().map(|(user, _)| user)
}

/// The user name and password of `Authorization: Basic`, or why there are none.
fn credentials(req: &HttpRequest) -> Result<(String, String), Denial> {
    let value = authorization(req)?.ok_or(Denial::MissingCredentials)?;
    parse_basic(value.as_bytes())
}

/// Parses a `Basic` field value (RFC 7617 §2): case-insensitive scheme, base64 of
/// `user-id ":" password` in UTF-8 (the charset the challenge announces).
fn parse_basic(value: &[u8]) -> Result<(String, String), Denial> {
    let encoded = super::header::credentials(value, "basic")?;
    let malformed = Denial::InvalidToken(TokenProblem::Malformed);
    if encoded.is_empty() || encoded.len() > MAX_CREDENTIALS_LEN {
        return Err(malformed);
    }
    let decoded = STANDARD.decode(encoded).map_err(|_| malformed)?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed)?;
    let (user, password) = decoded.split_once(':').ok_or(malformed)?;
    // RFC 7617 §2: control characters are not allowed in either part.
    if user.is_empty() || decoded.chars().any(char::is_control) {
        return Err(malformed);
    }
    Ok((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_pass: &str) -> String {
        format!("Basic {}", STANDARD.encode(user_pass))
    }

    #[test]
    fn basic_credentials_are_parsed_per_rfc_7617() {
        assert_eq!(
            parse_basic(basic("alice:pa:ss wörd").as_bytes()),
            Ok(("alice".into(), "pa:ss wörd".into()))
        );
        let lower = format!("  basic   {}  ", STANDARD.encode("bob:"));
        assert_eq!(
            parse_basic(lower.as_bytes()),
            Ok(("bob".into(), String::new()))
        );
    }

    #[test]
    fn other_schemes_defer_and_garbage_is_malformed() {
        for other in ["Bearer abc", "", "Basicabc", "Digest x"] {
            assert_eq!(
                parse_basic(other.as_bytes()),
                Err(Denial::UnsupportedScheme),
                "{other}"
            );
        }
        let long = format!("Basic {}", "A".repeat(MAX_CREDENTIALS_LEN + 4));
        let no_colon = basic("alice");
        let empty_user = basic(":secret");
        let control = basic("al\u{0}ice:x");
        let latin1 = format!("Basic {}", STANDARD.encode(b"caf\xe9:x"));
        for bad in [
            "Basic",
            "Basic !!!",
            &long,
            &no_colon,
            &empty_user,
            &control,
            &latin1,
        ] {
            assert_eq!(
                parse_basic(bad.as_bytes()),
                Err(Denial::InvalidToken(TokenProblem::Malformed)),
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_users_are_charged_the_cost_of_the_stores_hashes() {
        let params = Params::new(8 * 1024, 3, 1, None).unwrap();
        let argon2 = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let hash = argon2.hash_password(b"pw").unwrap().to_string();
        let store = Argon2Users::new().user("u", &hash, ["r"]).unwrap();
        let basic = BasicAuthenticator::new(store).unwrap();
        let dummy = PasswordHash::new(&basic.inner.dummy).unwrap();
        let cost =
            |h: &PasswordHash| Params::try_from(h).map(|p| (p.m_cost(), p.t_cost(), p.p_cost()));
        assert_eq!(cost(&dummy).unwrap(), (8 * 1024, 3, 1));
        assert!(!verify(&basic.inner.dummy_hash().unwrap(), "pw"));
    }

    #[test]
    fn the_reference_is_the_dearest_hash_whatever_the_order() {
        let hash_with = |m_cost| {
            let params = Params::new(m_cost, 1, 1, None).unwrap();
            let argon2 = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
            argon2.hash_password(b"pw").unwrap().to_string()
        };
        let (cheap, dear) = (hash_with(8 * 1024), hash_with(16 * 1024));
        for names in [["a", "b", "c"], ["c", "b", "a"], ["b", "a", "c"]] {
            let store = Argon2Users::new()
                .user(names[0], &cheap, ["r"])
                .and_then(|s| s.user(names[1], &dear, ["r"]))
                .and_then(|s| s.user(names[2], &cheap, ["r"]))
                .unwrap();
            assert_eq!(
                store.reference_hash().as_deref(),
                Some(dear.as_str()),
                "{names:?}"
            );
        }
    }

    #[test]
    fn stores_refuse_what_is_not_an_argon2_phc_string() {
        assert!(Argon2Users::new().user("a", "plain text", ["x"]).is_err());
        assert!(
            Argon2Users::new()
                .user("a", "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA", ["x"])
                .is_err()
        );
        let hash = hash_password("secret").unwrap();
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(verify(&parsed, "secret"));
        assert!(!verify(&parsed, "Secret"));
    }
}
