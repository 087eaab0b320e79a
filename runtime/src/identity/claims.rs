//! Finding roles and other lists inside a token's claims.
//!
//! Identity providers disagree on where roles live (`roles`, `realm_access.roles`,
//! `https://example.com/roles`, `cognito:groups`) and on their shape (a space-separated string
//! or an array), so a [`ClaimPath`] names the place and [`string_list`] reads either shape.

use std::fmt;

use serde_json::{Map, Value};

/// Where a claim lives in a token's payload: a path of object keys from the top.
///
/// `ClaimPath::from("realm_access.roles")` splits on dots; keys that contain dots themselves,
/// such as Auth0's namespaced `https://example.com/roles`, are named with [`ClaimPath::key`].
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimPath(Box<[Box<str>]>);

impl ClaimPath {
    /// A dotted path: `"roles"`, `"realm_access.roles"`, `"resource_access.my-app.roles"`.
    #[must_use]
    pub fn dotted(path: &str) -> Self {
        ClaimPath(path.split('.').map(Box::from).collect())
    }

    /// A single top-level key taken literally, dots and all: `"https://example.com/roles"`.
    #[must_use]
    pub fn key(key: &str) -> Self {
        ClaimPath(Box::new([Box::from(key)]))
    }

    /// A path given key by key, each taken literally.
    pub fn segments<I, S>(segments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        ClaimPath(
            segments
                .into_iter()
                .map(|s| Box::from(s.as_ref()))
                .collect(),
        )
    }

    /// The value at this path, if every key along it exists.
    #[must_use]
    pub fn find<'a>(&self, claims: &'a Map<String, Value>) -> Option<&'a Value> {
        let (first, rest) = self.0.split_first()?;
        rest.iter().try_fold(claims.get(&**first)?, |value, key| {
            value.as_object()?.get(&**key)
        })
    }
}

impl From<&str> for ClaimPath {
    fn from(path: &str) -> Self {
        ClaimPath::dotted(path)
    }
}

impl fmt::Debug for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(key)?;
        }
        Ok(())
    }
}

/// A claim whose value is not the shape a list of names can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WrongShape;

/// Reads a list of names from a claim: a space-separated string (`"read write"`) or an array of
/// strings (`["read", "write"]`). A missing claim is an empty list; any other shape, including
/// an array holding a non-string, is [`WrongShape`] so the caller can deny rather than guess.
///
/// A string is split on the ASCII space (U+0020) only, as RFC 6749 §3.3 delimits scopes (and
/// RFC 8693 §4.2 the `scope` claim); runs of spaces make no empty names. Any other character,
/// a tab or a no-break space included, belongs to the name: `"Team\u{A0}admin"` is one role,
/// which grants nothing named `admin`.
pub(crate) fn string_list(value: Option<&Value>) -> Result<Vec<String>, WrongShape> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::String(names)) => Ok(space_separated(names).map(str::to_owned).collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or(WrongShape))
            .collect(),
        Some(_) => Err(WrongShape),
    }
}

/// The names of a space-separated list: split on U+0020 only, without empty names.
fn space_separated(names: &str) -> impl Iterator<Item = &str> {
    names.split(' ').filter(|name| !name.is_empty())
}

