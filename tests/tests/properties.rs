//! Properties checked on random input in every `cargo test` (issue 6), through the public API:
//! rule evaluation equals an independent boolean model, and token verification answers every
//! byte string with a refusal, never a panic. The crate-private parsers have their properties
//! beside them (`runtime/src/bearer.rs`, `jwt/header.rs`, `claims.rs`); `fuzz/` runs the same
//! code under coverage-guided fuzzing.

mod common;
#[path = "model/rules.rs"]
mod model;

use common::*;
use model::{Holder, Tree};
use proptest::prelude::*;
use route_guard::{Rule, TokenProblem};

fn tree() -> impl Strategy<Value = Tree> {
    let name = 0..model::NAMES.len();
    let leaf = prop_oneof![
        Just(Tree::Authenticated),
        name.clone().prop_map(Tree::Role),
        name.clone().prop_map(Tree::Scope),
        name.prop_map(Tree::Permission),
        Just(Tree::Predicate),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Tree::Any),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Tree::All),
            inner.prop_map(|t| Tree::Not(Box::new(t))),
        ]
    })
}

fn holder() -> impl Strategy<Value = Holder> {
    (any::<[bool; 4]>(), any::<[bool; 4]>(), any::<[bool; 4]>()).prop_map(
        |(roles, scopes, permissions)| Holder {
            roles,
            scopes,
            permissions,
        },
    )
}

/// Leaks each child list: a few hundred small rules per run, for the `'static` the macros'
/// constant rules have.
fn leak(rules: Vec<Rule>) -> &'static [Rule] {
    Box::leak(rules.into_boxed_slice())
}

proptest! {
    #[test]
    fn rule_evaluation_equals_the_boolean_model(tree in tree(), holder in holder()) {
        let rule = model::build(&tree, &mut leak);
        let expected = model::allows(&tree, &holder, true);
        prop_assert_eq!(rule.allows(&holder.identity()), expected, "{:?}", tree);
    }

    #[test]
    fn arbitrary_bytes_are_refused_without_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let jwt = jwt_builder().no_cache().build().unwrap_or_else(|e| panic!("{e}"));
        let token = String::from_utf8_lossy(&bytes);
        prop_assert!(jwt.verify(&token).is_err());
    }

    /// Random header and payload JSON, properly signed: verification may refuse, but never
    /// panics, and accepts only what has a string `sub`, an `exp` and our issuer and audience.
    #[test]
    fn signed_random_json_is_judged_without_a_panic(
        header in prop_oneof![
            Just(r#"{"alg":"HS256"}"#.to_owned()),
            r#"\{"alg":"(HS256|none|RS256)"(,"(kid|typ|crit|jku)":("[a-z+]{0,6}"|1|null|\[\]))*\}"#,
        ],
        sub in prop_oneof![Just(r#""root""#.to_owned()), "1|null|\\[\\]|\\{\\}"],
        extra in r#"(,"(roles|scope|exp|nbf|aud|iss)":("[a-z ]{0,8}"|-?[0-9]{1,12}|null|\[("admin"|1)?\]))*"#,
    ) {
        let jwt = jwt_builder().no_cache().build().unwrap_or_else(|e| panic!("{e}"));
        let payload = format!(
            r#"{{"sub":{sub},"iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{}{extra}}}"#,
            now() + 600
        );
        match jwt.verify(&hs256_raw(&header, &payload)) {
            Ok(identity) => {
                prop_assert_eq!(identity.subject(), "root");
                prop_assert!(header.contains("HS256") && !header.contains("crit"));
            }
            Err(problem) => prop_assert_ne!(problem, TokenProblem::TooLong),
        }
    }
}
