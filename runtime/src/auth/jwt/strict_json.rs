//! JSON objects parsed strictly: a member named twice anywhere inside makes the whole text
//! malformed, where serde_json keeps the last one and a token could say two things at once.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::refusal::TokenProblem;

/// The member names of one JSON object, for the duplicate check: a hash set, so that an object
/// of n members costs O(n) to check, where a list cost O(n²). foldhash's `RandomState` is
/// seeded per set, so an attacker cannot choose names that collide.
pub(super) type Names<T> = hashbrown::HashSet<T, foldhash::fast::RandomState>;

/// Parses a JSON object in one pass, as `serde_json::Map`'s own `Deserialize` does, but
/// refusing ([`TokenProblem::Malformed`]) an object anywhere inside that names a member twice.
/// Text that is not a JSON object is `Ok(None)`: the caller decides when to say so.
pub(super) fn strict_object(json: &[u8]) -> Result<Option<Map<String, Value>>, TokenProblem> {
    let duplicate = Cell::new(false);
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    // serde_json's recursion limit (128) bounds the depth.
    let parsed = Strict(&duplicate)
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    if duplicate.get() {
        return Err(TokenProblem::Malformed);
    }
    Ok(match parsed {
        Ok(Value::Object(claims)) => Some(claims),
        _ => None,
    })
}

/// Builds one JSON value, setting the flag and stopping at the first object with a repeated
/// member name.
#[derive(Clone, Copy)]
struct Strict<'a>(&'a Cell<bool>);

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut values = Vec::with_capacity(items.size_hint().unwrap_or(0).min(64));
        while let Some(value) = items.next_element_seed(self)? {
            values.push(value);
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Value, A::Error> {
        // Keys are compared decoded, so `"a"` and `"\u0061"` are the same member.
        let mut object = Map::new();
        while let Some(name) = members.next_key::<String>()? {
            let value = members.next_value_seed(self)?;
            if object.insert(name, value).is_some() {
                self.0.set(true);
                return Err(de::Error::custom("duplicate member"));
            }
        }
        Ok(Value::Object(object))
    }
}

/// Walks one JSON value, setting the flag at the first object with a repeated member name.
#[derive(Clone, Copy)]
pub(super) struct Unique<'a>(pub(super) &'a Cell<bool>);

impl<'de> DeserializeSeed<'de> for Unique<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        while items.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<(), A::Error> {
        // Keys are compared decoded, so `"a"` and `"\u0061"` are the same member.
        let mut seen: Names<String> = Names::default();
        while let Some(name) = members.next_key::<String>()? {
            if !seen.insert(name) {
                self.0.set(true);
                return Err(de::Error::custom("duplicate member"));
            }
            members.next_value_seed(self)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40,000 members, at the top of an object and nested, and a repeat at the end is still
    /// found. A pairwise check would make 8·10⁸ comparisons at each level: minutes, not the
    /// fraction of a second this takes.
    #[test]
    fn the_duplicate_check_holds_for_objects_of_any_size() {
        const MEMBERS: usize = 40_000;
        let members: String = (0..MEMBERS).map(|i| format!(",\"m{i}\":0")).collect();
        let nested = format!(r#"{{"alg":"HS256","x":{{"a":0{members}}}{members}}}"#);
        let repeated = format!(r#"{{"alg":"HS256"{members},"m0":1}}"#);
        assert!(strict_object(nested.as_bytes()).is_ok_and(|object| object.is_some()));
        assert_eq!(
            strict_object(repeated.as_bytes()),
            Err(TokenProblem::Malformed)
        );
    }

    proptest::proptest! {
        /// The one-pass parse reads any JSON document as serde_json's own `Map` does.
        #[test]
        fn the_strict_parse_reads_json_as_serde_json_does(value in crate::identity::claims::tests::json()) {
            let text = serde_json::to_vec(&value).unwrap();
            let expected = serde_json::from_slice::<Map<String, Value>>(&text).ok();
            proptest::prop_assert_eq!(strict_object(&text), Ok(expected));
        }

    }
}
