//! Keys a provider rotates in: a token naming a key the fetched set lacks waits for the refresh
//! that may bring it (RFC 7517 §5), and before any key could be fetched the answer is 503.

use std::sync::Arc;

#[cfg(feature = "jwks")]
use super::remote::RemoteKeys;
use super::{Jws, JwtAuthenticator};
use crate::auth::AuthFuture;
use crate::refusal::Denial;
#[cfg(feature = "jwks")]
use crate::refusal::TokenProblem;

impl JwtAuthenticator {
    /// Fetches the JWKS now, whatever the cooldown, and returns how many keys are in use; call
    /// it at start-up to fail fast or to warm the cache. Without a JWKS, returns the number of
    /// configured keys.
    #[cfg(feature = "jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
    pub async fn load_keys(&self) -> Result<usize, crate::ConfigError> {
        match &self.extras.remote {
            Some(remote) => remote.load().await.map_err(crate::ConfigError::new),
            None => Ok(self.keys.len()),
        }
    }

    /// Verifies `token`; when it names a key the fetched set lacks, waits for the refresh that
    /// may bring it (RFC 7517 §5 rotation), or answers 503 while no key could ever be fetched.
    pub(crate) fn authenticate_token(&self, token: String) -> AuthFuture {
        // The key set the verification below starts from (or a later one).
        #[cfg(feature = "jwks")]
        let seen = self.extras.remote.as_ref().map(|remote| {
            remote.touch();
            remote.installed_generation()
        });
        match self.verify_cached(&token) {
            #[cfg(feature = "jwks")]
            Err(problem) if self.awaits_keys(problem) => {
                self.await_keys(token, seen.unwrap_or_default())
            }
            result => AuthFuture::ready(result.map_err(Denial::InvalidToken)),
        }
    }

    /// [`authenticate_token`](Self::authenticate_token) for a token [`Issuers`](crate::Issuers)
    /// has already looked up in the cache (a miss) and parsed, to choose this issuer.
    pub(crate) fn authenticate_parsed(&self, token: &str, jws: Jws<'_>) -> AuthFuture {
        #[cfg(feature = "jwks")]
        let seen = self.extras.remote.as_ref().map(|remote| {
            remote.touch();
            remote.installed_generation()
        });
        let now = jsonwebtoken::get_current_timestamp();
        let verified = match &self.cache {
            Some(cache) => cache.verify_and_remember(token, || self.verify_jws(jws, now)),
            None => self.verify_jws(jws, now).map(Arc::new),
        };
        match verified {
            // Rare (a rotation): only then is the token copied, to outlive the request.
            #[cfg(feature = "jwks")]
            Err(problem) if self.awaits_keys(problem) => {
                self.await_keys(token.to_owned(), seen.unwrap_or_default())
            }
            result => AuthFuture::ready(result.map_err(Denial::InvalidToken)),
        }
    }

    /// Whether a refusal may be lifted by keys the JWKS has not delivered yet: a `kid` the set
    /// lacks, or, before the first fetch, any key problem at all. A configured key without a
    /// `kid` matches every token, so for the provider's tokens no lookup would ever miss and
    /// nothing would start the first fetch.
    #[cfg(feature = "jwks")]
    fn awaits_keys(&self, problem: TokenProblem) -> bool {
        let Some(remote) = &self.extras.remote else {
            return false;
        };
        match problem {
            TokenProblem::UnknownKey => true,
            TokenProblem::BadSignature | TokenProblem::DisallowedAlgorithm => {
                !remote.current().loaded
            }
            _ => false,
        }
    }

    /// `seen`: the generation of the key set in use before the token was first verified.
    #[cfg(feature = "jwks")]
    fn await_keys(&self, token: String, seen: u64) -> AuthFuture {
        let Some(remote) = self.extras.remote.clone() else {
            return AuthFuture::ready(Err(Denial::InvalidToken(TokenProblem::UnknownKey)));
        };
        let Some(receiver) = remote.refresh_for_unknown_key() else {
            // No refresh may start (cooldown), but one may have installed a new set since the
            // token was verified: a kid that set holds is verified against it, not refused.
            if remote.installed_generation() != seen {
                match self.verify_cached(&token) {
                    Err(TokenProblem::UnknownKey) => {}
                    result => return AuthFuture::ready(result.map_err(Denial::InvalidToken)),
                }
            }
            return AuthFuture::ready(Err(unknown_or_unavailable(&remote, &remote.current())));
        };
        // Rare (a rotation, or a client inventing kids while a refresh runs): the clone is
        // cheaper than making every request pay for shared ownership.
        let this = self.clone();
        AuthFuture::new(async move {
            let keys = remote.wait(receiver).await;
            match this.verify_cached(&token) {
                Err(TokenProblem::UnknownKey) => Err(unknown_or_unavailable(&remote, &keys)),
                Err(_) if !keys.loaded => Err(unknown_or_unavailable(&remote, &keys)),
                result => result.map_err(Denial::InvalidToken),
            }
        })
    }
}

#[cfg(feature = "jwks")]
fn unknown_or_unavailable(remote: &RemoteKeys, keys: &super::jwk::KeySet) -> Denial {
    if keys.loaded {
        Denial::InvalidToken(TokenProblem::UnknownKey)
    } else {
        tracing::warn!("route-guard: no JWKS could be fetched yet; answering 503");
        Denial::Unavailable {
            retry_after_secs: remote.retry_after_secs(),
        }
    }
}

#[cfg(all(test, feature = "jwks"))]
mod tests {
    use crate::auth::jwt::Jwks;
    use std::time::Duration;

    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::json;

    use super::*;
    use crate::auth::jwt::jwk::{KeySet, parse_jwks};

    /// Right after a refresh, with the cooldown forbidding another, a token naming a `kid` the
    /// new set holds is verified against that set, though it was first checked against the
    /// set before.
    #[actix_web::test]
    async fn a_kid_the_new_set_holds_is_verified_during_the_cooldown() {
        let dead = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap();
        let jwt = JwtAuthenticator::builder()
            .jwks(
                Jwks::url(format!("http://{dead}/jwks"))
                    .cooldown(Duration::from_secs(600))
                    .timeout(Duration::from_secs(1)),
            )
            .issuer("https://idp.example")
            .no_cache()
            .build()
            .unwrap();
        let remote = jwt.extras.remote.clone().unwrap();
        // A failed fetch starts the cooldown: no refresh may start now.
        assert!(jwt.load_keys().await.is_err());
        assert!(remote.refresh_for_unknown_key().is_none());

        let signer =
            EncodingKey::from_ec_pem(include_bytes!("../../../../tests/keys/p256.key")).unwrap();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("k1".into());
        let claims = json!({"sub": "ann", "iss": "https://idp.example", "exp": 4_000_000_000u64});
        let token = jsonwebtoken::encode(&header, &claims, &signer).unwrap();
        // The request saw the set before the refresh (empty), which lacks k1 ...
        let seen = remote.installed_generation();
        assert_eq!(
            jwt.verify_cached(&token).err(),
            Some(TokenProblem::UnknownKey)
        );
        // ... and the refresh installs a set with k1 before the request asks for one.
        let mut jwk = Jwk::from_encoding_key(&signer, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some("k1".into());
        let keys = parse_jwks(json!({ "keys": [jwk] }).to_string().as_bytes()).unwrap();
        let generation = remote.next_generation();
        let installed = Ok((KeySet::loaded(keys), Duration::from_secs(600)));
        assert_eq!(remote.install(generation, installed).ok(), Some(1));

        let identity = jwt.await_keys(token, seen).await.unwrap();
        assert_eq!(identity.subject(), "ann");
    }
}
