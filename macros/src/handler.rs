//! The function a guard attribute is applied to, and the checks it must pass.

use proc_macro2::TokenStream;
use syn::spanned::Spanned as _;
use syn::{FnArg, Item, ItemFn, Pat};

/// actix-web implements `Handler` for functions of up to 16 extractor parameters.
pub(crate) const MAX_EXTRACTORS: usize = 16;

/// The prefix of every parameter a guard attribute injects.
pub(crate) const GUARD_PARAM_PREFIX: &str = "__route_guard_";

/// Parses the item under the attribute and checks that a guard can be injected into it.
pub(crate) fn parse(attribute: &str, item: TokenStream) -> syn::Result<ItemFn> {
    let item: Item = syn::parse2(item)?;
    let Item::Fn(function) = item else {
        return Err(syn::Error::new(
            item_keyword_span(&item),
            format!("`#[{attribute}]` can only be applied to an `async fn` handler"),
        ));
    };
    let mut errors = Vec::new();
    if function.sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            function.sig.fn_token.span,
            format!("`#[{attribute}]` requires an `async fn`: actix-web handlers are async"),
        ));
    }
    if let Some(FnArg::Receiver(receiver)) = function.sig.inputs.first() {
        errors.push(syn::Error::new(
            receiver.self_token.span,
            format!(
                "`#[{attribute}]` cannot guard a method that takes `self`: \
                 write the handler as a free `async fn`, outside the `impl` block"
            ),
        ));
    }
    if function.sig.inputs.len() >= MAX_EXTRACTORS {
        errors.push(syn::Error::new(
            // The last parameter rather than the list: spans do not join on stable, so the
            // list would be underlined at its first parameter, as if that one were at fault.
            function
                .sig
                .inputs
                .last()
                .map_or_else(proc_macro2::Span::call_site, |input| input.span()),
            format!(
                "this handler already takes {} parameters and the guard adds one, but actix-web \
                 allows at most {MAX_EXTRACTORS}; group some extractors into a tuple, \
                 e.g. `(a, b): (A, B)`",
                function.sig.inputs.len()
            ),
        ));
    }
    crate::attr::combine(errors).map(|()| function)
}

/// How many guards earlier attributes have already injected into `function`.
pub(crate) fn injected_guards(function: &ItemFn) -> usize {
    function
        .sig
        .inputs
        .iter()
        .take_while(|input| match input {
            FnArg::Typed(typed) => matches!(
                &*typed.pat,
                Pat::Ident(pat) if pat.ident.to_string().starts_with(GUARD_PARAM_PREFIX)
            ),
            FnArg::Receiver(_) => false,
        })
        .count()
}

/// The span of the keyword that says what kind of item this is (`struct`, `impl`, ...).
fn item_keyword_span(item: &Item) -> proc_macro2::Span {
    match item {
        Item::Struct(s) => s.struct_token.span,
        Item::Enum(e) => e.enum_token.span,
        Item::Impl(i) => i.impl_token.span,
        Item::Mod(m) => m.mod_token.span,
        Item::Trait(t) => t.trait_token.span,
        Item::Const(c) => c.const_token.span,
        Item::Static(s) => s.static_token.span,
        Item::Type(t) => t.type_token.span,
        Item::Use(u) => u.use_token.span,
        other => other.span(),
    }
}
