//! The rules a policy expression must follow, one function each, all run in one pass so the
//! user sees every problem at once.

use std::collections::BTreeMap;

use proc_macro2::Span;
use syn::LitStr;

use super::{Expr, Kind, Leaf, Range};

/// Every problem in `expr`, given the names the application declared (if it did).
pub(crate) fn check(expr: &Expr, declared: &Declared) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    walk(expr, &mut |node| match node {
        Expr::Leaf(Leaf::Name(kind, name)) => {
            name_is_usable(*kind, name, &mut errors);
            name_is_declared(*kind, name, declared, &mut errors);
        }
        Expr::Leaf(Leaf::MaxAge(seconds)) => max_age_is_valid(seconds, &mut errors),
        Expr::Leaf(Leaf::Ip(_, ranges)) => {
            ranges
                .iter()
                .for_each(|range| range_is_valid(range, &mut errors));
            let literals: Vec<LitStr> = ranges.iter().map(|r| r.literal.clone()).collect();
            no_repeats("ip", &literals, &mut errors);
        }
        Expr::Leaf(Leaf::Country(_, codes)) => {
            codes
                .iter()
                .for_each(|code| country_is_valid(code, &mut errors));
            no_repeats("country", codes, &mut errors);
        }
        Expr::Any(span, items) => list_is_sound("any", *span, items, &mut errors),
        Expr::All(span, items) => {
            list_is_sound("all", *span, items, &mut errors);
            no_contradiction(items, items, "these rules", &mut errors);
            one_of_each(Kind::Scheme, items, &mut errors);
            one_of_each(Kind::Issuer, items, &mut errors);
            one_of_each(Kind::Acr, items, &mut errors);
        }
        Expr::Leaf(_) | Expr::Not(..) => {}
    });
    errors
}

fn walk<'a>(expr: &'a Expr, visit: &mut impl FnMut(&'a Expr)) {
    visit(expr);
    match expr {
        Expr::Leaf(_) => {}
        Expr::Any(_, items) | Expr::All(_, items) => {
            items.iter().for_each(|item| walk(item, visit))
        }
        Expr::Not(_, item) => walk(item, visit),
    }
}

/// Names are non-empty and free of whitespace (claims are split on it, so such a name could
/// never match); scopes also keep to RFC 6749 §3.3's characters, since they are echoed in the
/// `insufficient_scope` challenge.
fn name_is_usable(kind: Kind, name: &LitStr, errors: &mut Vec<syn::Error>) {
    let value = name.value();
    let what = kind.keyword();
    if value.is_empty() {
        errors.push(syn::Error::new(
            name.span(),
            format!("{what} name cannot be empty"),
        ));
    } else if matches!(kind, Kind::Scheme | Kind::Issuer | Kind::Acr)
        && value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        let why = if kind == Kind::Acr {
            "a challenge's `acr_values` is a space-separated list, so it could never be asked for"
        } else {
            "the guard's configuration refuses such names, so it could never match"
        };
        errors.push(syn::Error::new(
            name.span(),
            format!("{what} name `{value}` cannot contain whitespace or control characters: {why}"),
        ));
    } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.push(syn::Error::new(
            name.span(),
            format!(
                "{what} name cannot contain whitespace or control characters: claims are \
                 split on spaces, so `{value}` could never match"
            ),
        ));
    } else if matches!(kind, Kind::Scope | Kind::Acr)
        && value
            .chars()
            .any(|c| !c.is_ascii() || c == '"' || c == '\\')
    {
        errors.push(syn::Error::new(
            name.span(),
            format!(
                "{what} names are printable ASCII without `\"` or `\\`: they are sent in a \
                 challenge (RFC 6749 §3.3, RFC 9470 §3)"
            ),
        ));
    }
}

