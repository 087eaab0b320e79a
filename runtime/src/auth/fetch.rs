//! Talking to an identity provider over HTTP, defensively: bounded bodies, timeouts, HTTPS only
//! (plain HTTP to a loopback address aside, for development and tests), redirects that never
//! leave that ground, cache lifetimes read from the provider's headers (RFC 9111 §5.2.2.1).
//! Used for key sets and discovery (`jwt/remote.rs`) and for token introspection
//! (`introspect/`).

use std::time::Duration;

use reqwest::header::{AGE, CACHE_CONTROL, HeaderMap};
use reqwest::{Client, StatusCode, Url};

/// Why a fetch produced nothing usable. Logged, never shown to clients.
#[derive(Debug)]
pub(crate) struct FetchError {
    /// The `outcome` label of the fetch metrics: `timeout`, `connect`, `status`, `too_large`,
    /// `invalid` or `error`.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) kind: &'static str,
    /// The answer's status, when the provider answered with one other than 200.
    #[cfg_attr(not(feature = "introspection"), allow(dead_code))]
    pub(crate) status: Option<StatusCode>,
    message: String,
}

impl FetchError {
    fn new(kind: &'static str, message: String) -> Self {
        FetchError {
            kind,
            status: None,
            message,
        }
    }

    /// A failed request, by what `reqwest` says went wrong.
    fn request(method: &str, url: &Url, error: &reqwest::Error) -> Self {
        let kind = if error.is_timeout() {
            "timeout"
        } else if error.is_connect() {
            "connect"
        } else {
            "error"
        };
        FetchError::new(kind, format!("{method} {url}: {error}"))
    }
}

/// A document that arrived but cannot be used.
impl From<String> for FetchError {
    fn from(message: String) -> Self {
        FetchError::new("invalid", message)
    }
}

