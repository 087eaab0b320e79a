//! Implementation detail of the [`route-guard`](https://docs.rs/route-guard) crate: the guard
//! attribute macros. Depend on `route-guard`, which re-exports them, rather than on this crate.

mod attr;
mod expand;
mod exports;
mod handler;
mod policy;

use proc_macro::TokenStream;

/// Requires an authenticated caller: the handler runs only for a request whose credentials
/// verify; others get 401 with a `WWW-Authenticate` challenge.
///
/// Place it above or below `#[get]`/`#[post]`/..., or use it on a handler registered with
/// `web::get().to(handler)`. It takes no arguments.
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
    attr::require_auth(args.into(), item.into()).into()
}

/// Requires an authenticated caller who holds a role: 401 without valid credentials, 403 for
/// a caller without the role.
///
/// The argument is one role in double quotes, or a combination: `any(...)` holds when at least
/// one of its parts does, `all(...)` when every part does; they nest. Roles are read from the
/// claim the authenticator is configured with (`roles` by default).
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
/// #[require_role(all("finance", any("manager", "director")))]
/// async fn payroll() -> &'static str {
///     "salaries"
/// }
/// ```
#[proc_macro_attribute]
pub fn require_role(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::require_role(args.into(), item.into()).into()
}
