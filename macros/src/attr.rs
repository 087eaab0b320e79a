//! The guard attributes: parse the arguments and the handler, check both, expand.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::parse::Parser as _;

use crate::policy::check::{Declared, check};
use crate::policy::{Expr, Kind, parse};
use crate::{expand, exports, handler, siblings};

/// Which guard attribute is expanding.
#[derive(Clone, Copy)]
pub(crate) enum Attribute {
    RequireAuth,
    RequireRole,
    RequireScope,
    RequirePermission,
    Require,
}

impl Attribute {
    pub(crate) const ALL: [Attribute; 5] = [
        Attribute::RequireAuth,
        Attribute::RequireRole,
        Attribute::RequireScope,
        Attribute::RequirePermission,
        Attribute::Require,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Attribute::RequireAuth => "require_auth",
            Attribute::RequireRole => "require_role",
            Attribute::RequireScope => "require_scope",
            Attribute::RequirePermission => "require_permission",
            Attribute::Require => "require",
        }
    }

    /// What a bare string means in this attribute's arguments.
    fn bare(self) -> Option<Kind> {
        match self {
            Attribute::RequireRole => Some(Kind::Role),
            Attribute::RequireScope => Some(Kind::Scope),
            Attribute::RequirePermission => Some(Kind::Permission),
            Attribute::RequireAuth | Attribute::Require => None,
        }
    }

    /// Parses this attribute's arguments: `None` for `#[require_auth]`, which takes none.
    pub(crate) fn parse_args(self, args: TokenStream) -> syn::Result<Option<Expr>> {
        if let Attribute::RequireAuth = self {
            return match args.into_iter().next() {
                None => Ok(None),
                Some(token) => Err(syn::Error::new(
                    token.span(),
                    "`#[require_auth]` takes no arguments; to require a role, \
                     write `#[require_role(\"admin\")]`",
                )),
            };
        }
        let parser =
            |input: syn::parse::ParseStream<'_>| parse::parse_args(input, self.name(), self.bare());
        parser.parse2(args).map(Some)
    }
}

/// Expands one guard attribute on `item`.
pub(crate) fn expand(attribute: Attribute, args: TokenStream, item: TokenStream) -> TokenStream {
    let span = Span::call_site();
    let expr = attribute.parse_args(args).and_then(|expr| {
        let errors = expr
            .as_ref()
            .map(|expr| check(expr, &Declared::from_env()))
            .unwrap_or_default();
        combine(errors).map(|()| expr)
    });
    let function = handler::parse(attribute.name(), item.clone());
    match (expr, function) {
        (Ok(expr), Ok(function)) => {
            if let Err(error) = siblings::check(attribute, expr.as_ref(), &function) {
                return expand::item_with_error(item, &error);
            }
            match expr {
                Some(expr) => expand::guarded_handler(function, expand::Body::Expr(&expr), span),
                None => {
                    let rule = exports::rule(span);
                    expand::guarded_handler(
                        function,
                        expand::Body::Rule(quote_spanned!(span=> #rule::Authenticated)),
                        span,
                    )
                }
            }
        }
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