impl From<&str> for FetchError {
    fn from(message: &str) -> Self {
        FetchError::from(message.to_owned())
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<FetchError> for String {
    fn from(error: FetchError) -> Self {
        error.message
    }
}

/// A document and how long its provider says it stays fresh.
pub(crate) struct Fetched {
    pub(crate) body: Vec<u8>,
    #[cfg_attr(not(feature = "jwks"), allow(dead_code))]
    pub(crate) max_age: Option<Duration>,
}

/// Checks that `url` may serve key material or judge tokens: `https`, or `http` to a loopback
/// host.
pub(crate) fn check_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        _ => Err(format!(
            "{url:?} must use https (plain http is accepted for loopback addresses only): \
             what travels in clear text can be read or replaced by anyone on the path"
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// An HTTP client for an identity provider.
pub(crate) fn client(connect_timeout: Duration, timeout: Duration) -> Result<Client, String> {
    Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        // Requests may run on any worker's runtime: a pooled connection would belong to the
        // runtime that opened it (and die with it), so none is kept.
        .pool_max_idle_per_host(0)
        .redirect(redirects())
        .user_agent(concat!("route-guard/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Follows at most three redirects, and only to addresses that may serve key material: an
/// `https` JWKS must not be bounced to clear text.
fn redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= 3 {
            attempt.error("more than three redirects")
        } else if check_url(attempt.url().as_str()).is_err() {
            attempt.error("a redirect to an address that may not serve keys")
        } else {
            attempt.follow()
        }
    })
}

/// GETs `url`, reading at most `max_body` bytes of a 200 answer.
pub(crate) async fn get(
    client: &Client,
    url: &Url,
    max_body: usize,
) -> Result<Fetched, FetchError> {
    let request = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    send(request, "GET", url, max_body).await
}

/// POSTs the form `request` carries to `url`, reading at most `max_body` bytes of a 200 answer.
#[cfg(feature = "introspection")]
pub(crate) async fn post(
    request: reqwest::RequestBuilder,
    url: &Url,
    max_body: usize,
) -> Result<Fetched, FetchError> {
    let request = request.header(reqwest::header::ACCEPT, "application/json");
    send(request, "POST", url, max_body).await
}

/// Sends `request` (a `method` to `url`), reading at most `max_body` bytes of a 200 answer.
async fn send(
    request: reqwest::RequestBuilder,
    method: &str,
    url: &Url,
    max_body: usize,
) -> Result<Fetched, FetchError> {
    let mut response = request
        .send()
        .await
        .map_err(|e| FetchError::request(method, url, &e))?;
    if response.status() != StatusCode::OK {
        let message = format!("{method} {url}: status {}", response.status());
        let mut error = FetchError::new("status", message);
        error.status = Some(response.status());
        return Err(error);
    }
    let too_large = || {
        let message = format!("{method} {url}: body larger than {max_body} bytes");
        FetchError::new("too_large", message)
    };
    if response
        .content_length()
        .is_some_and(|len| len > max_body as u64)
    {
        return Err(too_large());
    }
    let max_age = max_age(response.headers());
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FetchError::request(method, url, &e))?
    {
        if body.len() + chunk.len() > max_body {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched { body, max_age })
}

/// The freshness lifetime the provider grants: `max-age` less `Age`; zero for `no-store` or
/// `no-cache` (RFC 9111 §5.2.2). `None` when the headers say nothing.
pub(crate) fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut max_age = None;
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',').map(str::trim) {
            let (name, argument) = directive.split_once('=').unwrap_or((directive, ""));
            match name.to_ascii_lowercase().as_str() {
                "no-store" | "no-cache" => return Some(Duration::ZERO),
                "max-age" => max_age = argument.trim_matches('"').parse::<u64>().ok(),
                _ => {}
            }
        }
    }
    let age = headers
        .get(AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    max_age.map(|secs| Duration::from_secs(secs.saturating_sub(age)))
}

/// The discovery document's address for `issuer` (OpenID Connect Discovery 1.0 §4.1): the
/// issuer without a trailing `/`, then `/.well-known/openid-configuration`.
pub(crate) fn discovery_url(issuer: &str) -> Result<Url, String> {
    check_url(&format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    ))
}

/// The authorization server metadata's address for `issuer` (RFC 8414 §3.1): the well-known
/// suffix goes between the host and the issuer's path.
#[cfg(feature = "introspection")]
pub(crate) fn oauth_metadata_url(issuer: &str) -> Result<Url, String> {
    let mut url = check_url(issuer)?;
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    Ok(url)
}

/// Reads a discovery document and returns its `jwks_uri`, after checking that it speaks for
/// `issuer` exactly (Discovery §4.3: otherwise another issuer's keys could be substituted).
#[cfg(feature = "jwks")]
pub(crate) fn jwks_uri(document: &[u8], issuer: &str) -> Result<Url, FetchError> {
    endpoint(document, issuer, "jwks_uri")
}

/// The URL of metadata member `name` (`jwks_uri`, `introspection_endpoint`) in a discovery or
/// RFC 8414 document, after checking that the document speaks for `issuer` exactly (Discovery
/// §4.3, RFC 8414 §3.3: otherwise another issuer's endpoints could be substituted).
pub(crate) fn endpoint(document: &[u8], issuer: &str, name: &str) -> Result<Url, FetchError> {
    let metadata: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(document)
        .map_err(|e| format!("the discovery document is not usable: {e}"))?;
    let named = metadata.get("issuer").and_then(serde_json::Value::as_str);
    if named != Some(issuer) {
        return Err(format!(
            "the discovery document names issuer {named:?}, not the configured {issuer:?}"
        )
        .into());
    }
    let Some(url) = metadata.get(name).and_then(serde_json::Value::as_str) else {
        return Err(format!("the discovery document has no `{name}`").into());
    };
    Ok(check_url(url)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn cache_lifetimes_come_from_max_age_less_age() {
        let secs = |pairs| max_age(&headers(pairs)).map(|d| d.as_secs());
        assert_eq!(secs(&[]), None);
        assert_eq!(
            secs(&[("cache-control", "public, max-age=3600")]),
            Some(3600)
        );
        assert_eq!(
            secs(&[("cache-control", "Max-Age=\"60\""), ("age", "20")]),
            Some(40)
        );
        assert_eq!(
            secs(&[("cache-control", "max-age=10"), ("age", "99")]),
            Some(0)
        );
        assert_eq!(secs(&[("cache-control", "max-age=60, no-cache")]), Some(0));
        assert_eq!(secs(&[("cache-control", "no-store")]), Some(0));
        assert_eq!(secs(&[("cache-control", "max-age=soon")]), None);
    }

    #[test]
    fn key_material_travels_over_https_or_loopback_only() {
        for good in [
            "https://idp.example/jwks",
            "http://127.0.0.1:8080/jwks",
            "http://[::1]/jwks",
            "http://localhost/jwks",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://idp.example/jwks",
            "ftp://127.0.0.1/",
            "file:///etc/jwks",
            "jwks",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[cfg(feature = "introspection")]
    #[test]
    fn rfc8414_metadata_sits_between_host_and_path() {
        let url = |issuer| oauth_metadata_url(issuer).unwrap().to_string();
        assert_eq!(
            url("https://idp.example"),
            "https://idp.example/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            url("https://idp.example/tenant/1/"),
            "https://idp.example/.well-known/oauth-authorization-server/tenant/1"
        );
        assert!(oauth_metadata_url("http://idp.example").is_err());
        let doc =
            br#"{"issuer":"https://idp.example","introspection_endpoint":"https://idp.example/i"}"#;
        let found = endpoint(doc, "https://idp.example", "introspection_endpoint");
        assert_eq!(found.unwrap().as_str(), "https://idp.example/i");
        assert!(endpoint(doc, "https://idp.example", "jwks_uri").is_err());
        assert!(endpoint(doc, "https://evil.example", "introspection_endpoint").is_err());
    }

    #[cfg(feature = "jwks")]
    #[test]
    fn discovery_must_speak_for_the_configured_issuer() {
        let doc = br#"{"issuer":"https://idp.example","jwks_uri":"https://idp.example/k"}"#;
        assert_eq!(
            jwks_uri(doc, "https://idp.example").unwrap().as_str(),
            "https://idp.example/k"
        );
        assert!(jwks_uri(doc, "https://idp.example/").is_err());
        assert!(jwks_uri(doc, "https://evil.example").is_err());
        let clear = br#"{"issuer":"https://idp.example","jwks_uri":"http://idp.example/k"}"#;
        assert!(jwks_uri(clear, "https://idp.example").is_err());
        assert!(jwks_uri(b"<html>", "https://idp.example").is_err());
        assert_eq!(
            discovery_url("https://idp.example/realms/a/")
                .unwrap()
                .as_str(),
            "https://idp.example/realms/a/.well-known/openid-configuration"
        );
    }
}
