//! Implementation detail of the [`route-guard`](https://docs.rs/route-guard) crate: the guard
//! attribute macros. Depend on `route-guard`, which re-exports them, rather than on this crate.

mod attr;
mod expand;
mod exports;
mod handler;
mod policy;
mod role_name;
mod siblings;

use proc_macro::TokenStream;

use crate::attr::Attribute;

/// Requires an authenticated caller: the handler runs only for a request whose credentials
/// verify; others get 401 with a `WWW-Authenticate` challenge.
///
/// Place it above or below `#[get]`/`#[post]`/..., or use it on a handler registered with
/// `web::get().to(handler)`. It takes no arguments.
///
/// The other guard attributes go on a free `async fn` only: they declare a marker type beside
/// the handler, and an `impl` block cannot hold one. Every `#[require_auth]` shares one policy
/// type instead, so it declares nothing and also guards an associated function (one without
/// `self`).
///
/// # Examples
///
/// ```
/// use actix_web::{Responder, get, web};
/// use route_guard::{Authenticated, require_auth};
///
/// #[get("/me")]
/// #[require_auth]
/// async fn me(user: Authenticated) -> impl Responder {
///     web::Json(user.subject().to_owned())
/// }
/// ```
#[proc_macro_attribute]
pub fn require_auth(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::expand(Attribute::RequireAuth, args.into(), item.into()).into()
}

/// Requires an authenticated caller who holds a role: 401 without valid credentials, 403 for
/// a caller without the role.
///
/// The argument is one rule. A string is a role name; `Role::Admin` is a typed role (an enum
/// that derives [`RoleName`](derive@RoleName)). `any(...)` holds when at least one of its rules
/// does, `all(...)` when every one does, `not(...)` when its rule does not; they nest, and
/// every form of [`require`](macro@require) is accepted too. Two bare roles are refused as
/// ambiguous: say `any` or `all`.
///
/// Roles are read from the claim the authenticator is configured with (`roles` by default)
/// and honour the application's role hierarchy. Several guard attributes on one handler must
/// all pass; the credentials are still verified once.
///
/// To have role names checked at compile time, declare them once, e.g. in
/// `.cargo/config.toml`: `[env] ROUTE_GUARD_ROLES = "admin editor viewer"`. A name outside
/// the list then fails to compile, with a suggestion. `ROUTE_GUARD_SCOPES` and
/// `ROUTE_GUARD_PERMISSIONS` do the same for scopes and permissions.
///
/// # Examples
///
/// ```
/// use actix_web::get;
/// use route_guard::require_role;
///
/// #[get("/admin")]
/// #[require_role("admin")]
/// async fn admin() -> &'static str {
///     "hello, admin"
/// }
///
/// #[require_role(any("admin", "auditor"))]
/// #[get("/reports")]
/// async fn reports() -> &'static str {
///     "numbers"
/// }
///
/// #[get("/payroll")]
/// #[require_role(all("finance", any("manager", "director"), not("intern")))]
/// async fn payroll() -> &'static str {
///     "salaries"
/// }
/// ```
#[proc_macro_attribute]
pub fn require_role(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::expand(Attribute::RequireRole, args.into(), item.into()).into()
}

/// Requires OAuth scopes: a caller whose token lacks them gets 403 with
/// `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."` (RFC 6750 §3.1).
///
/// Scopes are read from `scope` (a space-separated string) or, when it is absent, `scp` (a
/// string or an array, as Okta and Entra ID send). The same combinators as
/// [`require_role`](macro@require_role) apply.
///
/// # Examples
///
/// ```
/// use actix_web::{delete, get};
/// use route_guard::require_scope;
///
/// #[get("/items")]
/// #[require_scope("read:items")]
/// async fn list_items() -> &'static str {
///     "[]"
/// }
///
/// #[delete("/items")]
/// #[require_scope(all("read:items", "write:items"))]
/// async fn clear_items() -> &'static str {
///     "cleared"
/// }
/// ```
#[proc_macro_attribute]
pub fn require_scope(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::expand(Attribute::RequireScope, args.into(), item.into()).into()
}

/// Requires permissions, as Auth0's RBAC puts them in a `permissions` claim: 403 without.
///
/// # Examples
///
/// ```
/// use actix_web::delete;
/// use route_guard::require_permission;
///
/// #[delete("/items/{id}")]
/// #[require_permission("items:delete")]
/// async fn delete_item() -> &'static str {
///     "deleted"
/// }
/// ```
#[proc_macro_attribute]
pub fn require_permission(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::expand(Attribute::RequirePermission, args.into(), item.into()).into()
}

/// Requires a rule that mixes roles, scopes, permissions and application predicates.
///
/// Every leaf says what it is: `role("admin")` (or `role(Role::Admin)`), `scope("read")`,
/// `permission("items:delete")`, and `policy(path)` (or `policy = path`) for an application
/// function `async fn(&Identity, &HttpRequest) -> bool`, or one returning
/// `Result<bool, E>` with `E: std::error::Error`. A predicate can read path parameters and
/// app data and await a database; an `Err` answers 500 and is logged, never 200.
///
/// # Examples
///
/// ```
/// use actix_web::{HttpRequest, put};
/// use route_guard::{Identity, require};
///
/// /// The caller may edit the document they own.
/// async fn owns_document(identity: &Identity, req: &HttpRequest) -> bool {
///     req.match_info().get("owner") == Some(identity.subject())
/// }
///
/// #[put("/documents/{owner}/{id}")]
/// #[require(any(role("admin"), policy(owns_document)))]
/// async fn edit_document() -> &'static str {
///     "saved"
/// }
/// ```
#[proc_macro_attribute]
pub fn require(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::expand(Attribute::Require, args.into(), item.into()).into()
}

