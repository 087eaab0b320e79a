//! Turning a checked handler and rule into the guarded handler.
//!
//! ```text
//! #[require_role("admin")]                     #[doc(hidden)] struct __route_guard_policy_admin_0;
//! async fn admin(db: Data<Db>) -> R { .. }  →  impl Policy for __route_guard_policy_admin_0 {
//!                                                  const RULE: Rule = Rule::Role("admin");
//!                                              }
//!                                              async fn admin(
//!                                                  __route_guard_0: Guarded<__route_guard_policy_admin_0>,
//!                                                  db: Data<Db>,
//!                                              ) -> R { .. }
//! ```
//!
//! The body and return type stay as written; the guard is an extractor parameter, placed
//! before the handler's own so that actix-web runs it first.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens as _, format_ident, quote, quote_spanned};
use syn::{FnArg, ItemFn};

use crate::exports;
use crate::handler::{GUARD_PARAM_PREFIX, injected_guards};

/// The guarded handler: `function` with a `Guarded<Marker>` parameter whose marker carries
/// `rule`. `span` is the attribute's, where errors in generated code should point.
pub(crate) fn guarded_handler(mut function: ItemFn, rule: TokenStream, span: Span) -> TokenStream {
    let index = injected_guards(&function);
    let marker = format_ident!("__route_guard_policy_{}_{}", function.sig.ident, index);
    let param = syn::Ident::new(&format!("{GUARD_PARAM_PREFIX}{index}"), Span::mixed_site());
    let vis = &function.vis;
    let guarded = exports::guarded(span);
    let policy = exports::policy(span);
    let rule_type = exports::rule(span);

    let input: FnArg = syn::parse_quote_spanned!(span=> #param: #guarded<#marker>);
    function.sig.inputs.insert(index, input);

    let mut output = quote_spanned! {span=>
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        #[automatically_derived]
        impl #policy for #marker {
            const RULE: #rule_type = #rule;
        }
    };
    function.to_tokens(&mut output);
    output
}

/// On a macro error: the user's item unchanged, so the IDE keeps working and no cascade of
/// secondary errors appears, followed by the error itself.
pub(crate) fn item_with_error(item: TokenStream, error: &syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#item #error)
}
