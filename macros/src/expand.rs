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
use syn::FnArg;
use syn::spanned::Spanned as _;

use crate::exports;
use crate::handler::{GUARD_PARAM_PREFIX, Handler, injected_guards};
use crate::policy::check::{declared_kinds, env_var};
use crate::policy::tokens::{RuleTokens, rule_tokens};
use crate::policy::{Expr, Kind};

/// The guarded handler: `function` with a `Guarded<Marker>` parameter whose marker carries
/// the rule. `span` is the attribute's, where errors in generated code should point.
pub(crate) fn guarded_handler(
    function: Handler,
    expr: &Expr,
    hide: bool,
    span: Span,
) -> TokenStream {
    let index = injected_guards(&function);
    let marker = format_ident!("__route_guard_policy_{}_{}", function.sig.ident, index);
    let mut output = policy_items(&marker, &function.vis, expr, hide, span);
    let guarded = exports::guarded(span);
    let ty = quote_spanned!(span=> #guarded<#marker>);
    inject(function, index, ty, &mut output);
    output
}

/// `#[require_auth]`: the same rule on every handler, so one policy type from the runtime
/// serves them all. A marker per handler makes each instantiate actix-web's extraction future
/// and the guard's own code anew (33 functions more than an unguarded handler, counted with
/// `-Z print-mono-items`); the shared type instantiates them once per crate.
pub(crate) fn authenticated_handler(function: Handler, span: Span) -> TokenStream {
    let index = injected_guards(&function);
    let (guarded, policy) = (exports::guarded(span), exports::require_auth(span));
    let ty = quote_spanned!(span=> #guarded<#policy>);
    let mut output = TokenStream::new();
    inject(function, index, ty, &mut output);
    output
}

/// Inserts the guard parameter `__route_guard_<index>: #ty` at `index`, after the guards
/// earlier attributes injected and before the handler's own extractors, and emits `function`.
fn inject(mut function: Handler, index: usize, ty: TokenStream, output: &mut TokenStream) {
    // Built directly rather than through `parse_quote!`: printing and re-parsing the
    // parameter was a measurable share of the attribute's run time.
    let param = syn::Ident::new(&format!("{GUARD_PARAM_PREFIX}{index}"), Span::mixed_site());
    let input = FnArg::Typed(syn::PatType {
        attrs: Vec::new(),
        pat: Box::new(syn::Pat::Ident(syn::PatIdent {
            attrs: Vec::new(),
            by_ref: None,
            mutability: None,
            ident: param,
            subpat: None,
        })),
        colon_token: syn::Token![:](ty.span()),
        ty: Box::new(syn::Type::Verbatim(ty)),
    });
    function.sig.inputs.insert(index, input);
    function.to_tokens(output);
}

/// `rule!(...)`: a `PolicyRef` for a rule, as a block expression.
pub(crate) fn policy_ref(expr: &Expr, hide: bool, span: Span) -> TokenStream {
    let marker = syn::Ident::new("__route_guard_rule", span);
    let items = policy_items(&marker, &syn::Visibility::Inherited, expr, hide, span);
    let policy_ref = exports::policy_ref(span);
    quote_spanned!(span=> { #items #policy_ref::of::<#marker>() })
}

/// The marker type `marker`, visible as `vis`, and its `Policy` impl carrying the rule.
fn policy_items(
    marker: &syn::Ident,
    vis: &syn::Visibility,
    expr: &Expr,
    hide: bool,
    span: Span,
) -> TokenStream {
    let (policy, rule_type) = (exports::policy(span), exports::rule(span));
    let RuleTokens {
        rule,
        adapters,
        scopes,
    } = rule_tokens(expr, marker, span);
    let scopes = (!scopes.is_empty()).then(|| {
        let scopes = scopes.join(" ");
        quote_spanned!(span=> const SCOPES: &'static str = #scopes;)
    });
    let hide = hide.then(|| quote_spanned!(span=> const HIDE: bool = true;));
    let adapters = (!adapters.is_empty()).then(|| {
        quote_spanned! {span=>
            #[automatically_derived]
            impl #marker { #(#adapters)* }
        }
    });
    let mut output = quote_spanned! {span=>
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        #adapters

        #[automatically_derived]
        impl #policy for #marker {
            const RULE: #rule_type = #rule;
            #scopes
            #hide
        }
    };
    output.extend(track_declarations(&declared_kinds(expr), span));
    output
}

/// Makes rustc record the declaration variables the rule's names were checked against as
/// inputs of the user's crate, so that cargo rebuilds it, and re-checks those names, when a
/// declaration changes. A rule without names depends on no declaration and tracks nothing.
fn track_declarations(kinds: &[Kind], span: Span) -> Option<TokenStream> {
    let vars = kinds.iter().map(|&kind| env_var(kind));
    (!kinds.is_empty()).then(|| {
        quote_spanned! {span=>
            const _: () = { #(let _ = ::core::option_env!(#vars);)* };
        }
    })
}

/// On a macro error: the user's item unchanged, so the IDE keeps working and no cascade of
/// secondary errors appears, followed by the error itself.
pub(crate) fn item_with_error(item: TokenStream, error: &syn::Error) -> TokenStream {
    let item = made_async(item);
    let error = error.to_compile_error();
    quote!(#item #error)
}

/// A plain `fn` handler is emitted as `async fn` beside its error: a route macro registers it
/// with `.to()`, which would add a second error saying that a plain `fn` is not a `Handler`.
fn made_async(item: TokenStream) -> TokenStream {
    match Handler::split(item.clone()) {
        Some(mut function) if function.sig.asyncness.is_none() => {
            function.sig.asyncness = Some(syn::Token![async](function.sig.fn_token.span));
            function.into_token_stream()
        }
        _ => item,
    }
}
