//! A checked expression spelled as a type of the runtime's `policy::encoded`, so that every
//! handler with the same rule names one policy type and shares one copy of the guard's code.
//!
//! ```text
//! any("admin", "ops"), hide  →  enc::Keyed<enc::Any<(enc::Role<enc::S1<0x…>>,
//!                                                    enc::Role<enc::S1<0x…>>)>, true>
//! ```
//!
//! The type is kept short: debuggers and the linker see its name in every function generic
//! over the handler, so its length is paid per handler. The runtime derives the policy's name,
//! scopes, contexts and login age from the rule at compile time.
//!
//! A rule with an application predicate or a typed role has no spelling (a function or a
//! variant is not a const generic), and neither has a list longer than the runtime's tuples,
//! a name over 64 bytes, a suffixed literal, or a name, scopes or contexts longer than the
//! runtime's buffer: those keep a marker type of their own.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote_spanned};

use super::tokens::{Requirements, max_age};
use super::{Expr, Leaf};
use crate::exports;

/// The runtime's `encoded::MAX_LIST`: the longest tuple its list traits are implemented for.
const MAX_LIST: usize = 8;

/// The longest string the runtime's `S1`..`S4` spell.
const MAX_STR: usize = 64;

/// The runtime's `encoded::text::TEXT_CAP`: the longest name, scopes or contexts it derives.
const TEXT_CAP: usize = 256;

/// The policy type of a guard attribute with `expr` (and `hide`), or `None` when the rule has
/// no spelling as a type. The runtime derives the rest from the rule, as
/// [`Requirements::of`] does for a marker.
pub(crate) fn policy_type(expr: &Expr, hide: bool, span: Span) -> Option<TokenStream> {
    let rule = Speller { span }.rule(expr)?;
    let Requirements {
        scopes, acr_values, ..
    } = Requirements::of(expr);
    let texts = [expr.name(), scopes.join(" "), acr_values.join(" ")];
    if texts.iter().any(|text| text.len() > TEXT_CAP) {
        return None;
    }
    let enc = exports::encoded(span);
    Some(quote_spanned!(span=> #enc::Keyed<#rule, #hide>))
}

/// `value` as `S1<A>` .. `S4<A, B, C, D>`: its bytes in little-endian `u128` words, the last
/// padded with zeros, which end the string. `None` for a string too long or holding a zero.
fn type_str(literal: &syn::LitStr, span: Span) -> Option<TokenStream> {
    // A suffixed literal (`"admin"x`) is rustc's to refuse, in a marker's `Rule` constant.
    if !literal.suffix().is_empty() {
        return None;
    }
    let value = literal.value();
    let bytes = value.as_bytes();
    if bytes.len() > MAX_STR || bytes.contains(&0) {
        return None;
    }
    let words = bytes.chunks(16).map(|chunk| {
        let mut padded = [0u8; 16];
        padded[..chunk.len()].copy_from_slice(chunk);
        Literal::u128_unsuffixed(u128::from_le_bytes(padded))
    });
    let mut words: Vec<Literal> = words.collect();
    if words.is_empty() {
        words.push(Literal::u128_unsuffixed(0));
    }
    let (enc, size) = (exports::encoded(span), format_ident!("S{}", words.len()));
    Some(quote_spanned!(span=> #enc::#size<#(#words),*>))
}

struct Speller {
    span: Span,
}

impl Speller {
    fn rule(&self, expr: &Expr) -> Option<TokenStream> {
        let (span, enc) = (self.span, exports::encoded(self.span));
        Some(match expr {
            Expr::Any(_, items) => {
                let items = self.list(items)?;
                quote_spanned!(span=> #enc::Any<(#(#items,)*)>)
            }
            Expr::All(_, items) => {
                let items = self.list(items)?;
                quote_spanned!(span=> #enc::All<(#(#items,)*)>)
            }
            Expr::Not(_, item) => {
                let item = self.rule(item)?;
                quote_spanned!(span=> #enc::Not<#item>)
            }
            Expr::Leaf(leaf) => self.leaf(leaf)?,
        })
    }

    fn list(&self, items: &[Expr]) -> Option<Vec<TokenStream>> {
        if items.len() > MAX_LIST {
            return None;
        }
        items.iter().map(|item| self.rule(item)).collect()
    }

    fn leaf(&self, leaf: &Leaf) -> Option<TokenStream> {
        let (span, enc) = (self.span, exports::encoded(self.span));
        Some(match leaf {
            Leaf::Name(kind, name) => {
                let (variant, name) = (kind.variant(), type_str(name, span)?);
                quote_spanned!(span=> #enc::#variant<#name>)
            }
            Leaf::Authenticated(_) => quote_spanned!(span=> #enc::Authenticated),
            Leaf::MaxAge(seconds) => {
                let seconds = Literal::u32_unsuffixed(max_age(seconds));
                quote_spanned!(span=> #enc::MaxAge<#seconds>)
            }
            Leaf::Ip(_, ranges) if ranges.len() <= MAX_LIST => {
                let nets = ranges
                    .iter()
                    .map(|range| Some(net(range.net.as_ref().ok()?, span)));
                let nets = nets.collect::<Option<Vec<_>>>()?;
                quote_spanned!(span=> #enc::Ip<(#(#nets,)*)>)
            }
            Leaf::Country(_, codes) if codes.len() <= MAX_LIST => {
                let codes = codes.iter().map(|code| type_str(code, span));
                let codes = codes.collect::<Option<Vec<_>>>()?;
                quote_spanned!(span=> #enc::Country<(#(#codes,)*)>)
            }
            Leaf::Ip(..) | Leaf::Country(..) | Leaf::TypedRole(_) | Leaf::Predicate(_) => {
                return None;
            }
        })
    }
}

/// A range as `V4<ADDR, PREFIX>` or `V6<ADDR, PREFIX>`, its address as one integer.
fn net(net: &ipnet::IpNet, span: Span) -> TokenStream {
    let enc = exports::encoded(span);
    let prefix = Literal::u8_unsuffixed(net.prefix_len());
    match net.addr() {
        std::net::IpAddr::V4(v4) => {
            let addr = Literal::u32_unsuffixed(v4.to_bits());
            quote_spanned!(span=> #enc::V4<#addr, #prefix>)
        }
        std::net::IpAddr::V6(v6) => {
            let addr = Literal::u128_unsuffixed(v6.to_bits());
            quote_spanned!(span=> #enc::V6<#addr, #prefix>)
        }
    }
}
