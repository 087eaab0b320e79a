//! The application-wide guard configuration and the per-request authentication it drives.

use std::fmt;
use std::sync::Arc;

use actix_web::http::header::HeaderValue;
use actix_web::{HttpMessage as _, HttpRequest};
use futures_util::future::{FutureExt as _, Shared};

use crate::authenticator::{AuthFuture, AuthResult, Authenticator};
use crate::config::ConfigError;
use crate::error::{Denial, GuardError, Misconfiguration};
use crate::hierarchy::RoleHierarchy;

/// The default protection space named in challenges.
pub const DEFAULT_REALM: &str = "api";

/// The authenticator and settings every guard of an application uses.
///
/// Register it once with `App::app_data`; it is cheap to clone.
///
/// ```
/// use actix_web::App;
/// use route_guard::{JwtAuthenticator, JwtKey, RouteGuard};
///
/// let jwt = JwtAuthenticator::builder()
///     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
///     .build()?;
/// let guard = RouteGuard::builder(jwt).realm("my-api").build()?;
/// let app = App::new().app_data(guard);
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct RouteGuard {
    inner: Arc<Inner>,
}

struct Inner {
    authenticator: Box<dyn Authenticator>,
    realm: Box<str>,
    hierarchy: RoleHierarchy,
}

/// Configures a [`RouteGuard`]; see [`RouteGuard::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct RouteGuardBuilder {
    authenticator: Box<dyn Authenticator>,
    realm: String,
    hierarchy: RoleHierarchy,
}

impl RouteGuard {
    /// A guard over `authenticator` with the default realm, `api`.
    pub fn new(authenticator: impl Authenticator) -> Self {
        RouteGuard {
            inner: Arc::new(Inner {
                authenticator: Box::new(authenticator),
                realm: DEFAULT_REALM.into(),
                hierarchy: RoleHierarchy::default(),
            }),
        }
    }

    /// Starts a configuration with more settings than [`RouteGuard::new`] takes.
    pub fn builder(authenticator: impl Authenticator) -> RouteGuardBuilder {
        RouteGuardBuilder {
            authenticator: Box::new(authenticator),
            realm: DEFAULT_REALM.to_owned(),
            hierarchy: RoleHierarchy::default(),
        }
    }

    /// The realm named in challenges.
    #[must_use]
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// The role hierarchy every role check honours.
    #[must_use]
    pub fn role_hierarchy(&self) -> &RoleHierarchy {
        &self.inner.hierarchy
    }

    /// The error response for `denial`, with the challenge it calls for.
    #[must_use]
    pub fn reject(&self, denial: Denial) -> GuardError {
        let challenge = match denial {
            Denial::MissingCredentials
            | Denial::UnsupportedScheme
            | Denial::InvalidToken(_)
            | Denial::InvalidRequest(_)
            | Denial::InsufficientScope(_) => {
                let value = self
                    .inner
                    .authenticator
                    .challenge(&self.inner.realm, denial);
                HeaderValue::try_from(value).ok()
            }
            Denial::Forbidden | Denial::Misconfigured(_) | Denial::PolicyFailed => None,
        };
        GuardError::new(denial, challenge)
    }
}

impl fmt::Debug for RouteGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteGuard")
            .field("realm", &self.inner.realm)
            .finish_non_exhaustive()
    }
}

impl RouteGuardBuilder {
    /// The protection space named in every challenge (RFC 9110 §11.5); default `api`.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Which roles include which, honoured by every role check; see [`RoleHierarchy`].
    pub fn role_hierarchy(mut self, hierarchy: RoleHierarchy) -> Self {
        self.hierarchy = hierarchy;
        self
    }

    /// Checks the configuration and builds the guard.
    pub fn build(self) -> Result<RouteGuard, ConfigError> {
        // The realm is sent inside a quoted-string: printable ASCII without `"` or `\`
        // keeps it valid without escaping, in every client's parser.
        let printable = |c: char| c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\';
        if self.realm.is_empty() || !self.realm.chars().all(printable) {
            return Err(ConfigError::new(format!(
                "the realm {:?} must be non-empty printable ASCII without quotes or backslashes",
                self.realm
            )));
        }
        Ok(RouteGuard {
            inner: Arc::new(Inner {
                authenticator: self.authenticator,
                realm: self.realm.into_boxed_str(),
                hierarchy: self.hierarchy,
            }),
        })
    }
}

type SharedAuth = Shared<AuthFuture>;

/// The outcome of authenticating a request. It is kept in the request's extensions so that
/// every guard and extractor on the route shares one verification.
#[derive(Clone)]
pub(crate) enum Resolution {
    Done(Result<Arc<crate::Identity>, GuardError>),
    Pending(RouteGuard, SharedAuth, Arc<str>),
}

impl Resolution {
    /// Waits for a pending authentication, turning a denial into its response.
    pub(crate) async fn finish(self) -> Result<Arc<crate::Identity>, GuardError> {
        match self {
            Resolution::Done(result) => result,
            Resolution::Pending(guard, future, path) => finish(&guard, future.await, &path),
        }
    }
}

/// Authenticates `req` once, however many extractors ask.
pub(crate) fn resolve(req: &HttpRequest) -> Resolution {
    if let Some(resolution) = req.extensions().get::<Resolution>() {
        return resolution.clone();
    }
    let resolution = authenticate(req);
    req.extensions_mut().insert(resolution.clone());
    resolution
}

fn authenticate(req: &HttpRequest) -> Resolution {
    let Some(guard) = req.app_data::<RouteGuard>() else {
        let denial = Denial::Misconfigured(Misconfiguration::NoRouteGuard);
        tracing::error!(path = req.path(), "route-guard: {denial}");
        return Resolution::Done(Err(GuardError::new(denial, None)));
    };
    match guard.inner.authenticator.authenticate(req).into_ready() {
        Ok(result) => Resolution::Done(finish(guard, result, req.path())),
        Err(future) => Resolution::Pending(guard.clone(), future.shared(), req.path().into()),
    }
}

fn finish(
    guard: &RouteGuard,
    result: AuthResult,
    path: &str,
) -> Result<Arc<crate::Identity>, GuardError> {
    result.map_err(|denial| {
        tracing::debug!(%denial, path, "route-guard: credentials refused");
        guard.reject(denial)
    })
}
