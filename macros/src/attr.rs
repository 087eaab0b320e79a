//! The guard attributes: parse the arguments and the handler, check both, expand.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

use crate::policy::{self, RoleArgs};
use crate::{expand, exports, handler};

/// `#[require_auth]`: takes no arguments.
pub(crate) fn require_auth(args: TokenStream, item: TokenStream) -> TokenStream {
    let span = Span::call_site();
    let args = match args.into_iter().next() {
        None => Ok(()),
        Some(token) => Err(syn::Error::new(
            token.span(),
            "`#[require_auth]` takes no arguments; to require a role, \
             write `#[require_role(\"admin\")]`",
        )),
    };
    let rule = exports::rule(span);
    expand_or_error(
        args.map(|()| quote_spanned!(span=> #rule::Authenticated)),
        handler::parse("require_auth", item.clone()),
        item,
        span,
    )
}

/// `#[require_role(expr)]`: one role or a combination of roles.
pub(crate) fn require_role(args: TokenStream, item: TokenStream) -> TokenStream {
    let span = Span::call_site();
    let rule = syn::parse2::<RoleArgs>(args).and_then(|RoleArgs(expr)| {
        let mut errors = Vec::new();
        policy::validate(&expr, &mut errors);
        combine(errors).map(|()| policy::rule_tokens(&expr, &exports::rule(span)))
    });
    expand_or_error(
        rule,
        handler::parse("require_role", item.clone()),
        item,
        span,
    )
}

fn expand_or_error(
    rule: syn::Result<TokenStream>,
    function: syn::Result<syn::ItemFn>,
    item: TokenStream,
    span: Span,
) -> TokenStream {
    match (rule, function) {
        (Ok(rule), Ok(function)) => expand::guarded_handler(function, rule, span),
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => expand::item_with_error(item, &error),
        (Err(mut error), Err(other)) => {
            error.combine(other);
            expand::item_with_error(item, &error)
        }
    }
}

/// All collected errors as one, or `Ok` if there were none.
pub(crate) fn combine(errors: Vec<syn::Error>) -> syn::Result<()> {
    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            errors.for_each(|error| first.combine(error));
            Err(first)
        }
    }
}
