//! A checked expression as a `Rule` constant, plus the items its predicates need, and what
//! its challenges ask for.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote_spanned};

use super::{Expr, Kind, Leaf, path_string};
use crate::exports;

/// The `Rule` expression and the predicate adapter functions it refers to (to be placed in an
/// inherent impl of `marker`).
pub(crate) struct RuleTokens {
    pub(crate) rule: TokenStream,
    pub(crate) adapters: Vec<TokenStream>,
}

pub(crate) fn rule_tokens(expr: &Expr, marker: &syn::Ident, span: Span) -> RuleTokens {
    let mut builder = Builder {
        marker,
        span,
        adapters: Vec::new(),
    };
    let rule = builder.build(expr);
    RuleTokens {
        rule,
        adapters: builder.adapters,
    }
}

/// What a rule's challenges ask a client for.
#[derive(Default)]
pub(crate) struct Requirements {
    /// The scopes an `insufficient_scope` challenge asks for (RFC 6750 §3.1): those the rule
    /// requires a token to hold. A scope under `not(..)` (an odd number of them) is one the
    /// token must lack, and asking a client for it would send it after a token that can
    /// never pass.
    pub(crate) scopes: Vec<String>,
    /// The contexts and the login age an `insufficient_user_authentication` challenge asks
    /// for (RFC 9470 §3): those the rule requires, as for scopes.
    pub(crate) acr_values: Vec<String>,
    pub(crate) max_age: Option<u32>,
}

impl Requirements {
    pub(crate) fn of(expr: &Expr) -> Requirements {
        let mut requirements = Requirements::default();
        requirements.collect(expr, true);
        requirements
    }

    /// `positive`: whether `expr` must hold (it sits under an even number of `not`s).
    fn collect(&mut self, expr: &Expr, positive: bool) {
        match expr {
            Expr::Any(_, items) | Expr::All(_, items) => {
                items.iter().for_each(|item| self.collect(item, positive));
            }
            Expr::Not(_, item) => self.collect(item, !positive),
            _ if !positive => {}
            Expr::Leaf(Leaf::Name(Kind::Scope, name)) => push_new(&mut self.scopes, name.value()),
            Expr::Leaf(Leaf::Name(Kind::Acr, name)) => push_new(&mut self.acr_values, name.value()),
            Expr::Leaf(Leaf::MaxAge(seconds)) => {
                let value = max_age(seconds);
                self.max_age = Some(self.max_age.map_or(value, |m| m.min(value)));
            }
            Expr::Leaf(_) => {}
        }
    }
}

fn push_new(names: &mut Vec<String>, name: String) {
    if !names.contains(&name) {
        names.push(name);
    }
}

/// A `max_age(N)`'s seconds; the check has refused anything but a number in range.
pub(crate) fn max_age(seconds: &syn::LitInt) -> u32 {
    seconds.base10_parse::<u32>().unwrap_or(1)
}

/// Builds one rule's tokens, collecting the predicate adapters beside the constant.
struct Builder<'a> {
    marker: &'a syn::Ident,
    span: Span,
    adapters: Vec<TokenStream>,
}

