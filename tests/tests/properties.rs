//! Properties checked on random input in every `cargo test` (issue 6), through the public API:
//! rule evaluation equals an independent boolean model, and token verification answers every
//! byte string with a refusal, never a panic. The crate-private parsers have their properties
//! beside them (`runtime/src/bearer.rs`, `jwt/header.rs`, `claims.rs`); `fuzz/` runs the same
//! code under coverage-guided fuzzing.

mod common;
#[path = "model/rules.rs"]
mod model;
#[path = "model/verdict.rs"]
mod verdict;

use std::collections::BTreeMap;

use actix_web::test::init_service;
use actix_web::{App, web};
use common::*;
use model::{Holder, Tree};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use route_guard::{GuardScope, RouteGuard, Rule, TokenProblem};
use serde_json::json;

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


}

/// Rules with every kind of leaf, as the attributes allow them: combinators are never empty.
fn verdict_tree() -> impl Strategy<Value = verdict::Tree> {
    use verdict::Tree as T;
    let name = 0..verdict::NAMES.len();
    let leaf = prop_oneof![
        Just(T::Authenticated),
        name.clone().prop_map(T::Role),
        name.clone().prop_map(T::Scope),
        name.prop_map(T::Permission),
        (0..verdict::RANGES.len()).prop_map(T::Ip),
        (0..verdict::COUNTRIES.len()).prop_map(T::Country),
        any::<bool>().prop_map(T::Predicate),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..4).prop_map(T::Any),
            proptest::collection::vec(inner.clone(), 1..4).prop_map(T::All),
            inner.prop_map(|t| T::Not(Box::new(t))),
        ]
    })
}

fn verdict_caller() -> impl Strategy<Value = Option<verdict::Holder>> {
    proptest::option::of(
        (any::<[bool; 3]>(), any::<[bool; 3]>(), any::<[bool; 3]>()).prop_map(
            |(roles, scopes, permissions)| verdict::Holder {
                roles,
                scopes,
                permissions,
            },
        ),
    )
}

/// The status the whole engine answers: the rule on a `GuardScope`, a real request from
/// `client`, with a token for `caller`.
fn wire_status(
    rule: &'static Rule,
    caller: Option<&verdict::Holder>,
    client: &verdict::Client,
) -> u16 {
    let policy = route_guard::__fuzz::policy(rule, "read");
    let mut req = get("/guarded");
    if let Some(peer) = client.peer {
        let peer = format!("{peer}:4000")
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        req = req.peer_addr(peer);
    }
    if let Some(holder) = caller {
        let claims = claims("caller", &holder.roles());
        let claims = with(claims, "scope", json!(holder.scope()));
        let claims = with(claims, "permissions", json!(holder.permissions()));
        req = req.insert_header(bearer(&hs256(&claims)));
    }
    actix_web::rt::System::new().block_on(async move {
        let guard = RouteGuard::builder(jwt_builder().build().unwrap_or_else(|e| panic!("{e}")))
            .realm(REALM)
            .countries(verdict::Countries)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let app = init_service(
            App::new().app_data(guard).service(
                web::scope("/guarded")
                    .wrap(GuardScope::new(policy))
                    .route("", web::get().to(|| async { "in" })),
            ),
        )
        .await;
        call(&app, req).await.status
    })
}

/// The engine's three-valued evaluation, through the wire, equals the model of the contract;
/// and the cases reach every verdict, so the property cannot pass by never getting there.
#[test]
fn the_status_a_client_sees_equals_the_model() {
    let mut runner = TestRunner::new(Config {
        cases: 600,
        ..Config::default()
    });
    let reached: std::cell::RefCell<BTreeMap<&str, usize>> = std::cell::RefCell::default();
    let strategy = (verdict_tree(), verdict_caller(), 0..verdict::CLIENTS.len());
    let outcome = runner.run(&strategy, |(tree, caller, client)| {
        let client = verdict::CLIENTS[client];
        let expected = tree.status(caller.as_ref(), &client);
        let rule: &'static Rule = Box::leak(Box::new(tree.build(&mut leak)));
        let status = wire_status(rule, caller.as_ref(), &client);
        prop_assert_eq!(status, expected, "{:?} {:?} {:?}", tree, caller, client);
        let case = match (status, caller.is_some(), client.peer.is_some()) {
            (200, false, _) => "200 without credentials",
            (200, true, _) => "200 for a known caller",
            (401, _, _) => "401",
            (403, false, true) => "403 before credentials",
            (403, _, false) => "403 for an unknown address",
            (403, true, true) => "403 for a known caller",
            _ => "other",
        };
        *reached.borrow_mut().entry(case).or_default() += 1;
        Ok(())
    });
    if let Err(error) = outcome {
        panic!("{error}");
    }
    let reached = reached.into_inner();
    for case in [
        "200 without credentials",
        "200 for a known caller",
        "401",
        "403 before credentials",
        "403 for an unknown address",
        "403 for a known caller",
    ] {
        let count = reached.get(case).copied().unwrap_or(0);
        assert!(
            count >= 10,
            "only {count} cases reached {case:?}: {reached:?}"
        );
    }
}

/// A member that is absent (`None`, one time in ten) or one of `values`, the first (the one
/// the contract accepts) as likely as all the others together.
fn member(values: Vec<serde_json::Value>) -> impl Strategy<Value = Option<serde_json::Value>> {
    let good = values.first().cloned().unwrap_or_default();
    proptest::option::weighted(
        0.9,
        prop_oneof![Just(good), proptest::sample::select(values)],
    )
}

