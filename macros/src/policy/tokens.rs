//! A checked expression as a `Rule` constant, plus the items its predicates need.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use super::{Expr, Kind, Leaf, path_string};
use crate::exports;

/// The `Rule` expression, the predicate adapter functions it refers to (to be placed in an
/// inherent impl of `marker`), and the scopes it names.
pub(crate) struct RuleTokens {
    pub(crate) rule: TokenStream,
    pub(crate) adapters: Vec<TokenStream>,
    pub(crate) scopes: Vec<String>,
}

pub(crate) fn rule_tokens(expr: &Expr, marker: &syn::Ident, span: Span) -> RuleTokens {
    let mut out = RuleTokens {
        rule: TokenStream::new(),
        adapters: Vec::new(),
        scopes: Vec::new(),
    };
    out.rule = build(expr, marker, span, &mut out.adapters, &mut out.scopes);
    out
}

fn build(
    expr: &Expr,
    marker: &syn::Ident,
    span: Span,
    adapters: &mut Vec<TokenStream>,
    scopes: &mut Vec<String>,
) -> TokenStream {
    let rule = exports::rule(span);
    let mut list = |items: &[Expr]| -> Vec<TokenStream> {
        items
            .iter()
            .map(|item| build(item, marker, span, adapters, scopes))
            .collect()
    };
    match expr {
        Expr::Any(s, items) => {
            let items = list(items);
            quote_spanned!(*s=> #rule::Any(&[#(#items),*]))
        }
        Expr::All(s, items) => {
            let items = list(items);
            quote_spanned!(*s=> #rule::All(&[#(#items),*]))
        }
        Expr::Not(s, item) => {
            let item = build(item, marker, span, adapters, scopes);
            quote_spanned!(*s=> #rule::Not(&#item))
        }
        Expr::Leaf(Leaf::Name(kind, name)) => {
            let variant = match kind {
                Kind::Role => quote!(Role),
                Kind::Scope => {
                    if !scopes.contains(&name.value()) {
                        scopes.push(name.value());
                    }
                    quote!(Scope)
                }
                Kind::Permission => quote!(Permission),
            };
            quote_spanned!(name.span()=> #rule::#variant(#name))
        }
        Expr::Leaf(Leaf::TypedRole(path)) => {
            let mut enum_path = path.clone();
            enum_path.segments.pop();
            enum_path.segments.pop_punct();
            let role_name = exports::role_name(span);
            quote_spanned!(syn::spanned::Spanned::span(path)=> #rule::Role(#role_name::<#enum_path>(#path as usize)))
        }
        Expr::Leaf(Leaf::Predicate(path)) => {
            let adapter = format_ident!("__route_guard_predicate_{}", adapters.len());
            let call = exports::call_predicate(span);
            let (identity, request, future) = (
                exports::identity(span),
                exports::request(span),
                exports::predicate_future(span),
            );
            adapters.push(quote_spanned! {span=>
                #[doc(hidden)]
                fn #adapter<'a>(identity: &'a #identity, request: &'a #request) -> #future<'a> {
                    #call(#path, identity, request)
                }
            });
            let name = path_string(path);
            let predicate = exports::predicate(span);
            quote_spanned!(span=> #rule::Predicate(#predicate { name: #name, check: #marker::#adapter }))
        }
    }
}
