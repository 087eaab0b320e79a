//! Rules written as types, so that every handler guarded by the same rule names the same
//! policy type.
//!
//! A guard attribute cannot define a type and a `Policy` impl for its rule that another
//! attribute with the same rule could also define: two such impls would conflict. So the
//! attributes spell the rule out in the generic types below, whose impls live here, once:
//!
//! ```text
//! #[require_role(any("admin", "ops"), hide)]  →  Keyed<Any<(Role<S1<0x6e696d6461>>,
//!                                                            Role<S1<0x73706f>>)>, true>
//! ```
//!
//! Two handlers with the same rule then share one `Guarded<..>` extractor, and with it one copy
//! of the guard's generic code: what a guarded handler costs to build is paid per distinct
//! rule, not per handler (BENCHMARKS.md, issue 14). The types are evaluated at compile time into
//! the same `Rule` constant a hand-written [`Policy`] holds, and `text.rs` derives the policy's
//! name, scopes, contexts and login age from it, so nothing changes at run time.
//!
//! The spelling is kept short, because its length is paid per handler: debuggers and the
//! linker see the type's name in every function generic over the handler. Strings are up to
//! four `u128` words of little-endian bytes (`S1` .. `S4`, 64 bytes), ended by the first zero
//! byte. A rule that has no such spelling (an application predicate, a typed role, a name over
//! 64 bytes, a list longer than [`MAX_LIST`], a derived text over 256 bytes) keeps a marker
//! type of its own. Not public API: the macros write these types, users never do.

use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::{Policy, Rule};

mod text;

use text::Text;

/// A string of up to 16 bytes, little-endian in `A`, ended by its first zero byte.
pub struct S1<const A: u128>;
/// A string of up to 32 bytes.
pub struct S2<const A: u128, const B: u128>;
/// A string of up to 48 bytes.
pub struct S3<const A: u128, const B: u128, const C: u128>;
/// A string of up to 64 bytes: the longest a type spells; a longer name keeps a marker type.
pub struct S4<const A: u128, const B: u128, const C: u128, const D: u128>;

/// A string spelled as a type.
pub trait TypeStr {
    /// The string.
    const STR: &'static str;
}

macro_rules! type_strs {
    ($($S:ident<$($C:ident),+> = $N:literal;)+) => {$(
        impl<$(const $C: u128),+> $S<$($C),+> {
            // The outermost `&` of a constant's value lives for `'static`, so `STR` can
            // borrow from it.
            const BYTES: &'static [u8; $N] = &unpack::<$N>(&[$($C),+]);
        }

        impl<$(const $C: u128),+> TypeStr for $S<$($C),+> {
            const STR: &'static str = until_zero(Self::BYTES);
        }
    )+};
}

type_strs! {
    S1<A> = 16;
    S2<A, B> = 32;
    S3<A, B, C> = 48;
    S4<A, B, C, D> = 64;
}

/// `words` as their little-endian bytes, one after the other. Const-evaluated only.
#[allow(clippy::indexing_slicing)]
const fn unpack<const N: usize>(words: &[u128]) -> [u8; N] {
    let mut bytes = [0; N];
    let mut i = 0;
    while i < N {
        bytes[i] = words[i / 16].to_le_bytes()[i % 16];
        i += 1;
    }
    bytes
}

