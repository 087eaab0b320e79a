//! A reference model of what a client sees from a guarded route: 200, 401 or 403, for rules
//! with address, country and predicate leaves, and callers who are anonymous or known, at a
//! known or unknown address. Written from the contract, not from the engine:
//!
//! 1. A rule that looks at the connection, for a client whose address is unknown: 403.
//! 2. Otherwise the rule is judged before credentials are read, with every leaf about the
//!    caller unknown (Kleene logic: `any` with a true leaf is true, `all` with a false one is
//!    false). Decided true: 200, decided false: 403, whoever is asking.
//! 3. Undecided: an anonymous caller gets 401; a known one 200 or 403 by the whole rule.

#![allow(unreachable_pub, dead_code)]

use std::net::IpAddr;

use route_guard::{Identity, Predicate, PredicateFuture, Rule};

/// Role, scope and permission names.
pub const NAMES: [&str; 3] = ["admin", "read", "write"];

/// Address ranges `ip(..)` leaves draw from.
pub const RANGES: [&str; 2] = ["10.0.0.0/8", "192.0.2.0/24"];

/// Country lists `country(..)` leaves draw from.
pub const COUNTRIES: [&[&str]; 3] = [&["DE"], &["FR"], &["DE", "FR"]];

/// Where a request comes from: its peer address, the ranges it is in, its country.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    pub peer: Option<&'static str>,
    pub in_ranges: [bool; 2],
    pub country: Option<&'static str>,
}

/// The clients requests come from. The resolver of the property puts 203.0.113.0/24 in
/// Germany and 198.51.100.0/24 in France; the other addresses are in no known country.
pub const CLIENTS: [Client; 5] = [
    Client {
        peer: Some("10.1.2.3"),
        in_ranges: [true, false],
        country: None,
    },
    Client {
        peer: Some("192.0.2.5"),
        in_ranges: [false, true],
        country: None,
    },
    Client {
        peer: Some("203.0.113.5"),
        in_ranges: [false, false],
        country: Some("DE"),
    },
    Client {
        peer: Some("198.51.100.5"),
        in_ranges: [false, false],
        country: Some("FR"),
    },
    Client {
        peer: None,
        in_ranges: [false, false],
        country: None,
    },
];

/// A rule as plain data.
#[derive(Debug, Clone)]
pub enum Tree {
    Authenticated,
    Role(usize),
    Scope(usize),
    Permission(usize),
    Ip(usize),
    Country(usize),
    /// An application predicate that answers this.
    Predicate(bool),
    Any(Vec<Tree>),
    All(Vec<Tree>),
    Not(Box<Tree>),
}

/// What a known caller holds, one flag per name.
#[derive(Debug, Clone, Copy)]
pub struct Holder {
    pub roles: [bool; 3],
    pub scopes: [bool; 3],
    pub permissions: [bool; 3],
}

impl Holder {
    fn held(flags: [bool; 3]) -> Vec<&'static str> {
        NAMES
            .iter()
            .zip(flags)
            .filter(|(_, held)| *held)
            .map(|(name, _)| *name)
            .collect()
    }

    pub fn roles(&self) -> Vec<&'static str> {
        Self::held(self.roles)
    }

    pub fn scope(&self) -> String {
        Self::held(self.scopes).join(" ")
    }

    pub fn permissions(&self) -> Vec<&'static str> {
        Self::held(self.permissions)
    }
}

impl Tree {
    fn looks_at_the_connection(&self) -> bool {
        match self {
            Tree::Ip(_) | Tree::Country(_) => true,
            Tree::Any(trees) | Tree::All(trees) => trees.iter().any(Tree::looks_at_the_connection),
            Tree::Not(tree) => tree.looks_at_the_connection(),
            _ => false,
        }
    }

