//! A reference model of [`Rule::allows`], shared by the proptest properties
//! (`tests/tests/properties.rs`) and the `policy` fuzz target (`fuzz/`): rules as plain trees,
//! judged by ordinary boolean logic, so the runtime's three-valued evaluation is checked against
//! something written independently of it.

#![allow(unreachable_pub)] // shared by a test crate and a fuzz target, each a crate of its own

use route_guard::{Identity, Predicate, PredicateFuture, Rule};

/// The names leaves draw from: few enough that random identities often hold them.
pub const NAMES: [&str; 4] = ["admin", "audit", "read", "write"];

/// A rule as plain data. Leaves index [`NAMES`].
#[derive(Debug, Clone)]
pub enum Tree {
    Authenticated,
    Role(usize),
    Scope(usize),
    Permission(usize),
    /// An application predicate: `Rule::allows` never calls it and counts it as the answer
    /// that does not help the caller.
    Predicate,
    Any(Vec<Tree>),
    All(Vec<Tree>),
    Not(Box<Tree>),
}

/// What the caller holds: one flag per name in [`NAMES`].
#[derive(Debug, Clone, Copy)]
pub struct Holder {
    pub roles: [bool; 4],
    pub scopes: [bool; 4],
    pub permissions: [bool; 4],
}

impl Holder {
    pub fn identity(&self) -> Identity {
        let held = |flags: [bool; 4]| {
            NAMES
                .iter()
                .zip(flags)
                .filter(|(_, held)| *held)
                .map(|(name, _)| (*name).to_owned())
                .collect::<Vec<_>>()
        };
        Identity::new("subject", held(self.roles), serde_json::Map::new())
            .with_scopes(held(self.scopes))
            .with_permissions(held(self.permissions))
    }
}

/// The model's verdict. `positive` is whether the node sits under an even number of `not`s:
/// a predicate is then `false`, and `true` under an odd number, so it never helps.
pub fn allows(tree: &Tree, holder: &Holder, positive: bool) -> bool {
    let held = |flags: &[bool; 4], i: &usize| flags.get(*i).copied().unwrap_or(false);
    match tree {
        Tree::Authenticated => true,
        Tree::Role(i) => held(&holder.roles, i),
        Tree::Scope(i) => held(&holder.scopes, i),
        Tree::Permission(i) => held(&holder.permissions, i),
        Tree::Predicate => !positive,
        Tree::Any(trees) => trees.iter().any(|t| allows(t, holder, positive)),
        Tree::All(trees) => trees.iter().all(|t| allows(t, holder, positive)),
        Tree::Not(tree) => !allows(tree, holder, !positive),
    }
}

/// Builds the runtime's [`Rule`] for `tree`; `store` keeps each child list alive for `'static`.
pub fn build(tree: &Tree, store: &mut dyn FnMut(Vec<Rule>) -> &'static [Rule]) -> Rule {
    let name = |i: &usize| NAMES.get(*i).copied().unwrap_or("none");
    match tree {
        Tree::Authenticated => Rule::Authenticated,
        Tree::Role(i) => Rule::Role(name(i)),
        Tree::Scope(i) => Rule::Scope(name(i)),
        Tree::Permission(i) => Rule::Permission(name(i)),
        Tree::Predicate => Rule::Predicate(Predicate {
            name: "never_called",
            check: never_called,
        }),
        Tree::Any(trees) => Rule::Any(build_all(trees, store)),
        Tree::All(trees) => Rule::All(build_all(trees, store)),
        Tree::Not(tree) => {
            let inner = build(tree, store);
            match store(vec![inner]) {
                [rule] => Rule::Not(rule),
                _ => unreachable!("a one-element list"),
            }
        }
    }
}

fn build_all(
    trees: &[Tree],
    store: &mut dyn FnMut(Vec<Rule>) -> &'static [Rule],
) -> &'static [Rule] {
    let rules = trees.iter().map(|t| build(t, store)).collect();
    store(rules)
}

fn never_called<'a>(_: &'a Identity, _: &'a actix_web::HttpRequest) -> PredicateFuture<'a> {
    panic!("Rule::allows must not call predicates")
}