/// Admits only clients whose address is in one of the ranges: 403 for anyone else, whatever
/// their credentials, which are not even read.
///
/// Ranges are CIDRs (`"10.0.0.0/8"`, `"2001:db8::/32"`) or single addresses, checked at compile
/// time. The client address is the socket peer; `Forwarded` / `X-Forwarded-For` count only
/// from proxies registered with `RouteGuardBuilder::trusted_proxies`. An address that cannot be
/// determined is refused. Add `hide` to answer 404 instead of 403.
///
/// # Examples
///
/// ```
/// use actix_web::get;
/// use route_guard::require_ip;
///
/// #[get("/metrics")]
/// #[require_ip("10.0.0.0/8", "2001:db8::/32")]
/// async fn metrics() -> &'static str {
///     "up 1"
/// }
/// ```
#[proc_macro_attribute]
pub fn require_ip(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::expand(Attribute::RequireIp, args.into(), item.into()).into()
}

/// Refuses clients whose address is in one of the ranges, with 403 (or 404 with `hide`).
/// See [`require_ip`](macro@require_ip) for how the client address is found.
///
/// # Examples
///
/// ```
/// use actix_web::post;
/// use route_guard::deny_ip;
///
/// #[post("/signup")]
/// #[deny_ip("198.51.100.0/24")]
/// async fn signup() -> &'static str {
///     "welcome"
/// }
/// ```
#[proc_macro_attribute]
pub fn deny_ip(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::expand(Attribute::DenyIp, args.into(), item.into()).into()
}

/// Admits only clients located in one of these countries (ISO 3166-1 alpha-2 codes, checked
/// at compile time), as the `CountryResolver` registered on the `RouteGuard` says. A client
/// whose country is unknown is refused. Credentials are not read.
///
/// # Examples
///
/// ```
/// use actix_web::get;
/// use route_guard::allow_countries;
///
/// #[get("/offers")]
/// #[allow_countries("DE", "FR")]
/// async fn offers() -> &'static str {
///     "offers"
/// }
/// ```
#[proc_macro_attribute]
pub fn allow_countries(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::expand(Attribute::AllowCountries, args.into(), item.into()).into()
}

/// Refuses clients located in one of these countries. A client whose country is unknown is
/// let through, unless the `RouteGuard` is built with `deny_unknown_country(true)`.
///
/// # Examples
///
/// ```
/// use actix_web::get;
/// use route_guard::block_countries;
///
/// #[get("/stream")]
/// #[block_countries("KP")]
/// async fn stream() -> &'static str {
///     "stream"
/// }
/// ```
#[proc_macro_attribute]
pub fn block_countries(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::expand(Attribute::BlockCountries, args.into(), item.into()).into()
}

/// A rule as a value, for [`GuardScope`](https://docs.rs/route-guard/latest/route_guard/struct.GuardScope.html):
/// the grammar of [`require`](macro@require), where every leaf says what it is, plus `hide`.
///
/// # Examples
///
/// ```
/// use actix_web::{App, web};
/// use route_guard::{GuardScope, rule};
///
/// let app = App::new().service(
///     web::scope("/ops")
///         .wrap(GuardScope::new(rule!(any(role("operator"), ip("10.0.0.0/8")), hide)))
///         .route("/restart", web::post().to(|| async { "restarting" })),
/// );
/// ```
#[proc_macro]
pub fn rule(input: TokenStream) -> TokenStream {
    attr::rule(input.into()).into()
}

/// Makes a fieldless enum a set of typed roles, usable in guards as `Role::Admin`.
///
/// Each variant's role name is its name in snake_case (`SuperUser` → `super_user`), unless
/// `#[role_name("...")]` gives another. A misspelled variant in a guard is a compile error at
/// that token. Variants may carry explicit discriminants (ids mirrored from a database, say):
/// each variant is paired with its own name in `RoleName::ROLES`, and guards match the variant,
/// never its number.
///
/// # Examples
///
/// ```
/// use actix_web::get;
/// use route_guard::{RoleName, require_role};
///
/// #[derive(Clone, Copy, RoleName)]
/// enum Role {
///     Admin,
///     Editor,
///     #[role_name("read-only")]
///     Viewer,
/// }
///
/// #[get("/drafts")]
/// #[require_role(any(Role::Admin, Role::Editor))]
/// async fn drafts() -> &'static str {
///     "drafts"
/// }
///
/// assert_eq!(Role::Viewer.role_name(), "read-only");
///
/// #[derive(RoleName)]
/// enum Stored {
///     Owner = 2,
///     Reader = 7,
/// }
/// assert_eq!(Stored::Owner.role_name(), "owner");
/// ```
#[proc_macro_derive(RoleName, attributes(role_name))]
pub fn derive_role_name(item: TokenStream) -> TokenStream {
    role_name::derive(item.into()).into()
}
