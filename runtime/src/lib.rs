//! Attribute macros that guard actix-web handlers.
//!
//! ```
//! use actix_web::{App, Responder, get, web};
//! use route_guard::{Authenticated, JwtAuthenticator, JwtKey, RouteGuard, require_auth, require_role};
//!
//! #[get("/me")]
//! #[require_auth]
//! async fn me(user: Authenticated) -> impl Responder {
//!     web::Json(user.subject().to_owned())
//! }
//!
//! #[get("/admin")]
//! #[require_role("admin")]
//! async fn admin() -> &'static str {
//!     "hello, admin"
//! }
//!
//! # fn main() -> Result<(), route_guard::ConfigError> {
//! let jwt = JwtAuthenticator::builder()
//!     .key(JwtKey::hs256("a development secret of at least 32 bytes")?)
//!     .issuer("https://issuer.example")
//!     .audience("my-api")
//!     .build()?;
//! let guard = RouteGuard::new(jwt);
//! let app = App::new().app_data(guard).service(me).service(admin);
//! # Ok(())
//! # }
//! ```
//!
//! A guarded handler runs only for a caller whose credentials verify and who satisfies the
//! route's rule. Everyone else gets the answer the HTTP standards prescribe:
//!
//! - **401 Unauthorized** with a `WWW-Authenticate` challenge when credentials are missing or
//!   unusable (RFC 9110 §15.5.2, RFC 6750 §3);
//! - **403 Forbidden** when the caller is known but not allowed;
//! - **400 Bad Request** when the request carries credentials twice;
//! - **500** when no [`RouteGuard`] is registered: guards fail closed.
//!
//! Bodies are RFC 9457 `application/problem+json` documents that never echo the token.

#![cfg_attr(docsrs, feature(doc_cfg))]
// A guard runs on every request and must fail closed, never panic, whatever a client sends.
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

#[cfg(not(any(feature = "rust-crypto", feature = "aws-lc-rs")))]
compile_error!(
    "route-guard needs a signature backend: enable the `rust-crypto` or `aws-lc-rs` feature"
);

mod auth;
mod client;
mod config;
mod guard;
mod identity;
mod policy;
mod refusal;

pub use auth::api_key::{
    ApiKeyAuthenticator, ApiKeyAuthenticatorBuilder, DEFAULT_API_KEY_HEADER, api_key_digest,
};
pub use auth::basic::{
    Argon2Users, BasicAuthenticator, StoreError, StoredUser, UserLookup, UserStore, hash_password,
};
pub use auth::chain::Enrich;
pub use auth::jwt::{
    DEFAULT_CACHE_ENTRIES, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LEN, JwtAuthenticator,
    JwtAuthenticatorBuilder, JwtKey, Preset, TokenCache, TokenType,
};
#[cfg(feature = "jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
pub use auth::jwt::{DEFAULT_JWKS_COOLDOWN, DEFAULT_JWKS_REFRESH, Jwks};
pub use auth::{AuthFuture, AuthResult, Authenticator};
#[cfg(feature = "geoip")]
#[cfg_attr(docsrs, doc(cfg(feature = "geoip")))]
pub use client::geo::MaxMindCountries;
pub use client::geo::{CountryCode, CountryResolver, CountryTable};
pub use client::{ForwardedHeader, TrustedProxies};
pub use config::ConfigError;
pub use guard::extract::{Authenticated, Guarded, MaybeAuthenticated};
pub use guard::scope::{GuardScope, GuardScopeService};
pub use guard::{DEFAULT_REALM, RouteGuard, RouteGuardBuilder};
pub use identity::claims::ClaimPath;
pub use identity::hierarchy::{RoleHierarchy, RoleHierarchyBuilder};
pub use identity::role::RoleName;
pub use identity::{Identity, NameSet, Roles};
pub use policy::predicate::{PolicyFn, PolicyOutput};
pub use policy::{Policies, Policy, PolicyRef, Predicate, PredicateFuture, PredicateOutcome, Rule};
pub use refusal::render::{Cause, Refusal, RenderRefusal};
pub use refusal::{
    Denial, GuardError, Misconfiguration, RequestProblem, TokenProblem, bearer_challenge,
};

/// The algorithms a [`JwtKey`] can be bound to, re-exported from `jsonwebtoken`.
pub use jsonwebtoken::Algorithm;

#[cfg(feature = "macros")]
#[doc(inline)]
pub use route_guard_macros::{
    RoleName, allow_countries, block_countries, deny_ip, require, require_auth, require_ip,
    require_permission, require_role, require_scope, rule,
};

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

/// Paths the macros expand to. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use actix_web::HttpRequest;
    pub use ipnet::IpNet;

    pub use crate::guard::extract::{Guarded, RequireAuth};
    pub use crate::identity::Identity;
    pub use crate::identity::role::{RoleName, role_name};
    pub use crate::policy::PolicyRef;
    pub use crate::policy::predicate::call_predicate;
    pub use crate::policy::{Policy, Predicate, PredicateFuture, Rule};
}

/// Thin wrappers over crate-private parsers, for the fuzz targets in `fuzz/`. Not public API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;

/// The README's examples compile.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
