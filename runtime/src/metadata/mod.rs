//! What the guard publishes about the API it protects: the OAuth 2.0 protected-resource
//! metadata document (RFC 9728), from which a client that got a 401 finds which authorization
//! server to ask, for which scopes. The Model Context Protocol's authorization spec requires it
//! of every protected server.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, Resource, web};
use serde_json::{Map, Value, json};
use url::Url;

use crate::config::ConfigError;

/// The well-known path of the document (RFC 9728 §3).
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// Protected-resource metadata (RFC 9728): configure it on the guard with
/// [`RouteGuardBuilder::resource_metadata`](crate::RouteGuardBuilder::resource_metadata), serve
/// it with [`RouteGuard::resource_metadata_service`](crate::RouteGuard::resource_metadata_service),
/// and every 401 challenge names it in `resource_metadata="…"`.
///
/// `authorization_servers` defaults to the issuers the guard's authenticators accept.
///
/// ```
/// use actix_web::App;
/// use route_guard::{JwtAuthenticator, JwtKey, ResourceMetadata, RouteGuard};
///
/// let jwt = JwtAuthenticator::builder()
///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
///     .issuer("https://sso.example.com")
///     .build()?;
/// let metadata = ResourceMetadata::new("https://api.example.com")?
///     .scopes_supported(["read:items", "write:items"])
///     .resource_name("Example API");
/// let guard = RouteGuard::builder(jwt).resource_metadata(metadata).build()?;
/// let app = App::new()
///     .service(guard.resource_metadata_service().expect("configured above"))
///     .app_data(guard);
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "metadata does nothing until given to the guard's builder"]
pub struct ResourceMetadata {
    resource: Url,
    authorization_servers: Option<Vec<String>>,
    scopes_supported: Vec<String>,
    resource_name: Option<String>,
    resource_documentation: Option<String>,
}

impl ResourceMetadata {
    /// Metadata for the protected resource identified by `resource`: an `https` URL (plain
    /// `http` only for a loopback address) without query or fragment (RFC 9728 §1.2), such as
    /// `https://api.example.com` or `https://example.com/api`.
    pub fn new(resource: &str) -> Result<Self, ConfigError> {
        let url = checked_url(resource, "the protected resource")?;
        Ok(ResourceMetadata {
            resource: url,
            authorization_servers: None,
            scopes_supported: Vec::new(),
            resource_name: None,
            resource_documentation: None,
        })
    }

    /// The authorization servers' issuer identifiers, instead of the issuers the guard's
    /// authenticators accept.
    pub fn authorization_servers<I, S>(mut self, issuers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.authorization_servers = Some(issuers.into_iter().map(Into::into).collect());
        self
    }