/// `max_age` is a whole number of seconds from 1 to a year: 0 would demand a login made this
/// very second, and more than a year is surely a unit mistake.
fn max_age_is_valid(seconds: &syn::LitInt, errors: &mut Vec<syn::Error>) {
    const YEAR: u32 = 366 * 24 * 3600;
    match seconds.base10_parse::<u32>() {
        Ok(n) if (1..=YEAR).contains(&n) && seconds.suffix().is_empty() => {}
        _ => errors.push(syn::Error::new(
            seconds.span(),
            format!(
                "`max_age` is a number of seconds from 1 to {YEAR} (a year), without a suffix: \
                 `max_age = 300` for five minutes"
            ),
        )),
    }
}

/// An address range is a CIDR (or a single address) without bits set past its prefix, which
/// would suggest the author meant another range.
fn range_is_valid(range: &Range, errors: &mut Vec<syn::Error>) {
    if let Err(message) = &range.net {
        errors.push(syn::Error::new(range.literal.span(), message));
    }
}

/// A country is an assigned ISO 3166-1 alpha-2 code, in upper case as databases report them.
fn country_is_valid(code: &LitStr, errors: &mut Vec<syn::Error>) {
    let value = code.value();
    if iso3166_1::alpha2(&value).is_some() {
        return;
    }
    let hint = match iso3166_1::alpha2(&value.to_ascii_uppercase()) {
        Some(country) => format!(
            ": write it in upper case, `\"{}\"` ({})",
            country.alpha2, country.name
        ),
        None => String::new(),
    };
    errors.push(syn::Error::new(
        code.span(),
        format!("`{value}` is not an ISO 3166-1 alpha-2 country code{hint}"),
    ));
}

fn no_repeats(what: &str, values: &[LitStr], errors: &mut Vec<syn::Error>) {
    for (i, value) in values.iter().enumerate() {
        if values
            .iter()
            .take(i)
            .any(|earlier| earlier.value() == value.value())
        {
            errors.push(syn::Error::new(
                value.span(),
                format!(
                    "`{}` is specified more than once in this {what} list",
                    value.value()
                ),
            ));
        }
    }
}

/// `any()`/`all()` are not empty and name nothing twice.
fn list_is_sound(combinator: &str, span: Span, items: &[Expr], errors: &mut Vec<syn::Error>) {
    if items.is_empty() {
        errors.push(syn::Error::new(
            span,
            format!("`{combinator}()` needs at least one rule: `{combinator}(\"a\", \"b\")`"),
        ));
    }
    let mut seen = BTreeMap::new();
    for item in items {
        if let Expr::Leaf(leaf) = item
            && seen.insert(leaf.key(), ()).is_some()
        {
            errors.push(syn::Error::new(
                leaf.span(),
                format!(
                    "`{}` is specified more than once in `{combinator}(...)`",
                    leaf.key()
                ),
            ));
        }
    }
}

/// Rules that must all hold may not require two schemes (or two issuers): a request is
/// authenticated by one.
fn one_of_each(kind: Kind, items: &[Expr], errors: &mut Vec<syn::Error>) {
    let mut first: Option<&LitStr> = None;
    for item in items {
        let Expr::Leaf(Leaf::Name(k, name)) = item else {
            continue;
        };
        if *k != kind {
            continue;
        }
        match first {
            Some(earlier) if earlier.value() != name.value() => errors.push(syn::Error::new(
                name.span(),
                format!(
                    "`all(...)` cannot require both {0}(\"{1}\") and {0}(\"{2}\"): {3}; write \
                     `any(...)` to accept either",
                    kind.keyword(),
                    earlier.value(),
                    name.value(),
                    match kind {
                        Kind::Scheme => "one authenticator accepts a request",
                        Kind::Acr => "a login has one authentication context",
                        _ => "one issuer vouches for a request",
                    }
                ),
            )),
            Some(_) => {}
            None => first = Some(name),
        }
    }
}

