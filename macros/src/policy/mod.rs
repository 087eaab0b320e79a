//! The policy language every guard attribute shares.
//!
//! ```text
//! rule := "name"                       a role, scope or permission, by the attribute
//!       | Type::Variant                a typed role (an enum deriving `RoleName`)
//!       | role("name" | Type::Variant) | scope("name") | permission("name")
//!       | scheme("name") | issuer("name") the authenticator or issuer that accepted the caller
//!       | authenticated                 any accepted caller
//!       | acr("name" [, max_age = N])   the login's authentication context (and its age)
//!       | max_age(N)                    a login at most N seconds old (`auth_time`)
//!       | policy(path) | policy = path  an application predicate
//!       | ip("cidr", ...)               the client address is in a range
//!       | country("DE", ...)            the client address is in a country
//!       | any(rule, ...) | all(rule, ...) | not(rule)
//! args := rule [, hide]                 `hide`: answer 404 rather than 403
//! ```
//!
//! Parsing builds an [`Expr`] that keeps every token for error spans; [`check`] collects all
//! problems in one pass; [`typed`] spells a checked expression as a type of the runtime's
//! `policy::encoded`, shared by every handler with the same rule, and [`tokens`] turns one
//! that has no such spelling into a `Rule` constant on a marker type of its own.

pub(crate) mod check;
pub(crate) mod parse;
mod range;
pub(crate) mod tokens;
pub(crate) mod typed;

use proc_macro2::Span;
use syn::{LitStr, Path};

/// What a bare string means in a given attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Role,
    Scope,
    Permission,
    /// The name of the authenticator that accepted the credentials (`"basic"`, `"bearer"`).
    Scheme,
    /// The name of the token issuer that vouched for them.
    Issuer,
    /// An authentication context class (`acr`, RFC 9470).
    Acr,
}

impl Kind {
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Kind::Role => "role",
            Kind::Scope => "scope",
            Kind::Permission => "permission",
            Kind::Scheme => "scheme",
            Kind::Issuer => "issuer",
            Kind::Acr => "acr",
        }
    }

    /// The `Rule` variant (and the runtime's type of the same name) for this kind of name.
    pub(crate) fn variant(self) -> syn::Ident {
        let name = match self {
            Kind::Role => "Role",
            Kind::Scope => "Scope",
            Kind::Permission => "Permission",
            Kind::Scheme => "Scheme",
            Kind::Issuer => "Issuer",
            Kind::Acr => "Acr",
        };
        syn::Ident::new(name, Span::call_site())
    }
}

/// A rule's leaf.
pub(crate) enum Leaf {
    Name(Kind, LitStr),
    /// `authenticated`: any caller the guard accepts.
    Authenticated(Span),
    /// `max_age(N)`: the login (`auth_time`) is at most N seconds old.
    MaxAge(syn::LitInt),
    TypedRole(Path),
    Predicate(Path),
    /// Address ranges, parsed once; the span is the `ip` keyword's or the attribute's.
    Ip(Span, Vec<Range>),
    /// Country codes; the span is the `country` keyword's or the attribute's.
    Country(Span, Vec<LitStr>),
}

/// An address range as written, and what it parses to: a CIDR (IPv4-mapped IPv6 ranges read
/// as the IPv4 range they name), or why it is not one, for the check to report at the literal.
pub(crate) struct Range {
    pub(crate) literal: LitStr,
    pub(crate) net: Result<ipnet::IpNet, String>,
}

impl Leaf {
    /// An `ip(..)` leaf: each range parsed here, once, for the check and the expansion.
    pub(crate) fn ip(span: Span, literals: Vec<LitStr>) -> Leaf {
        let ranges = literals
            .into_iter()
            .map(|literal| Range {
                net: range::parse(&literal.value()),
                literal,
            })
            .collect();
        Leaf::Ip(span, ranges)
    }
}

