//! The guard attributes' entry: parse the arguments and the handler, check both, expand.

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser as _};

use crate::attribute::Attribute;
use crate::errors::combine;
use crate::policy::Args;
use crate::policy::check::{Declared, check};
use crate::policy::parse;
use crate::{expand, handler, openapi, siblings};

/// Expands one guard attribute on `item`.
pub(crate) fn expand(attribute: Attribute, args: TokenStream, item: TokenStream) -> TokenStream {
    let span = Span::call_site();
    let raw_args = args.clone();
    let args = attribute.parse_args(args).and_then(|args| {
        let errors = args
            .as_ref()
            .map(|args| check(&args.expr, &Declared::from_env()))
            .unwrap_or_default();
        combine(errors).map(|()| args)
    });
    let function = handler::parse(attribute.name(), item.clone());
    match (args, function) {
        (Ok(args), Ok(function)) => {
            if let Err(error) =
                siblings::check(attribute, args.as_ref().map(|a| &a.expr), &function)
            {
                return expand::item_with_error(item, &error);
            }
            match document(attribute, &raw_args, args.as_ref(), &function) {
                Some(Ok(documented)) => return documented,
                Some(Err(error)) => return expand::item_with_error(item, &error),
                None => {}
            }
            match args {
                Some(args) => {
                    expand::guarded_handler(function, &args.expr, args.hide.is_some(), span)
                }
                None => expand::authenticated_handler(function, span),
            }
        }
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => expand::item_with_error(item, &error),
        (Err(mut error), Err(other)) => {
            error.combine(other);
            expand::item_with_error(item, &error)
        }
    }
}

/// With `#[utoipa::path]` below: the handler with every guard's facts added to the operation
/// and this attribute moved below utoipa's (see `openapi`).
fn document(
    attribute: Attribute,
    raw_args: &TokenStream,
    own: Option<&Args>,
    function: &handler::Handler,
) -> Option<syn::Result<TokenStream>> {
    if !openapi::below_utoipa(function) {
        return None;
    }
    let siblings = siblings::siblings(function);
    let guards: Vec<Option<&Args>> = std::iter::once(own).chain(guard_args(&siblings)).collect();
    let entries = openapi::entries(&guards);
    openapi::document(attribute.name(), raw_args, &entries, function.clone())
}

/// The arguments of the sibling guard attributes that parse (`None`: `#[require_auth]`).
fn guard_args(siblings: &[(Attribute, Option<Args>)]) -> Vec<Option<&Args>> {
    let parsed = siblings
        .iter()
        .filter(|(kind, args)| *kind == Attribute::RequireAuth || args.is_some());
    parsed.map(|(_, args)| args.as_ref()).collect()
}

/// `#[optional_auth]`: the handler unchanged once it is known to take `MaybeAuthenticated`,
/// documented as optionally authenticated when `#[utoipa::path]` is below.
pub(crate) fn optional_auth(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut function = match optional_handler(&args, item.clone()) {
        Ok(function) => function,
        Err(error) => return expand::item_with_error(item, &error),
    };
    let siblings = siblings::siblings(&function);
    let mut entries = vec![openapi::optional_entry()];
    entries.extend(openapi::entries(&guard_args(&siblings)));
    match openapi::document("optional_auth", &args, &entries, function.clone()) {
        Some(Ok(documented)) => documented,
        Some(Err(error)) => expand::item_with_error(item, &error),
        None => {
            openapi::add_order_probe(&mut function, Span::call_site());
            quote::ToTokens::into_token_stream(function)
        }
    }
}

/// The handler under `#[optional_auth]`, which takes no arguments and must take
/// `MaybeAuthenticated`; every problem at once.
fn optional_handler(args: &TokenStream, item: TokenStream) -> syn::Result<handler::Handler> {
    let mut errors = Vec::new();
    if let Some(token) = args.clone().into_iter().next() {
        let message = "`#[optional_auth]` takes no arguments";
        errors.push(syn::Error::new(token.span(), message));
    }
    let function = handler::parse("optional_auth", item);
    match &function {
        Ok(function) if !openapi::takes_maybe_authenticated(function) => {
            errors.push(syn::Error::new(
                function.sig.ident.span(),
                "`#[optional_auth]` documents a handler whose authentication is optional: it \
                 must take a `route_guard::MaybeAuthenticated` parameter, which lets anonymous \
                 callers in and refuses credentials that do not verify",
            ));
        }
        Ok(_) => {}
        Err(error) => errors.push(error.clone()),
    }
    combine(errors)?;
    function
}

/// `rule!(...)`: the `#[require]` grammar, as an expression.
pub(crate) fn rule(input: TokenStream) -> TokenStream {
    let span = Span::call_site();
    let parser = |input: ParseStream<'_>| parse::parse_args(input, "rule!", None);
    let args = parser
        .parse2(input)
        .and_then(|args| combine(check(&args.expr, &Declared::from_env())).map(|()| args));
    match args {
        Ok(args) => expand::policy_ref(&args.expr, args.hide.is_some(), span),
        Err(error) => error.to_compile_error(),
    }
}

/// `declared_scopes!()`: the scopes declared in `ROUTE_GUARD_SCOPES`, as a `&[&str]`, for
/// protected-resource metadata; a compile error when none are declared.
pub(crate) fn declared_scopes(input: TokenStream) -> TokenStream {
    if let Some(token) = input.into_iter().next() {
        return syn::Error::new(token.span(), "`declared_scopes!()` takes no arguments")
            .to_compile_error();
    }
    let declared = crate::policy::check::Declared::from_env();
    let var = crate::policy::check::env_var(crate::policy::Kind::Scope);
    match declared.of(crate::policy::Kind::Scope) {
        Some(scopes) => quote::quote! {{
            const _: () = { let _ = ::core::option_env!(#var); };
            &[#(#scopes),*] as &[&str]
        }},
        None => syn::Error::new(
            proc_macro2::Span::call_site(),
            format!(
                "no scopes are declared: set `{var}` (e.g. `[env] {var} = \"read:items write:items\"` \
                 in .cargo/config.toml), or list the scopes yourself"
            ),
        )
        .to_compile_error(),
    }
}
