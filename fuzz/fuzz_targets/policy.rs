//! Rule evaluation against the reference model of `tests/tests/model/rules.rs`: random rule
//! trees and random callers, decoded from the fuzzer's bytes, must get the model's verdict.
#![no_main]

#[path = "../../tests/tests/model/rules.rs"]
mod model;

use libfuzzer_sys::fuzz_target;
use model::{Holder, Tree};
use route_guard::Rule;

/// Child lists of one input's rule, freed when the evaluation is over. Rules refer to their
/// children as `&'static`, as the macros' constants do; leaking them would grow without bound
/// over millions of inputs.
struct Arena(Vec<*mut [Rule]>);

impl Arena {
    fn store(&mut self, rules: Vec<Rule>) -> &'static [Rule] {
        let raw = Box::into_raw(rules.into_boxed_slice());
        self.0.push(raw);
        // SAFETY: `raw` comes from a live `Box`, freed only when the arena drops; no reference
        // handed out here is used after that (the rule is dropped first, see below).
        unsafe { &*raw }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        for raw in self.0.drain(..) {
            // SAFETY: each pointer came from `Box::into_raw` above and is freed exactly once.
            drop(unsafe { Box::from_raw(raw) });
        }
    }
}

/// Decodes a tree from `bytes`, at most `depth` deep.
fn tree(bytes: &mut std::slice::Iter<'_, u8>, depth: u8) -> Tree {
    let Some(&byte) = bytes.next() else {
        return Tree::Authenticated;
    };
    let name = usize::from(byte >> 4) % model::NAMES.len();
    let children = |bytes: &mut std::slice::Iter<'_, u8>| {
        (0..(byte >> 4) % 4)
            .map(|_| tree(bytes, depth - 1))
            .collect()
    };
    match (byte % 8, depth) {
        (0, _) => Tree::Authenticated,
        (1, _) => Tree::Role(name),
        (2, _) => Tree::Scope(name),
        (3, _) => Tree::Permission(name),
        (4, _) => Tree::Predicate,
        (_, 0) => Tree::Role(name),
        (5, _) => Tree::Any(children(bytes)),
        (6, _) => Tree::All(children(bytes)),
        _ => Tree::Not(Box::new(tree(bytes, depth - 1))),
    }
}

fn flags(byte: u8) -> [bool; 4] {
    [0, 1, 2, 3].map(|bit| byte & (1 << bit) != 0)
}

fuzz_target!(|data: &[u8]| {
    let [roles, scopes, permissions, rest @ ..] = data else {
        return;
    };
    let holder = Holder {
        roles: flags(*roles),
        scopes: flags(*scopes),
        permissions: flags(*permissions),
    };
    let tree = tree(&mut rest.iter(), 6);
    let mut arena = Arena(Vec::new());
    // The rule lives in this block only, so it is gone before the arena frees its children.
    let allowed = {
        let rule = model::build(&tree, &mut |rules| arena.store(rules));
        rule.allows(&holder.identity())
    };
    drop(arena);
    assert_eq!(
        allowed,
        model::allows(&tree, &holder, true),
        "{tree:?} {holder:?}"
    );
});
