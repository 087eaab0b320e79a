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

pub mod auth;
pub mod client;
mod config;
mod guard;
pub mod identity;
mod metadata;
pub mod observe;
#[cfg(feature = "utoipa")]
mod openapi;
pub mod policy;
pub mod refusal;
pub mod store;

/// JWT bearer tokens: keys, a provider's key set, the verified-token cache, provider presets.
pub mod jwt {
    pub use crate::auth::jwt::{
        DEFAULT_CACHE_ENTRIES, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LEN, DEFAULT_PROOF_WINDOW, Dpop,
        DpopMode, JwtAuthenticator, JwtAuthenticatorBuilder, JwtKey, NONCE_PERIOD, Preset,
        TokenCache, TokenType,
    };
    #[cfg(feature = "jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
    pub use crate::auth::jwt::{DEFAULT_JWKS_COOLDOWN, DEFAULT_JWKS_REFRESH, Jwks};
    /// The algorithms a [`JwtKey`] can be bound to, re-exported from `jsonwebtoken`.
    pub use jsonwebtoken::Algorithm;
}

// What a newcomer needs, at the root; the rest lives in the modules above.
pub use auth::{Authenticator, BasicAuthenticator, CredentialScheme, Issuers, IssuersBuilder};
#[cfg(feature = "introspection")]
#[cfg_attr(docsrs, doc(cfg(feature = "introspection")))]
pub use auth::{IntrospectionAuthenticator, IntrospectionAuthenticatorBuilder};
pub use client::TrustedProxies;
pub use config::ConfigError;
pub use guard::extract::{Authenticated, Guarded, MaybeAuthenticated};
pub use guard::scope::GuardScope;
pub use guard::{DEFAULT_REALM, RouteGuard, RouteGuardBuilder};
pub use identity::Identity;
#[cfg(feature = "jwks")]
pub use jwt::Jwks;
pub use jwt::{Dpop, JwtAuthenticator, JwtKey};
pub use metadata::ResourceMetadata;
#[cfg(feature = "utoipa")]
#[cfg_attr(docsrs, doc(cfg(feature = "utoipa")))]
pub use openapi::GuardDocs;

// The same items by their short paths, as before the modules existed: kept so that
// applications and examples keep compiling, and left out of the front page.
#[doc(hidden)]
pub use auth::{
    ApiKeyAuthenticator, ApiKeyAuthenticatorBuilder, Argon2Users, AuthFuture, AuthResult,
    DEFAULT_API_KEY_HEADER, Enrich, StoreError, StoredUser, UserLookup, UserStore, api_key_digest,
    hash_password,
};
#[cfg(feature = "geoip")]
#[doc(hidden)]
pub use client::MaxMindCountries;
#[doc(hidden)]
pub use client::{CountryCode, CountryResolver, CountryTable, ForwardedHeader};
#[doc(hidden)]
pub use guard::scope::GuardScopeService;
#[doc(hidden)]
pub use identity::{ClaimPath, NameSet, RoleHierarchy, RoleHierarchyBuilder, RoleName, Roles};
#[doc(hidden)]
pub use jwt::{
    Algorithm, DEFAULT_CACHE_ENTRIES, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LEN,
    JwtAuthenticatorBuilder, Preset, TokenCache, TokenType,
};
#[cfg(feature = "jwks")]
#[doc(hidden)]
pub use jwt::{DEFAULT_JWKS_COOLDOWN, DEFAULT_JWKS_REFRESH};
#[doc(hidden)]
pub use policy::{
    Policies, Policy, PolicyFn, PolicyOutput, PolicyRef, Predicate, PredicateFuture,
    PredicateOutcome, Rule,
};
#[doc(hidden)]
pub use refusal::{
    Cause, Denial, GuardError, Misconfiguration, ProofProblem, Refusal, RenderRefusal,
    RequestProblem, StepUp, TokenProblem, bearer_challenge, dpop_challenge,
};

#[cfg(feature = "macros")]
#[doc(inline)]
pub use route_guard_macros::{
    RoleName, allow_countries, block_countries, declared_scopes, deny_ip, optional_auth, require,
    require_auth, require_ip, require_permission, require_role, require_scope, rule,
};

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

/// Paths the macros expand to. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use actix_web::HttpRequest;
    pub use ipnet::IpNet;

    pub use crate::guard::extract::{Deferred, Guarded, RequireAuth};
    pub use crate::identity::Identity;
    pub use crate::identity::role::{RoleName, role_name};
    pub use crate::policy::PolicyRef;
    pub use crate::policy::encoded as enc;
    pub use crate::policy::predicate::call_predicate;
    pub use crate::policy::{Policy, Predicate, PredicateFuture, Rule};
    // Not behind `utoipa`: the macros are built for the host, and cargo may resolve their
    // `utoipa` feature apart from this crate's.
    #[cfg(feature = "macros")]
    pub use route_guard_macros::utoipa_documented;

    /// A guard attribute below `#[utoipa::path]` fails to build on this type's name: utoipa
    /// has already documented the handler without its guard.
    #[derive(Debug, Clone, Copy)]
    pub struct PutTheGuardAttributesAboveUtoipaPath;
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
