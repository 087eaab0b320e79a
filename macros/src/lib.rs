//! Implementation detail of the [`route-guard`](https://docs.rs/route-guard) crate: the guard
//! attribute macros. Depend on `route-guard`, which re-exports them, rather than on this crate.

mod attribute;
mod entry;
mod errors;
mod expand;
mod exports;
mod handler;
mod openapi;
mod policy;
mod role_name;
mod siblings;

use proc_macro::TokenStream;

use crate::attribute::Attribute;

// Each entry point's documentation (every form it takes, with a compiled example of each) is
// in `docs/<entry point>.md`, so that this file stays the list of entry points.

#[doc = include_str!("../docs/require_auth.md")]
#[proc_macro_attribute]
pub fn require_auth(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(Attribute::RequireAuth, args.into(), item.into()).into()
}

#[doc = include_str!("../docs/require_role.md")]
#[proc_macro_attribute]
pub fn require_role(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(Attribute::RequireRole, args.into(), item.into()).into()
}

#[doc = include_str!("../docs/require_scope.md")]
#[proc_macro_attribute]
pub fn require_scope(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(Attribute::RequireScope, args.into(), item.into()).into()
}

#[doc = include_str!("../docs/require_permission.md")]
#[proc_macro_attribute]
pub fn require_permission(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(Attribute::RequirePermission, args.into(), item.into()).into()
}

#[doc = include_str!("../docs/require.md")]
#[proc_macro_attribute]
pub fn require(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(Attribute::Require, args.into(), item.into()).into()
}

#[doc = include_str!("../docs/require_ip.md")]
#[proc_macro_attribute]
pub fn require_ip(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(Attribute::RequireIp, args.into(), item.into()).into()
}

#[doc = include_str!("../docs/deny_ip.md")]
#[proc_macro_attribute]
pub fn deny_ip(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(Attribute::DenyIp, args.into(), item.into()).into()
}

#[doc = include_str!("../docs/allow_countries.md")]
#[proc_macro_attribute]
pub fn allow_countries(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(Attribute::AllowCountries, args.into(), item.into()).into()
}

#[doc = include_str!("../docs/block_countries.md")]
#[proc_macro_attribute]
pub fn block_countries(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(Attribute::BlockCountries, args.into(), item.into()).into()
}

#[doc = include_str!("../docs/optional_auth.md")]
#[proc_macro_attribute]
pub fn optional_auth(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::optional_auth(args.into(), item.into()).into()
}

/// Marks a handler whose guards documented it in its `#[utoipa::path]` operation. Not public
/// API: the guard attributes emit it, and it expands to the handler unchanged.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn utoipa_documented(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

#[doc = include_str!("../docs/rule.md")]
#[proc_macro]
pub fn rule(input: TokenStream) -> TokenStream {
    entry::rule(input.into()).into()
}

#[doc = include_str!("../docs/declared_scopes.md")]
#[proc_macro]
pub fn declared_scopes(input: TokenStream) -> TokenStream {
    entry::declared_scopes(input.into()).into()
}

#[doc = include_str!("../docs/derive_role_name.md")]
#[proc_macro_derive(RoleName, attributes(role_name))]
pub fn derive_role_name(item: TokenStream) -> TokenStream {
    role_name::derive(item.into()).into()
}
