//! The contract between a guard and whatever verifies credentials.

pub(crate) mod api_key;
pub(crate) mod basic;
pub(crate) mod bearer;
pub(crate) mod chain;
#[cfg(any(feature = "jwks", feature = "introspection"))]
pub(crate) mod fetch;
mod header;
#[cfg(feature = "introspection")]
pub(crate) mod introspect;
pub(crate) mod issuers;
pub(crate) mod jwt;

pub use api_key::{
    ApiKeyAuthenticator, ApiKeyAuthenticatorBuilder, DEFAULT_API_KEY_HEADER, api_key_digest,
};
pub use basic::{
    Argon2Users, BasicAuthenticator, StoreError, StoredUser, UserLookup, UserStore, hash_password,
};
pub use chain::Enrich;
#[cfg(feature = "introspection")]
#[cfg_attr(docsrs, doc(cfg(feature = "introspection")))]
pub use introspect::{
    DEFAULT_INACTIVE_TTL, DEFAULT_INTROSPECTION_ENTRIES, DEFAULT_INTROSPECTION_MAX_BODY,
    DEFAULT_INTROSPECTION_TIMEOUT, DEFAULT_INTROSPECTION_TTL, IntrospectionAuthenticator,
    IntrospectionAuthenticatorBuilder,
};
pub use issuers::{Issuers, IssuersBuilder};

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::HttpRequest;

use crate::identity::Identity;
use crate::refusal::Denial;

/// What authenticating one request produced: a verified identity, or why there is none.
pub type AuthResult = Result<Arc<Identity>, Denial>;

/// Verifies the credentials of a request and names the challenge for a refusal.
///
/// [`JwtAuthenticator`](crate::JwtAuthenticator) is the provided implementation; implement this
/// trait to plug in another credential source. It runs at most once per request, however many
/// guards the route carries.
#[diagnostic::on_unimplemented(
    note = "an authenticator verifies credentials, e.g. `route_guard::JwtAuthenticator`; \
            register it with `App::new().app_data(RouteGuard::new(authenticator))`"
)]
pub trait Authenticator: Send + Sync + 'static {
    /// Verifies the request's credentials.
    ///
    /// Return [`AuthFuture::ready`] when the answer needs no I/O, so the common path allocates
    /// nothing.
    fn authenticate(&self, req: &HttpRequest) -> AuthFuture;

    /// The `WWW-Authenticate` value for a 400 or 401 `denial` in protection space `realm`.
    ///
    /// `realm` has been checked to be a valid quoted-string body.
    fn challenge(&self, realm: &str, denial: Denial) -> String;

    /// Every `WWW-Authenticate` value for `denial` on `req`: by default the one
    /// [`challenge`](Self::challenge). An authenticator that takes two schemes (bearer and
    /// DPoP tokens) answers one per scheme, the error on the one the request used.
    fn challenges(&self, realm: &str, denial: Denial, req: &HttpRequest) -> Vec<String> {
        let _ = req;
        vec![self.challenge(realm, denial)]
    }

    /// A `DPoP-Nonce` to send with `denial` on `req` (RFC 9449 §8), for an authenticator that
    /// asks DPoP proofs for server nonces. By default none.
    fn dpop_nonce(&self, denial: Denial, req: &HttpRequest) -> Option<String> {
        let _ = (denial, req);
        None
    }

    /// How a client presents these credentials, for documentation such as an OpenAPI
    /// security scheme. By default: the HTTP authentication scheme this authenticator's
    /// challenge names (`Custom realm="api"` is `CredentialScheme::Http("Custom")`).
    fn scheme(&self) -> CredentialScheme {
        let challenge = self.challenge("api", Denial::MissingCredentials);
        let name = challenge.split_whitespace().next().unwrap_or_default();
        CredentialScheme::Http(name.to_owned())
    }

    /// The name rules use for this authenticator (`scheme("basic")`) and that an identity it
    /// accepted reports ([`Identity::scheme`]). By default the HTTP authentication scheme of
    /// its challenge in lower case: `"bearer"`, `"basic"`; the API-key authenticator is
    /// `"api_key"`. [`RouteGuardBuilder::named`](crate::RouteGuardBuilder::named) gives
    /// another; names are unique within a guard.
    fn name(&self) -> Cow<'static, str> {
        let challenge = self.challenge("api", Denial::MissingCredentials);
        let name = challenge.split_whitespace().next().unwrap_or_default();
        Cow::Owned(name.to_ascii_lowercase())
    }

    /// The issuers whose tokens this authenticator accepts (their `iss`), as protected-resource
    /// metadata lists them in `authorization_servers` (RFC 9728). By default none.
    fn issuers(&self) -> Vec<String> {
        Vec::new()
    }

    /// The algorithms DPoP proofs may be signed with, if this authenticator accepts DPoP
    /// (RFC 9449), as protected-resource metadata lists them. By default none.
    fn dpop_algorithms(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether verifying may depend on something that can be down (a key server, a user
    /// store), so that the guard may answer 503. By default `true`: an authenticator that
    /// cannot tell is documented as one that can fail.
    fn may_be_unavailable(&self) -> bool {
        true
    }
}

/// How a client presents an [`Authenticator`]'s credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialScheme {
    /// A JWT in `Authorization: Bearer`; `openid_issuer` is the OpenID Connect issuer whose
    /// discovery document the keys come from, if they do.
    BearerJwt {
        /// The issuer, e.g. `https://sso.example.com/realms/acme`.
        openid_issuer: Option<String>,
    },
    /// An opaque token in `Authorization: Bearer`, judged by `issuer`'s introspection
    /// endpoint (RFC 7662).
    BearerOpaque {
        /// The issuer, when one is configured.
        issuer: Option<String>,
    },
    /// `Authorization: Basic` (RFC 7617).
    Basic,
    /// A key in this request header.
    ApiKeyHeader(String),
    /// Another `Authorization` scheme, by its name (RFC 9110 §11.1).
    Http(String),
}

/// The answer of an [`Authenticator`], available now or later.
#[must_use = "futures do nothing unless polled"]
pub struct AuthFuture(Inner);

enum Inner {
    Ready(Option<AuthResult>),
    Pending(Pin<Box<dyn Future<Output = AuthResult>>>),
}

impl AuthFuture {
    /// An answer that is already known.
    pub fn ready(result: AuthResult) -> Self {
        AuthFuture(Inner::Ready(Some(result)))
    }

    /// An answer that needs I/O, such as fetching keys or querying a user store.
    pub fn new(future: impl Future<Output = AuthResult> + 'static) -> Self {
        AuthFuture(Inner::Pending(Box::pin(future)))
    }

    /// The answer, if it is already known; otherwise the future back.
    pub(crate) fn into_ready(self) -> Result<AuthResult, Self> {
        match self.0 {
            Inner::Ready(Some(result)) => Ok(result),
            other => Err(AuthFuture(other)),
        }
    }
}

impl Future for AuthFuture {
    type Output = AuthResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<AuthResult> {
        match &mut self.get_mut().0 {
            // Polling again after completion is a caller bug; answer fail-closed, never panic.
            Inner::Ready(result) => Poll::Ready(result.take().unwrap_or(Err(Denial::Forbidden))),
            Inner::Pending(future) => future.as_mut().poll(cx),
        }
    }
}