/// Signed tokens whose header and registered claims vary independently, each member at most
/// once: verification accepts exactly what the contract accepts, and both answers are reached,
/// the refusals for many different reasons.
#[test]
fn signed_claims_are_accepted_exactly_when_the_contract_says() {
    let t = now();
    let strategy = (
        proptest::sample::select(vec![
            r#"{"alg":"HS256"}"#,
            r#"{"alg":"HS256"}"#,
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"alg":"HS256","typ":"at+jwt"}"#,
            r#"{"alg":"HS256","typ":"foo"}"#,
            r#"{"alg":"HS256","crit":["exp"]}"#,
        ]),
        member(vec![json!("root"), json!(1), json!(null), json!([])]),
        member(vec![
            json!(ISSUER),
            json!("https://evil.test"),
            json!([ISSUER]),
            json!(1),
        ]),
        member(vec![
            json!(AUDIENCE),
            json!([AUDIENCE, "x"]),
            json!("other"),
            json!([]),
            json!(1),
        ]),
        member(vec![
            json!(t + 600),
            json!(t - 3600),
            json!(-1),
            json!(1e300),
            json!((t + 600) as f64 + 0.5),
            json!("soon"),
        ]),
        member(vec![
            json!(t - 10),
            json!(t + 3600),
            json!(-1),
            json!("soon"),
        ]),
    );
    let jwt = jwt_builder()
        .no_cache()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let answers: std::cell::RefCell<BTreeMap<String, usize>> = std::cell::RefCell::default();
    let mut runner = TestRunner::new(Config {
        cases: 1000,
        ..Config::default()
    });
    let outcome = runner.run(&strategy, |(header, sub, iss, aud, exp, nbf)| {
        let mut claims = serde_json::Map::new();
        for (name, value) in [
            ("sub", &sub),
            ("iss", &iss),
            ("aud", &aud),
            ("exp", &exp),
            ("nbf", &nbf),
        ] {
            if let Some(value) = value {
                claims.insert(name.to_owned(), value.clone());
            }
        }
        let number =
            |value: &Option<serde_json::Value>| value.as_ref().and_then(serde_json::Value::as_f64);
        let accepted = !header.contains("crit")
            && !header.contains("foo")
            && sub.as_ref().is_some_and(serde_json::Value::is_string)
            && iss == Some(json!(ISSUER))
            && aud.as_ref().is_some_and(|aud| {
                aud == &json!(AUDIENCE)
                    || aud.as_array().is_some_and(|a| a.contains(&json!(AUDIENCE)))
            })
            && number(&exp).is_some_and(|exp| exp > (t - 30) as f64)
            && (nbf.is_none() || number(&nbf).is_some_and(|nbf| nbf <= (t + 30) as f64));
        let token = hs256_raw(
            header,
            &serde_json::Value::Object(claims.clone()).to_string(),
        );
        let verdict = jwt.verify(&token);
        prop_assert_eq!(
            verdict.is_ok(),
            accepted,
            "{} {:?}: {:?}",
            header,
            claims,
            verdict
        );
        let answer = match verdict {
            Ok(_) => "accepted".to_owned(),
            Err(problem) => format!("{problem:?}"),
        };
        *answers.borrow_mut().entry(answer).or_default() += 1;
        Ok(())
    });
    if let Err(error) = outcome {
        panic!("{error}");
    }
    let answers = answers.into_inner();
    assert!(
        answers.get("accepted").is_some_and(|&n| n >= 5),
        "{answers:?}"
    );
    for problem in [
        "Expired",
        "NotYetValid",
        "WrongIssuer",
        "WrongAudience",
        "MissingClaim",
        "Malformed",
        "WrongType",
        "UnsupportedCritical",
    ] {
        assert!(
            answers.contains_key(problem),
            "no case reached {problem}: {answers:?}"
        );
    }
}

/// Three base64url segments of random bytes pass the shape check and are refused later, for
/// their header, their payload or their signature; never accepted, never a panic.
#[test]
fn random_segments_are_refused_past_the_shape_check() {
    let jwt = jwt_builder()
        .no_cache()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let header = r#"{"alg":"HS256"}"#.as_bytes().to_vec();
    let payload = claims("root", &["admin"]).to_string().into_bytes();
    let bytes = || proptest::collection::vec(any::<u8>(), 0..64);
    let segment = |real: Vec<u8>| prop_oneof![bytes(), Just(real)];
    let strategy = (segment(header), segment(payload), bytes());
    let problems: std::cell::RefCell<BTreeMap<String, usize>> = std::cell::RefCell::default();
    let mut runner = TestRunner::new(Config {
        cases: 500,
        ..Config::default()
    });
    let outcome = runner.run(&strategy, |(header, payload, signature)| {
        let token = format!(
            "{}.{}.{}",
            b64url(header),
            b64url(payload),
            b64url(signature)
        );
        let problem = match jwt.verify(&token) {
            Ok(identity) => return Err(TestCaseError::fail(format!("accepted: {identity:?}"))),
            Err(problem) => problem,
        };
        prop_assert_ne!(problem, TokenProblem::TooLong);
        *problems
            .borrow_mut()
            .entry(format!("{problem:?}"))
            .or_default() += 1;
        Ok(())
    });
    if let Err(error) = outcome {
        panic!("{error}");
    }
    let problems = problems.into_inner();
    for problem in ["Malformed", "BadSignature"] {
        assert!(
            problems.contains_key(problem),
            "no case reached {problem}: {problems:?}"
        );
    }
}