    /// The rule for a caller who may not be known yet (`None`): `None` where that matters.
    fn judge(&self, caller: Option<&Holder>, client: &Client) -> Option<bool> {
        let flag = |flags: [bool; 3], i: usize| flags.get(i).copied().unwrap_or(false);
        match self {
            Tree::Authenticated => caller.map(|_| true),
            Tree::Role(i) => caller.map(|h| flag(h.roles, *i)),
            Tree::Scope(i) => caller.map(|h| flag(h.scopes, *i)),
            Tree::Permission(i) => caller.map(|h| flag(h.permissions, *i)),
            Tree::Predicate(answer) => caller.map(|_| *answer),
            Tree::Ip(i) => Some(client.in_ranges.get(*i).copied().unwrap_or(false)),
            Tree::Country(i) => Some(client.country.is_some_and(|country| {
                COUNTRIES
                    .get(*i)
                    .is_some_and(|list| list.contains(&country))
            })),
            Tree::Not(tree) => tree.judge(caller, client).map(|held| !held),
            Tree::Any(trees) => kleene(trees.iter().map(|t| t.judge(caller, client)), true),
            Tree::All(trees) => kleene(trees.iter().map(|t| t.judge(caller, client)), false),
        }
    }

    /// The status a client sees.
    pub fn status(&self, caller: Option<&Holder>, client: &Client) -> u16 {
        if client.peer.is_none() && self.looks_at_the_connection() {
            return 403;
        }
        match (self.judge(None, client), caller) {
            (Some(true), _) => 200,
            (Some(false), _) => 403,
            (None, None) => 401,
            (None, Some(holder)) => match self.judge(Some(holder), client) {
                Some(true) => 200,
                _ => 403,
            },
        }
    }

    /// The runtime's rule; `store` keeps each child list alive for `'static`.
    pub fn build(&self, store: &mut dyn FnMut(Vec<Rule>) -> &'static [Rule]) -> Rule {
        let name = |i: &usize| NAMES.get(*i).copied().unwrap_or("none");
        match self {
            Tree::Authenticated => Rule::Authenticated,
            Tree::Role(i) => Rule::Role(name(i)),
            Tree::Scope(i) => Rule::Scope(name(i)),
            Tree::Permission(i) => Rule::Permission(name(i)),
            Tree::Ip(i) => {
                let net = RANGES.get(*i).and_then(|r| r.parse().ok());
                Rule::Ip(Box::leak(
                    net.into_iter().collect::<Vec<_>>().into_boxed_slice(),
                ))
            }
            Tree::Country(i) => Rule::Country(COUNTRIES.get(*i).copied().unwrap_or(&[])),
            Tree::Predicate(answer) => Rule::Predicate(Predicate {
                name: if *answer { "yes" } else { "no" },
                check: if *answer { yes } else { no },
            }),
            Tree::Any(trees) => Rule::Any(build_all(trees, store)),
            Tree::All(trees) => Rule::All(build_all(trees, store)),
            Tree::Not(tree) => {
                let inner = tree.build(store);
                match store(vec![inner]) {
                    [rule] => Rule::Not(rule),
                    _ => unreachable!("a one-element list"),
                }
            }
        }
    }
}

fn build_all(
    trees: &[Tree],
    store: &mut dyn FnMut(Vec<Rule>) -> &'static [Rule],
) -> &'static [Rule] {
    let rules = trees.iter().map(|t| t.build(store)).collect();
    store(rules)
}

/// `any` (`short == true`) or `all` (`short == false`) over three-valued answers.
fn kleene(answers: impl Iterator<Item = Option<bool>>, short: bool) -> Option<bool> {
    let answers: Vec<Option<bool>> = answers.collect();
    if answers.contains(&Some(short)) {
        Some(short)
    } else if answers.contains(&None) {
        None
    } else {
        Some(!short)
    }
}

fn yes<'a>(_: &'a Identity, _: &'a actix_web::HttpRequest) -> PredicateFuture<'a> {
    Box::pin(async { Ok(true) })
}

fn no<'a>(_: &'a Identity, _: &'a actix_web::HttpRequest) -> PredicateFuture<'a> {
    Box::pin(async { Ok(false) })
}

/// The country resolver the model assumes.
pub struct Countries;

impl route_guard::CountryResolver for Countries {
    fn country(&self, ip: IpAddr) -> Option<route_guard::CountryCode> {
        let ip = ip.to_string();
        let code = if ip.starts_with("203.0.113.") {
            "DE"
        } else if ip.starts_with("198.51.100.") {
            "FR"
        } else {
            return None;
        };
        route_guard::CountryCode::new(code)
    }
}
