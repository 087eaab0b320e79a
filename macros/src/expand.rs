//! Turning a checked handler and rule into the guarded handler.
//!
//! ```text
//! #[require_role("admin")]                   async fn admin(
//! async fn admin(db: Data<Db>) -> R { .. } →     Guarded { extracted: (db,), .. }:
//!                                                    Guarded<(Keyed<Role<"admin">, ..>,), (Data<Db>,)>,
//!                                            ) -> R { .. }
//! ```
//!
//! The policy is the rule spelled as a type (`policy::typed`, shown here with the strings
//! abbreviated), so every handler with the same rule names the same one. A rule with no such
//! spelling (a predicate, a typed role, a list over eight) gets a marker type of its own, emitted
//! beside the handler: `struct __route_guard_policy_admin_0;` with an `impl Policy` holding
//! the `Rule` constant.
//!
//! The body and return type stay as written, and so do the parameters' patterns and types:
//! they move into the one guard extractor, which extracts them only after the guard passed.
//! actix-web starts every parameter's extraction before awaiting any, so a guard beside them
//! would let a refused caller's body be read and its query be judged first. A second guard
//! attribute adds its policy to the same extractor (`Guarded<(A, B), ..>`), so that every
//! address rule on the handler is decided before any credentials are read.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens as _, format_ident, quote, quote_spanned};
use syn::{FnArg, Type};

use crate::exports;
use crate::handler::{Handler, earlier_guard};
use crate::policy::check::{declared_kinds, env_var};
use crate::policy::tokens::{Requirements, RuleTokens, rule_tokens};
use crate::policy::typed;
use crate::policy::{Expr, Kind};

/// The guarded handler: `function` guarded by the policy type of `expr`, the same type for
/// every handler with the same rule, or, for a rule that has no spelling as a type, a marker
/// of its own. `span` is the attribute's, where errors in generated code should point.
pub(crate) fn guarded_handler(
    mut function: Handler,
    expr: &Expr,
    hide: bool,
    span: Span,
) -> TokenStream {
    let mut output = track_declarations(&declared_kinds(expr), span).unwrap_or_default();
    let policy = typed::policy_type(expr, hide, span).unwrap_or_else(|| {
        let index = earlier_guard(&mut function).map_or(0, |policies| policies.elems.len());
        let marker = format_ident!("__route_guard_policy_{}_{}", function.sig.ident, index);
        let name = expr.name();
        let name = quote_spanned!(span=> #name);
        output.extend(policy_items(
            &marker,
            &function.vis,
            expr,
            hide,
            &name,
            span,
        ));
        marker.into_token_stream()
    });
    guard(function, policy, span, &mut output);
    output
}

/// `#[require_auth]`: the same rule on every handler, so one policy type from the runtime
/// serves them all instead of a marker each.
pub(crate) fn authenticated_handler(function: Handler, span: Span) -> TokenStream {
    let mut output = TokenStream::new();
    guard(function, exports::require_auth(span), span, &mut output);
    output
}

/// Guards `function` with `policy`: adds it to the guard an earlier attribute injected, or
/// moves the handler's parameters into a new guard extractor, and emits the function.
fn guard(mut function: Handler, policy: TokenStream, span: Span, output: &mut TokenStream) {
    if let Some(policies) = earlier_guard(&mut function) {
        policies.elems.push(Type::Verbatim(policy));
        function.to_tokens(output);
        return;
    }
    crate::openapi::add_order_probe(&mut function, span);
    let inputs = std::mem::take(&mut function.sig.inputs);
    let (pats, types): (Vec<_>, Vec<_>) = inputs
        .into_iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some((typed.pat, typed.ty)),
            // Refused by `handler::parse` before expansion.
            FnArg::Receiver(_) => None,
        })
        .unzip();
    let guarded = exports::guarded(span);
    let pat = quote_spanned!(span=> #guarded { extracted: (#(#pats,)*), .. });
    let ty = quote_spanned!(span=> #guarded<(#policy,), (#(#types,)*)>);
    function.sig.inputs.push(FnArg::Typed(syn::PatType {
        attrs: Vec::new(),
        pat: Box::new(syn::Pat::Verbatim(pat)),
        colon_token: syn::Token![:](span),
        ty: Box::new(Type::Verbatim(ty)),
    }));
    function.to_tokens(output);
}

/// `rule!(...)`: a `PolicyRef` for a rule, as a block expression.
pub(crate) fn policy_ref(expr: &Expr, hide: bool, span: Span) -> TokenStream {
    let marker = syn::Ident::new("__route_guard_rule", span);
    let name = quote_spanned!(span=> ::core::concat!(::core::module_path!(), ":", ::core::line!()));
    let items = policy_items(
        &marker,
        &syn::Visibility::Inherited,
        expr,
        hide,
        &name,
        span,
    );
    let track = track_declarations(&declared_kinds(expr), span);
    let policy_ref = exports::policy_ref(span);
    quote_spanned!(span=> { #items #track #policy_ref::of::<#marker>() })
}

/// The marker type `marker`, visible as `vis`, and its `Policy` impl carrying the rule and
/// `name`, the policy's name in metrics and events (a `&'static str` expression).
fn policy_items(
    marker: &syn::Ident,
    vis: &syn::Visibility,
    expr: &Expr,
    hide: bool,
    name: &TokenStream,
    span: Span,
) -> TokenStream {
    let (policy, rule_type) = (exports::policy(span), exports::rule(span));
    let RuleTokens { rule, adapters } = rule_tokens(expr, marker, span);
    let Requirements {
        scopes,
        acr_values,
        max_age,
    } = Requirements::of(expr);
    let scopes = (!scopes.is_empty()).then(|| {
        let scopes = scopes.join(" ");
        quote_spanned!(span=> const SCOPES: &'static str = #scopes;)
    });
    let acr_values = (!acr_values.is_empty()).then(|| {
        let acr_values = acr_values.join(" ");
        quote_spanned!(span=> const ACR_VALUES: &'static str = #acr_values;)
    });
    let max_age = max_age.map(|seconds| {
        quote_spanned!(span=> const MAX_AGE: ::core::option::Option<u32> = ::core::option::Option::Some(#seconds);)
    });
    let hide = hide.then(|| quote_spanned!(span=> const HIDE: bool = true;));
    let adapters = (!adapters.is_empty()).then(|| {
        quote_spanned! {span=>
            #[automatically_derived]
            impl #marker { #(#adapters)* }
        }
    });
    quote_spanned! {span=>
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        #adapters

        #[automatically_derived]
        impl #policy for #marker {
            const RULE: #rule_type = #rule;
            const NAME: &'static str = #name;
            #scopes
            #acr_values
            #max_age
            #hide
        }
    }
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
