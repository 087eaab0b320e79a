//! One introspection (RFC 7662 §2): finding the endpoint, asking it about a token as the
//! resource server's own client, and reading its answer.
//!
//! Every way the endpoint can fail (no connection, a timeout, a status other than 200, a body
//! that is not a JSON object or is over the size cap, the endpoint refusing our own
//! credentials) is a [`FetchError`]: the guard answers 503 with `Retry-After`, never a 401
//! that would tell a client to throw away a good token.

use std::sync::{Mutex, PoisonError};

use reqwest::header::AUTHORIZATION;
use reqwest::{StatusCode, Url};
use serde_json::{Map, Value};

use super::Inner;
use super::builder::ClientAuth;
use crate::auth::fetch::{self, FetchError};
use crate::config::ConfigError;
use crate::refusal::TokenProblem;

/// Where tokens are sent.
#[derive(Debug)]
pub(crate) enum Endpoint {
    Fixed(Url),
    /// Found in the issuer's metadata: OpenID Connect discovery, then RFC 8414. Remembered
    /// once found; looked up again after a failed introspection.
    Discover {
        issuer: Box<str>,
        documents: [Url; 2],
        found: Mutex<Option<Url>>,
    },
}

impl Endpoint {
    pub(crate) fn discover(issuer: &str) -> Result<Endpoint, ConfigError> {
        let documents = [
            fetch::discovery_url(issuer).map_err(ConfigError::new)?,
            fetch::oauth_metadata_url(issuer).map_err(ConfigError::new)?,
        ];
        Ok(Endpoint::Discover {
            issuer: issuer.into(),
            documents,
            found: Mutex::new(None),
        })
    }
}

/// What the endpoint said about a token: its members if active, otherwise why not.
pub(crate) type Said = Result<Map<String, Value>, TokenProblem>;

impl Inner {
    /// Asks the endpoint about `token`, measured for the metrics.
    pub(crate) async fn introspect(&self, token: &str) -> Result<Said, FetchError> {
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        let said = self.introspect_unmeasured(token).await;
        #[cfg(feature = "metrics")]
        {
            let outcome = match &said {
                Ok(Ok(_)) => "active",
                Ok(Err(_)) => "inactive",
                Err(error) => error.kind,
            };
            crate::observe::instruments::introspection(outcome, started.elapsed());
        }
        said
    }

    async fn introspect_unmeasured(&self, token: &str) -> Result<Said, FetchError> {
        let url = self.endpoint_url().await?;
        let said = self.ask(&url, token).await;
        if said.is_err()
            && let Endpoint::Discover { found, .. } = &self.endpoint
        {
            // The provider may have moved its endpoint: look it up again next time.
            *found.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
        said
    }

    /// The endpoint's address: configured, remembered, or read from the issuer's metadata.
    async fn endpoint_url(&self) -> Result<Url, FetchError> {
        let (issuer, documents, found) = match &self.endpoint {
            Endpoint::Fixed(url) => return Ok(url.clone()),
            Endpoint::Discover {
                issuer,
                documents,
                found,
            } => (issuer, documents, found),
        };
        if let Some(url) = found.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            return Ok(url);
        }
        let mut last = FetchError::from("no metadata document");
        for document in documents {
            let answer = fetch::get(&self.http, document, self.settings.max_body)
                .await
                .and_then(|got| fetch::endpoint(&got.body, issuer, "introspection_endpoint"));
            match answer {
                Ok(url) => {
                    *found.lock().unwrap_or_else(PoisonError::into_inner) = Some(url.clone());
                    return Ok(url);
                }
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    /// POSTs `token` to `url` (RFC 7662 §2.1) and reads the answer (§2.2).
    async fn ask(&self, url: &Url, token: &str) -> Result<Said, FetchError> {
        let answer = fetch::post(self.request(url, token), url, self.settings.max_body)
            .await
            .inspect_err(|error| self.explain(error))?;
        read_answer(&answer.body)
    }

    /// The introspection request for `token`, with the resource server's credentials.
    fn request(&self, url: &Url, token: &str) -> reqwest::RequestBuilder {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", token)
            .append_pair("token_type_hint", "access_token");
        let mut request = self.http.post(url.clone());
        match &self.client {
            ClientAuth::Basic { header, .. } => {
                request = request.header(AUTHORIZATION, header.clone());
            }
            ClientAuth::Post { id, secret } => {
                form.append_pair("client_id", id)
                    .append_pair("client_secret", &secret.0);
            }
        }
        request
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form.finish())
    }

    /// Logs what an operator must fix when the endpoint refuses the resource server itself.
    fn explain(&self, error: &FetchError) {
        if let Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST) =
            error.status
        {
            tracing::error!(
                client_id = self.client.client_id(),
                %error,
                "route-guard: the introspection endpoint refused this resource server's own \
                 request; check its client id, secret and authentication method. Answering 503"
            );
        }
    }
}

/// An answer's members when `active` is JSON `true`; anything else is not active.
pub(crate) fn read_answer(body: &[u8]) -> Result<Said, FetchError> {
    let members: Map<String, Value> = serde_json::from_slice(body).map_err(|e| {
        FetchError::from(format!(
            "the introspection answer is not a JSON object: {e}"
        ))
    })?;
    Ok(match members.get("active") {
        Some(Value::Bool(true)) => Ok(members),
        _ => Err(TokenProblem::Inactive),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_true_is_active() {
        assert!(matches!(read_answer(br#"{"active":true}"#), Ok(Ok(_))));
        for inactive in [
            &br#"{"active":false}"#[..],
            br#"{"active":"true"}"#,
            br#"{"active":1}"#,
            br#"{"active":null}"#,
            br#"{}"#,
        ] {
            assert!(
                matches!(read_answer(inactive), Ok(Err(TokenProblem::Inactive))),
                "{}",
                String::from_utf8_lossy(inactive)
            );
        }
        for broken in [&b"<html>"[..], b"[true]", b"\"active\"", b""] {
            assert!(read_answer(broken).is_err());
        }
    }
}