impl Builder<'_> {
    fn build(&mut self, expr: &Expr) -> TokenStream {
        let rule = exports::rule(self.span);
        match expr {
            Expr::Any(s, items) => {
                let items = self.list(items);
                quote_spanned!(*s=> #rule::Any(&[#(#items),*]))
            }
            Expr::All(s, items) => {
                let items = self.list(items);
                quote_spanned!(*s=> #rule::All(&[#(#items),*]))
            }
            Expr::Not(s, item) => {
                let item = self.build(item);
                quote_spanned!(*s=> #rule::Not(&#item))
            }
            Expr::Leaf(Leaf::Name(kind, name)) => self.name(*kind, name),
            Expr::Leaf(Leaf::Authenticated(span)) => quote_spanned!(*span=> #rule::Authenticated),
            Expr::Leaf(Leaf::MaxAge(seconds)) => {
                let value = max_age(seconds);
                quote_spanned!(seconds.span()=> #rule::MaxAge(#value))
            }
            Expr::Leaf(Leaf::TypedRole(path)) => self.typed_role(path),
            Expr::Leaf(Leaf::Ip(span, ranges)) => {
                let nets = ranges.iter().filter_map(|range| {
                    let net = range.net.as_ref().ok()?;
                    Some(net_tokens(*net, range.literal.span()))
                });
                quote_spanned!(*span=> #rule::Ip(&[#(#nets),*]))
            }
            Expr::Leaf(Leaf::Country(span, codes)) => {
                quote_spanned!(*span=> #rule::Country(&[#(#codes),*]))
            }
            Expr::Leaf(Leaf::Predicate(path)) => self.predicate(path),
        }
    }

    fn list(&mut self, items: &[Expr]) -> Vec<TokenStream> {
        items.iter().map(|item| self.build(item)).collect()
    }

    fn name(&self, kind: Kind, name: &syn::LitStr) -> TokenStream {
        let rule = exports::rule(self.span);
        let variant = kind.variant();
        quote_spanned!(name.span()=> #rule::#variant(#name))
    }

    /// `Role::Admin` as the name its enum pairs it with. The name is found by matching the
    /// variant itself against `ROLES`, never by its position or discriminant (`Role::Admin as
    /// usize`), which explicit discriminants would make point at another role. A free
    /// constant, which rustc evaluates even under `cargo check` (an associated one, such as
    /// the rule itself, only when code using it is generated), so that a variant missing from
    /// `ROLES` is refused where the IDE and trybuild look.
    fn typed_role(&self, path: &syn::Path) -> TokenStream {
        let span = self.span;
        let rule = exports::rule(span);
        let mut enum_path = path.clone();
        enum_path.segments.pop();
        enum_path.segments.pop_punct();
        let (role_name, role_trait) = (exports::role_name(span), exports::role_name_trait(span));
        let at = syn::spanned::Spanned::span(path);
        let local = |name| format_ident!("{}", name, span = Span::mixed_site());
        let (roles, found, variant, name, rest) = (
            local("__route_guard_roles"),
            local("__route_guard_found"),
            local("__route_guard_variant"),
            local("__route_guard_name"),
            local("__route_guard_rest"),
        );
        let constant = local("__ROUTE_GUARD_ROLE_NAME");
        quote_spanned! {at=>
            #rule::Role({ const #constant: &str = #role_name({
                let mut #roles: &'static [(#enum_path, &'static str)] =
                    <#enum_path as #role_trait>::ROLES;
                let mut #found = ::core::option::Option::None;
                while let [(#variant, #name), #rest @ ..] = #roles {
                    if ::core::matches!(#variant, #path) {
                        #found = ::core::option::Option::Some(*#name);
                        break;
                    }
                    #roles = #rest;
                }
                #found
            }); #constant })
        }
    }

    /// `policy(path)`: an adapter to the runtime's predicate signature, kept beside the marker.
    fn predicate(&mut self, path: &syn::Path) -> TokenStream {
        let span = self.span;
        let adapter = format_ident!("__route_guard_predicate_{}", self.adapters.len());
        let call = exports::call_predicate(span);
        let (identity, request, future) = (
            exports::identity(span),
            exports::request(span),
            exports::predicate_future(span),
        );
        self.adapters.push(quote_spanned! {span=>
            #[doc(hidden)]
            fn #adapter<'a>(identity: &'a #identity, request: &'a #request) -> #future<'a> {
                #call(#path, identity, request)
            }
        });
        let name = path_string(path);
        let (rule, predicate, marker) =
            (exports::rule(span), exports::predicate(span), self.marker);
        quote_spanned!(span=> #rule::Predicate(#predicate { name: #name, check: #marker::#adapter }))
    }
}

/// A range as a constant: `IpNet::new_assert(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)), 8)`.
fn net_tokens(net: ipnet::IpNet, span: Span) -> TokenStream {
    let ip_net = exports::ip_net(span);
    let prefix = net.prefix_len();
    let addr = match net.addr() {
        std::net::IpAddr::V4(v4) => {
            let octets = v4.octets();
            quote_spanned!(span=> ::core::net::IpAddr::V4(::core::net::Ipv4Addr::new(#(#octets),*)))
        }
        std::net::IpAddr::V6(v6) => {
            let segments = v6.segments();
            quote_spanned!(span=> ::core::net::IpAddr::V6(::core::net::Ipv6Addr::new(#(#segments),*)))
        }
    };
    quote_spanned!(span=> #ip_net::new_assert(#addr, #prefix))
}