/// A guard attribute's arguments: its rule and options.
pub(crate) struct Args {
    pub(crate) expr: Expr,
    /// `hide`: a refusal answers 404 rather than 403.
    pub(crate) hide: Option<Span>,
}

/// A policy expression.
pub(crate) enum Expr {
    Leaf(Leaf),
    Any(Span, Vec<Expr>),
    All(Span, Vec<Expr>),
    Not(Span, Box<Expr>),
}

impl Expr {
    /// A rendering that is equal for rules that mean the same thing however they were written
    /// (`require_role("admin")` and `require(role("admin"))`).
    pub(crate) fn key(&self) -> String {
        self.render(&Leaf::key)
    }

    /// The policy's name in metrics and decision events: the rule in the `#[require(..)]`
    /// grammar without its quotes, as the runtime derives it for a rule spelled as a type
    /// (`policy/encoded/text.rs`): `any(role(admin), scope(read))`.
    pub(crate) fn name(&self) -> String {
        self.render(&Leaf::name)
    }

    fn render(&self, leaf: &dyn Fn(&Leaf) -> String) -> String {
        let list = |keyword: &str, items: &[Expr]| {
            let items: Vec<String> = items.iter().map(|item| item.render(leaf)).collect();
            format!("{keyword}({})", items.join(", "))
        };
        match self {
            Expr::Leaf(l) => leaf(l),
            Expr::Any(_, items) => list("any", items),
            Expr::All(_, items) => list("all", items),
            Expr::Not(_, item) => format!("not({})", item.render(leaf)),
        }
    }
}

impl Leaf {
    /// A key that is equal for leaves that mean the same thing.
    pub(crate) fn key(&self) -> String {
        match self {
            Leaf::Name(kind, name) => format!("{}({:?})", kind.keyword(), name.value()),
            Leaf::Authenticated(_) => "authenticated".to_owned(),
            Leaf::MaxAge(seconds) => format!("max_age({})", seconds.base10_digits()),
            Leaf::TypedRole(path) => format!("role({})", path_string(path)),
            Leaf::Predicate(path) => format!("policy({})", path_string(path)),
            Leaf::Ip(_, ranges) => {
                let literals: Vec<LitStr> = ranges.iter().map(|r| r.literal.clone()).collect();
                format!("ip({})", values(&literals))
            }
            Leaf::Country(_, codes) => format!("country({})", values(codes)),
        }
    }

    /// [`Expr::name`]'s rendering of a leaf.
    fn name(&self) -> String {
        let joined = |values: Vec<String>| values.join(", ");
        match self {
            Leaf::Name(kind, name) => format!("{}({})", kind.keyword(), name.value()),
            Leaf::Ip(_, ranges) => {
                let nets = ranges.iter().filter_map(|r| r.net.as_ref().ok());
                format!("ip({})", joined(nets.map(ToString::to_string).collect()))
            }
            Leaf::Country(_, codes) => {
                format!(
                    "country({})",
                    joined(codes.iter().map(LitStr::value).collect())
                )
            }
            Leaf::Authenticated(_) | Leaf::MaxAge(_) | Leaf::TypedRole(_) | Leaf::Predicate(_) => {
                self.key()
            }
        }
    }

    pub(crate) fn span(&self) -> Span {
        match self {
            Leaf::Name(_, name) => name.span(),
            Leaf::MaxAge(seconds) => seconds.span(),
            Leaf::TypedRole(path) | Leaf::Predicate(path) => syn::spanned::Spanned::span(path),
            Leaf::Ip(span, _) | Leaf::Country(span, _) | Leaf::Authenticated(span) => *span,
        }
    }
}

fn values(literals: &[LitStr]) -> String {
    literals
        .iter()
        .map(|l| format!("{:?}", l.value()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A path as written, without the spaces token printing inserts.
pub(crate) fn path_string(path: &Path) -> String {
    quote::quote!(#path).to_string().replace(' ', "")
}