/// The bytes before the first zero, as text. Const-evaluated only: a panic is a build error.
#[allow(clippy::indexing_slicing, clippy::panic)]
const fn until_zero(bytes: &'static [u8]) -> &'static str {
    let mut len = 0;
    while len < bytes.len() && bytes[len] != 0 {
        len += 1;
    }
    match core::str::from_utf8(bytes.split_at(len).0) {
        Ok(text) => text,
        Err(_) => panic!("route-guard: a type-level string is not UTF-8"),
    }
}

/// A [`Rule`] spelled as a type.
pub trait RuleType {
    /// The rule.
    const RULE: Rule;
}

/// [`Rule::Authenticated`].
pub struct Authenticated;

impl RuleType for Authenticated {
    const RULE: Rule = Rule::Authenticated;
}

macro_rules! named_leaves {
    ($($variant:ident),+) => {$(
        #[doc = concat!("[`Rule::", stringify!($variant), "`] of the string `S`.")]
        pub struct $variant<S>(PhantomData<S>);

        impl<S: TypeStr> RuleType for $variant<S> {
            const RULE: Rule = Rule::$variant(S::STR);
        }
    )+};
}

named_leaves!(Role, Scope, Permission, Scheme, Issuer, Acr);

/// [`Rule::MaxAge`].
pub struct MaxAge<const SECONDS: u32>;

impl<const SECONDS: u32> RuleType for MaxAge<SECONDS> {
    const RULE: Rule = Rule::MaxAge(SECONDS);
}

/// [`Rule::Any`] of a tuple of rules.
pub struct Any<L>(PhantomData<L>);

/// [`Rule::All`] of a tuple of rules.
pub struct All<L>(PhantomData<L>);

/// [`Rule::Not`].
pub struct Not<R>(PhantomData<R>);

/// [`Rule::Ip`] of a tuple of ranges ([`V4`], [`V6`]).
pub struct Ip<L>(PhantomData<L>);

/// [`Rule::Country`] of a tuple of strings.
pub struct Country<L>(PhantomData<L>);

impl<L: RuleList> RuleType for Any<L> {
    const RULE: Rule = Rule::Any(L::RULES);
}

impl<L: RuleList> RuleType for All<L> {
    const RULE: Rule = Rule::All(L::RULES);
}

impl<R: RuleType> Not<R> {
    const INNER: &'static Rule = &R::RULE;
}

impl<R: RuleType> RuleType for Not<R> {
    const RULE: Rule = Rule::Not(Self::INNER);
}

impl<L: NetList> RuleType for Ip<L> {
    const RULE: Rule = Rule::Ip(L::NETS);
}

impl<L: StrList> RuleType for Country<L> {
    const RULE: Rule = Rule::Country(L::STRS);
}

/// An IPv4 range: the address as its 32 bits, and the prefix length.
pub struct V4<const ADDR: u32, const PREFIX: u8>;

/// An IPv6 range: the address as its 128 bits, and the prefix length.
pub struct V6<const ADDR: u128, const PREFIX: u8>;

/// An address range spelled as a type.
pub trait NetType {
    /// The range.
    const NET: IpNet;
}

impl<const ADDR: u32, const PREFIX: u8> NetType for V4<ADDR, PREFIX> {
    const NET: IpNet = IpNet::new_assert(IpAddr::V4(Ipv4Addr::from_bits(ADDR)), PREFIX);
}

impl<const ADDR: u128, const PREFIX: u8> NetType for V6<ADDR, PREFIX> {
    const NET: IpNet = IpNet::new_assert(IpAddr::V6(Ipv6Addr::from_bits(ADDR)), PREFIX);
}

/// A tuple of rules.
pub trait RuleList {
    /// The rules, in order.
    const RULES: &'static [Rule];
}

/// A tuple of ranges.
pub trait NetList {
    /// The ranges, in order.
    const NETS: &'static [IpNet];
}

/// A tuple of strings.
pub trait StrList {
    /// The strings, in order.
    const STRS: &'static [&'static str];
}

/// The longest list of rules, ranges or countries a type can spell; a longer one keeps a
/// marker type of its own. The macros hold the same number (`policy/typed.rs`).
pub const MAX_LIST: usize = 8;

macro_rules! lists {
    ($($T:ident),+) => {
        impl<$($T: RuleType),+> RuleList for ($($T,)+) {
            const RULES: &'static [Rule] = &[$($T::RULE),+];
        }

        impl<$($T: NetType),+> NetList for ($($T,)+) {
            const NETS: &'static [IpNet] = &[$($T::NET),+];
        }

        impl<$($T: TypeStr),+> StrList for ($($T,)+) {
            const STRS: &'static [&'static str] = &[$($T::STR),+];
        }
    };
}

lists!(A);
lists!(A, B);
lists!(A, B, C);
lists!(A, B, C, D);
lists!(A, B, C, D, E);
lists!(A, B, C, D, E, F);
lists!(A, B, C, D, E, F, G);
lists!(A, B, C, D, E, F, G, H);

