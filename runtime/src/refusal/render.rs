//! The application's own error pages: a hook that renders 400/401/403/404/500/503 bodies.

use std::fmt;
use std::panic::AssertUnwindSafe;

use actix_web::body::MessageBody as _;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};

use crate::refusal::Denial;

/// What refused a request: a renderer may word an address lock-down differently from a
/// missing role, though both are 403 Forbidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// The credentials: missing, invalid or refused (401), or sent twice (400).
    Credentials,
    /// The route's rule, judged on who the caller is: a role, scope, permission or predicate
    /// (403, or 404 with `hide`).
    Rule,
    /// An address or country rule, decided from the connection before any credentials were
    /// read (403, or 404 with `hide`).
    Address,
    /// The server could not decide: misconfigured, a failing predicate (500), or a dependency
    /// that is down (503).
    Server,
}

/// A refused request, as an error renderer sees it.
pub struct Refusal<'a> {
    denial: Denial,
    cause: Cause,
    request: &'a HttpRequest,
}

impl<'a> Refusal<'a> {
    pub(crate) fn new(denial: Denial, cause: Cause, request: &'a HttpRequest) -> Self {
        Refusal {
            denial,
            cause,
            request,
        }
    }

    /// Why the request was refused.
    #[must_use]
    pub fn denial(&self) -> Denial {
        self.denial
    }

    /// What refused it: the credentials, the rule, an address rule or the server.
    #[must_use]
    pub fn cause(&self) -> Cause {
        self.cause
    }

    /// The status the response will have, whatever the renderer sets.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.denial.status()
    }

    /// The refused request: its path, its `Accept` header, its route.
    #[must_use]
    pub fn request(&self) -> &'a HttpRequest {
        self.request
    }
}

/// Renders refusals the application's way: its JSON shape, or HTML for a browser route.
///
/// The response's status is the refusal's, and the `WWW-Authenticate` challenges of a 401 (or
/// of `insufficient_scope`) are set by the guard: whatever the renderer returns, a client can
/// still authenticate. Bodies must be in memory (`String`, `Vec<u8>`, `Bytes`, JSON); return
/// `None` to keep the default problem document.
///
/// Any `Fn(&Refusal<'_>) -> Option<HttpResponse>` closure is a renderer.
pub trait RenderRefusal: Send + Sync + 'static {
    /// The response for `refusal`, or `None` for the default.
    fn render(&self, refusal: &Refusal<'_>) -> Option<HttpResponse>;
}

impl<F> RenderRefusal for F
where
    F: Fn(&Refusal<'_>) -> Option<HttpResponse> + Send + Sync + 'static,
{
    fn render(&self, refusal: &Refusal<'_>) -> Option<HttpResponse> {
        self(refusal)
    }
}

/// A rendered error page, kept in the error so that it can be cloned and replayed.
#[derive(Clone)]
pub(crate) struct Rendered {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// The application's renderer panicked.
pub(crate) struct Panicked;

impl Rendered {
    /// Runs `renderer`, keeping its headers (less any challenge: the guard sets those) and
    /// its body, if the body is in memory.
    pub(crate) fn of(
        renderer: &dyn RenderRefusal,
        refusal: &Refusal<'_>,
    ) -> Result<Option<Rendered>, Panicked> {
        // A renderer that panics must not reset the connection: the guard answers 500.
        let rendered = std::panic::catch_unwind(AssertUnwindSafe(|| renderer.render(refusal)));
        let Some(response) = rendered.map_err(|_| Panicked)? else {
            return Ok(None);
        };
        let mut headers = response.headers().clone();
        headers.remove(header::WWW_AUTHENTICATE);
        match response.into_body().try_into_bytes() {
            Ok(body) => Ok(Some(Rendered { headers, body })),
            Err(_) => {
                tracing::warn!(
                    "route-guard: the error renderer returned a streaming body; using the default page"
                );
                Ok(None)
            }
        }
    }
}