/// Rules that must all hold may not require both `x` and `not(x)`: no caller could pass.
/// `required` and `refused` are such rules; `whose` names them in the message ("these rules",
/// or "the guards on this handler" for rules split over several attributes).
pub(crate) fn no_contradiction<'a>(
    required: impl IntoIterator<Item = &'a Expr>,
    refused: impl IntoIterator<Item = &'a Expr>,
    whose: &str,
    errors: &mut Vec<syn::Error>,
) {
    let required: BTreeMap<String, ()> = required
        .into_iter()
        .filter_map(|item| match item {
            Expr::Leaf(leaf) => Some((leaf.key(), ())),
            _ => None,
        })
        .collect();
    for item in refused {
        if let Expr::Not(_, inner) = item
            && let Expr::Leaf(leaf) = &**inner
            && required.contains_key(&leaf.key())
        {
            errors.push(syn::Error::new(
                leaf.span(),
                format!(
                    "{whose} contradict each other: `{0}` and `not({0})` can never both hold",
                    leaf.key()
                ),
            ));
        }
    }
}

/// The names an application declared through `ROUTE_GUARD_ROLES`, `ROUTE_GUARD_SCOPES` and
/// `ROUTE_GUARD_PERMISSIONS` (space- or comma-separated, usually set in the `[env]` table of
/// `.cargo/config.toml`). An undeclared kind is not checked.
#[derive(Default)]
pub(crate) struct Declared {
    roles: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    permissions: Option<Vec<String>>,
    schemes: Option<Vec<String>>,
    issuers: Option<Vec<String>>,
    acrs: Option<Vec<String>>,
}

/// The kinds of name `expr` checks against the declarations, each once.
pub(crate) fn declared_kinds(expr: &Expr) -> Vec<Kind> {
    let mut kinds = Vec::new();
    walk(expr, &mut |node| {
        if let Expr::Leaf(Leaf::Name(kind, _)) = node
            && !kinds.contains(kind)
        {
            kinds.push(*kind);
        }
    });
    kinds
}

/// The environment variable that declares names of `kind`.
pub(crate) fn env_var(kind: Kind) -> &'static str {
    match kind {
        Kind::Role => "ROUTE_GUARD_ROLES",
        Kind::Scope => "ROUTE_GUARD_SCOPES",
        Kind::Permission => "ROUTE_GUARD_PERMISSIONS",
        Kind::Scheme => "ROUTE_GUARD_SCHEMES",
        Kind::Issuer => "ROUTE_GUARD_ISSUERS",
        Kind::Acr => "ROUTE_GUARD_ACRS",
    }
}

impl Declared {
    pub(crate) fn from_env() -> Self {
        let read = |kind| {
            std::env::var(env_var(kind)).ok().map(|value| {
                value
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
        };
        Declared {
            roles: read(Kind::Role),
            scopes: read(Kind::Scope),
            permissions: read(Kind::Permission),
            schemes: read(Kind::Scheme),
            issuers: read(Kind::Issuer),
            acrs: read(Kind::Acr),
        }
    }

    pub(crate) fn of(&self, kind: Kind) -> Option<&[String]> {
        match kind {
            Kind::Role => self.roles.as_deref(),
            Kind::Scope => self.scopes.as_deref(),
            Kind::Permission => self.permissions.as_deref(),
            Kind::Scheme => self.schemes.as_deref(),
            Kind::Issuer => self.issuers.as_deref(),
            Kind::Acr => self.acrs.as_deref(),
        }
    }
}

/// When the application declared its names, every name used must be one of them.
fn name_is_declared(kind: Kind, name: &LitStr, declared: &Declared, errors: &mut Vec<syn::Error>) {
    let Some(names) = declared.of(kind) else {
        return;
    };
    let value = name.value();
    if value.is_empty() || names.contains(&value) {
        return;
    }
    let closest = names
        .iter()
        .map(|n| (strsim::damerau_levenshtein(n, &value), n))
        .filter(|(distance, n)| *distance <= n.len().max(3) / 3)
        .min();
    let hint = match closest {
        Some((_, n)) => format!("did you mean `\"{n}\"`? "),
        None => String::new(),
    };
    errors.push(syn::Error::new(
        name.span(),
        format!(
            "unknown {} `\"{value}\"`: {hint}the declared {}s are {} (from {})",
            kind.keyword(),
            kind.keyword(),
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            env_var(kind)
        ),
    ));
}
