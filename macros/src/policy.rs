//! Parsing and checking the policy a guard attribute names: `"admin"`, `any(...)`, `all(...)`.

use std::collections::BTreeMap;

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token, parenthesized};

mod kw {
    syn::custom_keyword!(any);
    syn::custom_keyword!(all);
}

/// A policy expression, keeping the tokens it came from for error spans.
pub(crate) enum Expr {
    Role(LitStr),
    Any(kw::any, Vec<Expr>),
    All(kw::all, Vec<Expr>),
}

/// The arguments of `#[require_role(...)]`: exactly one expression.
pub(crate) struct RoleArgs(pub(crate) Expr);

impl Parse for RoleArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(
                "expected a role, e.g. `#[require_role(\"admin\")]` or \
                 `#[require_role(any(\"admin\", \"auditor\"))]`",
            ));
        }
        let exprs = Punctuated::<Expr, Token![,]>::parse_terminated(input)?;
        let mut exprs = exprs.into_iter();
        let (Some(first), None) = (exprs.next(), exprs.next()) else {
            return Err(ambiguous_list(input.span()));
        };
        Ok(RoleArgs(first))
    }
}

fn ambiguous_list(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "several roles need a combinator: write `any(\"a\", \"b\")` if one of them is enough, \
         or `all(\"a\", \"b\")` if every one is required",
    )
}

impl Parse for Expr {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let lookahead = input.lookahead1();
        if lookahead.peek(LitStr) {
            return Ok(Expr::Role(input.parse()?));
        }
        if lookahead.peek(kw::any) {
            let keyword = input.parse()?;
            return Ok(Expr::Any(keyword, parse_list(input, "any")?));
        }
        if lookahead.peek(kw::all) {
            let keyword = input.parse()?;
            return Ok(Expr::All(keyword, parse_list(input, "all")?));
        }
        if input.peek(Ident) && input.peek2(syn::token::Paren) {
            let name: Ident = input.parse()?;
            return Err(syn::Error::new(
                name.span(),
                format!("unknown combinator `{name}`; expected `any(...)` or `all(...)`"),
            ));
        }
        if input.peek(syn::Lit) || input.peek(Ident) {
            let token: proc_macro2::TokenTree = input.parse()?;
            return Err(syn::Error::new(
                token.span(),
                format!("expected a role name in double quotes, e.g. `\"admin\"`, found `{token}`"),
            ));
        }
        Err(lookahead.error())
    }
}

fn parse_list(input: ParseStream<'_>, name: &str) -> syn::Result<Vec<Expr>> {
    if !input.peek(syn::token::Paren) {
        return Err(input.error(format!(
            "expected `(` after `{name}`: `{name}(\"a\", \"b\")`"
        )));
    }
    let content;
    parenthesized!(content in input);
    Ok(Punctuated::<Expr, Token![,]>::parse_terminated(&content)?
        .into_iter()
        .collect())
}

/// Checks an expression, collecting every problem rather than stopping at the first.
pub(crate) fn validate(expr: &Expr, errors: &mut Vec<syn::Error>) {
    match expr {
        Expr::Role(role) => validate_role(role, errors),
        Expr::Any(keyword, items) => validate_list("any", keyword.span, items, errors),
        Expr::All(keyword, items) => validate_list("all", keyword.span, items, errors),
    }
}

fn validate_role(role: &LitStr, errors: &mut Vec<syn::Error>) {
    let name = role.value();
    if name.is_empty() {
        errors.push(syn::Error::new(role.span(), "role name cannot be empty"));
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.push(syn::Error::new(
            role.span(),
            "role name cannot contain whitespace or control characters: \
             a roles claim is split on spaces, so this role could never match",
        ));
    }
}

fn validate_list(name: &str, span: Span, items: &[Expr], errors: &mut Vec<syn::Error>) {
    if items.is_empty() {
        errors.push(syn::Error::new(
            span,
            format!("`{name}()` needs at least one role: `{name}(\"a\", \"b\")`"),
        ));
    }
    let mut seen = BTreeMap::new();
    for item in items {
        validate(item, errors);
        if let Expr::Role(role) = item
            && seen.insert(role.value(), ()).is_some()
        {
            errors.push(syn::Error::new(
                role.span(),
                format!(
                    "role `{}` is specified more than once in `{name}(...)`",
                    role.value()
                ),
            ));
        }
    }
}

/// The `Rule` constant for an expression.
pub(crate) fn rule_tokens(expr: &Expr, rule: &TokenStream) -> TokenStream {
    match expr {
        Expr::Role(role) => quote_spanned!(role.span()=> #rule::Role(#role)),
        Expr::Any(keyword, items) => {
            let items = items.iter().map(|item| rule_tokens(item, rule));
            quote_spanned!(keyword.span=> #rule::Any(&[#(#items),*]))
        }
        Expr::All(keyword, items) => {
            let items = items.iter().map(|item| rule_tokens(item, rule));
            quote_spanned!(keyword.span=> #rule::All(&[#(#items),*]))
        }
    }
}
