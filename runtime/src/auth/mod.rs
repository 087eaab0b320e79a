//! The contract between a guard and whatever verifies credentials.

pub(crate) mod api_key;
pub(crate) mod basic;
pub(crate) mod bearer;
pub(crate) mod chain;
mod header;
pub(crate) mod jwt;

pub use api_key::{
    ApiKeyAuthenticator, ApiKeyAuthenticatorBuilder, DEFAULT_API_KEY_HEADER, api_key_digest,
};
pub use basic::{
    Argon2Users, BasicAuthenticator, StoreError, StoredUser, UserLookup, UserStore, hash_password,
};
pub use chain::Enrich;

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