    /// The scopes clients may ask for this resource: the ones your rules name, e.g.
    /// [`declared_scopes!()`](crate::declared_scopes) when they are declared in
    /// `ROUTE_GUARD_SCOPES`.
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A name for people, `resource_name`.
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// A page for developers, `resource_documentation`.
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.resource_documentation = Some(url.into());
        self
    }

    /// Where the document is served, relative to the host: the well-known path, then the
    /// resource's own path if it has one (RFC 9728 §3.1).
    pub(crate) fn path(&self) -> String {
        let own = self.resource.path().trim_end_matches('/');
        format!("{WELL_KNOWN}{own}")
    }

    /// The document's URL, as every 401 challenge names it.
    pub(crate) fn url(&self) -> String {
        let mut origin = self.resource.clone();
        origin.set_path(&self.path());
        origin.to_string()
    }

    /// The document, with `issuers` as the default authorization servers, `bearer_methods`
    /// the ways the guard reads tokens and `dpop_algs` the algorithms DPoP proofs may use.
    pub(crate) fn document(
        &self,
        issuers: &[String],
        bearer_methods: &[&str],
        dpop_algs: &[String],
    ) -> Value {
        let servers = self.authorization_servers.as_deref().unwrap_or(issuers);
        let mut document = Map::new();
        document.insert(
            "resource".into(),
            json!(resource_identifier(&self.resource)),
        );
        if !servers.is_empty() {
            document.insert("authorization_servers".into(), json!(servers));
        }
        if !self.scopes_supported.is_empty() {
            document.insert("scopes_supported".into(), json!(self.scopes_supported));
        }
        document.insert("bearer_methods_supported".into(), json!(bearer_methods));
        if !dpop_algs.is_empty() {
            document.insert("dpop_signing_alg_values_supported".into(), json!(dpop_algs));
        }
        if let Some(name) = &self.resource_name {
            document.insert("resource_name".into(), json!(name));
        }
        if let Some(url) = &self.resource_documentation {
            document.insert("resource_documentation".into(), json!(url));
        }
        Value::Object(document)
    }

    /// Checks what the builder could not check as it went.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.resource_documentation {
            checked_url(url, "resource_documentation")?;
        }
        for server in self.authorization_servers.iter().flatten() {
            checked_url(server, "an authorization server")?;
        }
        if let Some(scope) = self.scopes_supported.iter().find(|s| !is_scope_token(s)) {
            return Err(ConfigError::new(format!(
                "{scope:?} is not a scope (RFC 6749 §3.3: printable ASCII without spaces, `\"` or `\\`)"
            )));
        }
        Ok(())
    }
}

/// The resource as configured, without the trailing `/` the URL parser adds to a bare origin:
/// clients compare it with the URL they called, character for character (RFC 9728 §3.3).
fn resource_identifier(url: &Url) -> String {
    let text = url.as_str();
    if url.path() == "/" {
        text.trim_end_matches('/').to_owned()
    } else {
        text.to_owned()
    }
}

fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// `text` as an `https` URL (or `http` to a loopback host) without query or fragment.
fn checked_url(text: &str, what: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text)
        .map_err(|e| ConfigError::new(format!("{what} {text:?} is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let secure = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !secure || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(ConfigError::new(format!(
            "{what} {text:?} must be an https URL (http only for loopback) without user, query \
             or fragment (RFC 9728 §1.2)"
        )));
    }
    Ok(url)
}

/// The actix-web resource that serves `document` at `path`.
pub(crate) fn service(path: &str, document: Value) -> Resource {
    let body = document.to_string();
    web::resource(path).route(web::get().to(move || {
        let body = body.clone();
        async move {
            HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, "application/json"))
                .insert_header((CACHE_CONTROL, "public, max-age=3600"))
                .body(body)
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lives_under_the_resource_path() -> Result<(), ConfigError> {
        let bare = ResourceMetadata::new("https://api.example.com")?;
        assert_eq!(bare.path(), "/.well-known/oauth-protected-resource");
        assert_eq!(
            bare.url(),
            "https://api.example.com/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            bare.document(&[], &["header"], &[])["resource"],
            "https://api.example.com"
        );
        let nested = ResourceMetadata::new("https://example.com/api/v1")?;
        assert_eq!(
            nested.path(),
            "/.well-known/oauth-protected-resource/api/v1"
        );
        assert_eq!(
            nested.document(&[], &["header"], &[])["resource"],
            "https://example.com/api/v1"
        );
        Ok(())
    }

    #[test]
    fn resources_that_clients_could_not_trust_are_refused() -> Result<(), ConfigError> {
        for bad in [
            "http://api.example.com",
            "https://api.example.com/?tenant=a",
            "https://api.example.com/#top",
            "https://user@api.example.com",
            "api.example.com",
            "",
        ] {
            assert!(ResourceMetadata::new(bad).is_err(), "{bad}");
        }
        assert!(ResourceMetadata::new("http://127.0.0.1:8080").is_ok());
        let spaced =
            ResourceMetadata::new("https://api.example.com")?.scopes_supported(["read items"]);
        assert!(spaced.validate().is_err());
        Ok(())
    }
}