/// A NumericDate (RFC 7519 §2) as whole seconds since the epoch: any JSON number, fractions
/// rounded. Dates before the epoch count as the epoch (long past) and dates beyond `u64` as the
/// end of time; `None` for a value that is not a number at all.
pub(crate) fn numeric_date(value: &Value) -> Option<u64> {
    if let Some(secs) = value.as_u64() {
        return Some(secs);
    }
    let secs = value.as_f64()?;
    Some(if secs <= 0.0 {
        0
    } else if secs >= u64::MAX as f64 {
        u64::MAX
    } else {
        secs.round() as u64
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// RFC 6749 §3.3: names are delimited by U+0020 alone; other spaces are part of a name.
    #[test]
    fn strings_split_on_the_ascii_space_only() {
        let names = string_list(Some(&json!(
            "Team\u{A0}admin  read\twrite\u{2003}x \u{3000}audit\nops "
        )));
        assert_eq!(
            names.unwrap(),
            [
                "Team\u{A0}admin",
                "read\twrite\u{2003}x",
                "\u{3000}audit\nops"
            ]
        );
        assert_eq!(
            string_list(Some(&json!("   "))).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn dotted_paths_walk_nested_objects() {
        let c = claims(json!({"realm_access": {"roles": ["admin"]}, "roles": "x"}));
        assert_eq!(
            ClaimPath::from("realm_access.roles").find(&c),
            Some(&json!(["admin"]))
        );
        assert_eq!(ClaimPath::from("roles").find(&c), Some(&json!("x")));
        assert_eq!(ClaimPath::from("realm_access.missing").find(&c), None);
        assert_eq!(ClaimPath::from("roles.deeper").find(&c), None);
    }

    #[test]
    fn literal_keys_keep_their_dots() {
        let c = claims(json!({"https://example.com/roles": ["editor"]}));
        assert_eq!(
            ClaimPath::key("https://example.com/roles").find(&c),
            Some(&json!(["editor"]))
        );
        assert_eq!(ClaimPath::from("https://example.com/roles").find(&c), None);
        assert_eq!(
            ClaimPath::key("https://example.com/roles").to_string(),
            "https://example.com/roles"
        );
    }

    #[test]
    fn lists_come_as_strings_or_arrays_and_nothing_else() {
        assert_eq!(string_list(None), Ok(vec![]));
        assert_eq!(
            string_list(Some(&json!("a  b"))),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            string_list(Some(&json!(["a", "b"]))),
            Ok(vec!["a".into(), "b".into()])
        );
        for bad in [
            json!(1),
            json!(null),
            json!({"a": 1}),
            json!(["a", 1]),
            json!([["a"]]),
            json!(true),
        ] {
            assert_eq!(string_list(Some(&bad)), Err(WrongShape), "{bad}");
        }
    }

    /// Arbitrary JSON, with keys drawn from a small alphabet so that paths often hit.
    pub(crate) fn json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-c .é]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                proptest::collection::btree_map("[a-c.]{0,3}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Any path over any claims: no panic, and the answer is what walking the keys one by
        /// one gives.
        #[test]
        fn claim_paths_never_panic_and_walk_key_by_key(
            claims_value in json(),
            path in "[a-c.]{0,8}",
        ) {
            let claims = claims(claims_value);
            let found = ClaimPath::from(path.as_str()).find(&claims);
            let mut expected = Some(Value::Object(claims.clone()));
            for key in path.split('.') {
                expected = expected.and_then(|v| v.get(key).filter(|_| v.is_object()).cloned());
            }
            proptest::prop_assert_eq!(found.cloned(), expected);
        }

        /// Any claim value reads as a list of names or as the wrong shape, never a panic; a
        /// list holds exactly the strings the claim holds.
        #[test]
        fn any_claim_value_reads_as_names_or_wrong_shape(value in json()) {
            match (string_list(Some(&value)), &value) {
                (Ok(names), Value::String(text)) => proptest::prop_assert_eq!(
                    names,
                    text.split(' ').filter(|n| !n.is_empty()).map(str::to_owned).collect::<Vec<_>>()
                ),
                (Ok(names), Value::Array(items)) => {
                    let strings: Vec<String> =
                        items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect();
                    proptest::prop_assert_eq!(strings.len(), items.len());
                    proptest::prop_assert_eq!(names, strings);
                }
                (Ok(_), other) => proptest::prop_assert!(false, "a list from {other}"),
                (Err(WrongShape), Value::String(_)) => proptest::prop_assert!(false, "a string refused"),
                (Err(WrongShape), Value::Array(items)) => {
                    proptest::prop_assert!(items.iter().any(|i| !i.is_string()));
                }
                (Err(WrongShape), _) => {}
            }
        }
    }
}