/// The policy of a guard attribute whose rule `R` is spelled as a type, and whether a refusal
/// answers 404. Everything else a policy holds is derived from the rule at compile time
/// (`text.rs`): its name in metrics and events, the scopes and authentication contexts its
/// challenges ask for and the login age.
pub struct Keyed<R, const HIDE: bool>(PhantomData<fn() -> R>);

/// What [`Keyed`] derives from its rule, each computed once per rule.
struct Derived<R>(PhantomData<R>);

impl<R: RuleType> Derived<R> {
    const NAME: &'static Text = &Text::name(&R::RULE);
    const SCOPES: &'static Text = &Text::required(&R::RULE, true);
    const ACR_VALUES: &'static Text = &Text::required(&R::RULE, false);
}

impl<R: RuleType + 'static, const HIDE: bool> Policy for Keyed<R, HIDE> {
    const RULE: Rule = R::RULE;
    const SCOPES: &'static str = Derived::<R>::SCOPES.as_str();
    const ACR_VALUES: &'static str = Derived::<R>::ACR_VALUES.as_str();
    const MAX_AGE: Option<u32> = text::max_age(&R::RULE, true);
    const HIDE: bool = HIDE;
    const NAME: &'static str = Derived::<R>::NAME.as_str();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "admin" as the macros spell it.
    type Admin = S1<{ u128::from_le_bytes(*b"admin\0\0\0\0\0\0\0\0\0\0\0") }>;

    /// A 20-byte string over two words.
    type Gold = S2<
        { u128::from_le_bytes(*b"urn:example:acr:") },
        { u128::from_le_bytes(*b"gold\0\0\0\0\0\0\0\0\0\0\0\0") },
    >;

    /// 64 bytes, no zero to end them.
    type Full = S4<
        { u128::from_le_bytes(*b"0123456789abcdef") },
        { u128::from_le_bytes(*b"0123456789abcdef") },
        { u128::from_le_bytes(*b"0123456789abcdef") },
        { u128::from_le_bytes(*b"0123456789abcdef") },
    >;

    #[test]
    fn strings_read_back() {
        assert_eq!(Admin::STR, "admin");
        assert_eq!(Gold::STR, "urn:example:acr:gold");
        assert_eq!(Full::STR, "0123456789abcdef".repeat(4));
        assert_eq!(S1::<0>::STR, "");
    }

    #[test]
    fn rules_read_back() {
        type R = All<(
            Any<(Role<Admin>, Scope<Gold>)>,
            Not<MaxAge<60>>,
            Ip<(V4<0x0a00_0000, 8>,)>,
        )>;
        let nets: &'static [IpNet] = vec!["10.0.0.0/8".parse().unwrap()].leak();
        let any: &'static [Rule] =
            vec![Rule::Role("admin"), Rule::Scope("urn:example:acr:gold")].leak();
        let all: &'static [Rule] =
            vec![Rule::Any(any), Rule::Not(&Rule::MaxAge(60)), Rule::Ip(nets)].leak();
        assert_eq!(format!("{:?}", R::RULE), format!("{:?}", Rule::All(all)));
        type C = Country<(S1<{ u128::from_le_bytes(*b"DE\0\0\0\0\0\0\0\0\0\0\0\0\0\0") }>,)>;
        assert_eq!(format!("{:?}", C::RULE), r#"Country(["DE"])"#);
    }

    #[test]
    fn keyed_policies_derive_the_rest_from_their_rule() {
        type P = Keyed<All<(Acr<Gold>, MaxAge<300>, Scope<Admin>, Not<Scope<Gold>>)>, true>;
        assert_eq!(
            P::NAME,
            "all(acr(urn:example:acr:gold), max_age(300), scope(admin), \
             not(scope(urn:example:acr:gold)))"
        );
        assert_eq!(P::ACR_VALUES, "urn:example:acr:gold");
        assert_eq!(P::SCOPES, "admin");
        assert_eq!((P::MAX_AGE, P::HIDE), (Some(300), true));
        type Q = Keyed<Authenticated, false>;
        assert_eq!(
            (Q::NAME, Q::SCOPES, Q::MAX_AGE, Q::HIDE),
            ("authenticated", "", None, false)
        );
    }
}
