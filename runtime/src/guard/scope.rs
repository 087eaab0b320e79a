//! Guarding a whole `web::scope(...)` with one rule: the middleware form of the guards.

use std::rc::Rc;

use actix_web::Error;
use actix_web::body::EitherBody;
use actix_web::dev::{
    ResourceDef, Service, ServiceRequest, ServiceResponse, Transform, forward_ready,
};
use futures_util::future::{LocalBoxFuture, Ready, ready};

use crate::guard::check::check;
use crate::policy::PolicyRef;

/// Applies one rule to every route of a scope, with the same engine, statuses and challenges
/// as the guard attributes.
///
/// Handlers inside can tighten it with their own attributes. Paths given to
/// [`exempt`](Self::exempt) skip it; for anything finer, register those routes outside the
/// scope: actix-web runs a scope's middleware before it knows which route matches.
///
/// ```
/// use actix_web::{App, web};
/// use route_guard::{GuardScope, rule};
///
/// let app = App::new().service(
///     web::scope("/admin")
///         .wrap(GuardScope::new(rule!(role("admin"))).exempt("/admin/health"))
///         .route("/users", web::get().to(|| async { "users" }))
///         .route("/health", web::get().to(|| async { "ok" })),
/// );
/// ```
///
/// CORS preflight requests never reach it when `actix-cors` wraps the `App`, as its
/// documentation advises: the CORS middleware answers them first.
#[derive(Debug, Clone)]
pub struct GuardScope {
    pub(crate) policy: PolicyRef,
    pub(crate) exempt: Rc<[ResourceDef]>,
}

impl GuardScope {
    /// Guards the scope with `policy`, e.g. `rule!(any(role("admin"), ip("10.0.0.0/8")))`.
    #[must_use]
    pub fn new(policy: PolicyRef) -> Self {
        GuardScope {
            policy,
            exempt: Rc::new([]),
        }
    }

    /// Lets requests whose path matches `pattern` (an actix-web path pattern such as
    /// `/admin/health` or `/admin/public/{file}`, matched against the whole path) through
    /// unguarded.
    #[must_use]
    pub fn exempt(self, pattern: &str) -> Self {
        let mut exempt = self.exempt.to_vec();
        exempt.push(ResourceDef::new(pattern));
        GuardScope {
            exempt: exempt.into(),
            ..self
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for GuardScope
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = GuardScopeService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(GuardScopeService {
            service: Rc::new(service),
            policy: self.policy,
            exempt: self.exempt.clone(),
        }))
    }
}

/// The service [`GuardScope`] wraps a scope in.
#[doc(hidden)]
pub struct GuardScopeService<S> {
    service: Rc<S>,
    policy: PolicyRef,
    exempt: Rc<[ResourceDef]>,
}

impl<S, B> Service<ServiceRequest> for GuardScopeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        if self
            .exempt
            .iter()
            .any(|pattern| pattern.is_match(req.path()))
        {
            return Box::pin(async move { Ok(service.call(req).await?.map_into_left_body()) });
        }
        let checked = check(req.request(), std::slice::from_ref(&self.policy));
        Box::pin(async move {
            match checked.await {
                Ok(_) => Ok(service.call(req).await?.map_into_left_body()),
                Err(error) => Ok(req.error_response(error).map_into_right_body()),
            }
        })
    }
}
