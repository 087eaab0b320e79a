//! The guard attributes: their names, and what each one's arguments are.

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser as _};

use crate::policy::{Args, Expr, Kind, Leaf, parse};

/// Which guard attribute is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attribute {
    RequireAuth,
    RequireRole,
    RequireScope,
    RequirePermission,
    Require,
    RequireIp,
    DenyIp,
    AllowCountries,
    BlockCountries,
}

impl Attribute {
    pub(crate) const ALL: [Attribute; 9] = [
        Attribute::RequireAuth,
        Attribute::RequireRole,
        Attribute::RequireScope,
        Attribute::RequirePermission,
        Attribute::Require,
        Attribute::RequireIp,
        Attribute::DenyIp,
        Attribute::AllowCountries,
        Attribute::BlockCountries,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Attribute::RequireAuth => "require_auth",
            Attribute::RequireRole => "require_role",
            Attribute::RequireScope => "require_scope",
            Attribute::RequirePermission => "require_permission",
            Attribute::Require => "require",
            Attribute::RequireIp => "require_ip",
            Attribute::DenyIp => "deny_ip",
            Attribute::AllowCountries => "allow_countries",
            Attribute::BlockCountries => "block_countries",
        }
    }

    /// What a bare string means in this attribute's arguments.
    fn bare(self) -> Option<Kind> {
        match self {
            Attribute::RequireRole => Some(Kind::Role),
            Attribute::RequireScope => Some(Kind::Scope),
            Attribute::RequirePermission => Some(Kind::Permission),
            _ => None,
        }
    }

    /// Parses this attribute's arguments: `None` for `#[require_auth]`, which takes none.
    pub(crate) fn parse_args(self, args: TokenStream) -> syn::Result<Option<Args>> {
        let list =
            |leaf: fn(Span, Vec<syn::LitStr>) -> Leaf, example: &'static str, negate: bool| {
                move |input: ParseStream<'_>| {
                    let (leaf, hide) = parse::parse_list_args(input, self.name(), leaf, example)?;
                    let expr = Expr::Leaf(leaf);
                    let expr = if negate {
                        Expr::Not(Span::call_site(), Box::new(expr))
                    } else {
                        expr
                    };
                    Ok(Some(Args { expr, hide }))
                }
            };
        match self {
            Attribute::RequireAuth => match args.into_iter().next() {
                None => Ok(None),
                Some(token) => Err(syn::Error::new(
                    token.span(),
                    "`#[require_auth]` takes no arguments; to require a role, \
                     write `#[require_role(\"admin\")]`",
                )),
            },
            Attribute::RequireIp => list(Leaf::ip, "\"10.0.0.0/8\"", false).parse2(args),
            Attribute::DenyIp => list(Leaf::ip, "\"10.0.0.0/8\"", true).parse2(args),
            Attribute::AllowCountries => list(Leaf::Country, "\"DE\", \"FR\"", false).parse2(args),
            Attribute::BlockCountries => list(Leaf::Country, "\"DE\", \"FR\"", true).parse2(args),
            _ => {
                let parser =
                    |input: ParseStream<'_>| parse::parse_args(input, self.name(), self.bare());
                parser.parse2(args).map(Some)
            }
        }
    }
}
