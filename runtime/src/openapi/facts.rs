//! What a rule says, as an OpenAPI document can tell it: the alternatives a caller may
//! satisfy, each with the names it needs and the conditions no security requirement can
//! express.
//!
//! Rules arrive as JSON, in the shape the guard attributes write into the operation's
//! `x-route-guard` extension and [`rule_json`] writes for a [`Rule`]:
//!
//! ```text
//! "authenticated" | "optional" | {"role": "admin"} | {"scope": "read:items"} | {"permission": "p"}
//! | {"scheme": "basic"} | {"issuer": "staff"} | {"acr": "mfa"} | {"max_age": 300}
//! | {"policy": "owns_document"} | {"ip": ["10.0.0.0/8"]} | {"country": ["DE"]}
//! | {"any": [rule, ..]} | {"all": [rule, ..]} | {"not": rule}
//! ```

use serde_json::{Value, json};

use crate::policy::Rule;

/// Past this many alternatives, a rule is documented as one alternative with its full text as
/// the condition, rather than as a combinatorial list.
const MAX_ALTERNATIVES: usize = 32;

/// A name a caller's credentials must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// `role`, `scope` or `permission`.
    pub(crate) kind: &'static str,
    pub(crate) name: String,
}

/// One way to satisfy a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Alternative {
    /// Credentials are needed (a role, a predicate on the identity, plain authentication).
    pub(crate) credentials: bool,
    pub(crate) names: Vec<Name>,
    /// What must also hold and has no place in a security requirement, as rule text.
    pub(crate) conditions: Vec<String>,
    /// The one authenticator (by its name in the guard) this alternative takes, if the rule
    /// names it with `scheme(..)`; `None`: any.
    pub(crate) scheme: Option<String>,
}

impl Alternative {
    fn condition(credentials: bool, text: String) -> Vec<Alternative> {
        vec![Alternative {
            credentials,
            names: Vec::new(),
            conditions: vec![text],
            scheme: None,
        }]
    }

    /// Both this and `other` hold; `None` if they take different schemes, which no request can.
    fn and(&self, other: &Alternative) -> Option<Alternative> {
        let mut both = self.clone();
        match (&self.scheme, &other.scheme) {
            (Some(mine), Some(theirs)) if mine != theirs => return None,
            (None, Some(theirs)) => both.scheme = Some(theirs.clone()),
            _ => {}
        }
        both.credentials |= other.credentials;
        for name in &other.names {
            if !both.names.contains(name) {
                both.names.push(name.clone());
            }
        }
        both.conditions.extend(other.conditions.iter().cloned());
        Some(both)
    }
}

/// A rule that is not in the shape above.
#[derive(Debug)]
pub(crate) struct Malformed;

/// The alternatives of `rule`, at most [`MAX_ALTERNATIVES`] of them.
pub(crate) fn alternatives(rule: &Value) -> Result<Vec<Alternative>, Malformed> {
    let found = expand(rule)?;
    if found.len() <= MAX_ALTERNATIVES {
        return Ok(found);
    }
    Ok(Alternative::condition(needs_credentials(rule), text(rule)?))
}

fn expand(rule: &Value) -> Result<Vec<Alternative>, Malformed> {
    let authenticated = Alternative {
        credentials: true,
        ..Alternative::default()
    };
    match rule.as_str() {
        Some("authenticated") => return Ok(vec![authenticated]),
        // `MaybeAuthenticated`: any credentials, or none at all.
        Some("optional") => return Ok(vec![authenticated, Alternative::default()]),
        _ => {}
    }
    let (key, value) = single_entry(rule)?;
    match key {
        "role" | "scope" | "permission" => {
            let kind = match key {
                "role" => "role",
                "scope" => "scope",
                _ => "permission",
            };
            let name = value.as_str().ok_or(Malformed)?.to_owned();
            Ok(vec![Alternative {
                credentials: true,
                names: vec![Name { kind, name }],
                conditions: Vec::new(),
                scheme: None,
            }])
        }
        "scheme" => Ok(vec![Alternative {
            credentials: true,
            scheme: Some(value.as_str().ok_or(Malformed)?.to_owned()),
            ..Alternative::default()
        }]),
        "policy" | "ip" | "country" | "not" | "issuer" | "acr" | "max_age" => {
            Ok(Alternative::condition(needs_credentials(rule), text(rule)?))
        }
        "any" => {
            let mut all = Vec::new();
            for item in items(value)? {
                all.extend(expand(item)?);
                if all.len() > MAX_ALTERNATIVES {
                    break;
                }
            }
            Ok(all)
        }
        "all" => {
            let mut product = vec![Alternative::default()];
            for item in items(value)? {
                let each = expand(item)?;
                product = product
                    .iter()
                    .flat_map(|left| each.iter().filter_map(|right| left.and(right)))
                    .take(MAX_ALTERNATIVES + 1)
                    .collect();
            }
            Ok(product)
        }
        _ => Err(Malformed),
    }
}

/// Whether deciding `rule` may need the caller's identity: anything but address and country
/// leaves.
fn needs_credentials(rule: &Value) -> bool {
    match single_entry(rule) {
        Ok(("ip" | "country", _)) => false,
        Ok(("not", inner)) => needs_credentials(inner),
        Ok(("any" | "all", list)) => list
            .as_array()
            .is_some_and(|items| items.iter().any(needs_credentials)),
        _ => true,
    }
}

/// `rule` as written in a guard attribute: `any(role("admin"), ip("10.0.0.0/8"))`.
pub(crate) fn text(rule: &Value) -> Result<String, Malformed> {
    if let Some(word @ ("authenticated" | "optional")) = rule.as_str() {
        return Ok(word.to_owned());
    }
    let (key, value) = single_entry(rule)?;
    let quoted = |value: &Value| value.as_str().map(|s| format!("{s:?}")).ok_or(Malformed);
    let inner = match key {
        "role" | "scope" | "permission" | "scheme" | "issuer" | "acr" => quoted(value)?,
        "max_age" => value.as_u64().ok_or(Malformed)?.to_string(),
        "policy" => value.as_str().ok_or(Malformed)?.to_owned(),
        "ip" | "country" => items(value)?
            .iter()
            .map(quoted)
            .collect::<Result<Vec<_>, _>>()?
            .join(", "),
        "any" | "all" => items(value)?
            .iter()
            .map(text)
            .collect::<Result<Vec<_>, _>>()?
            .join(", "),
        "not" => text(value)?,
        _ => return Err(Malformed),
    };
    Ok(format!("{key}({inner})"))
}

fn single_entry(rule: &Value) -> Result<(&str, &Value), Malformed> {
    match rule.as_object() {
        Some(map) if map.len() == 1 => map
            .iter()
            .next()
            .map(|(key, value)| (key.as_str(), value))
            .ok_or(Malformed),
        _ => Err(Malformed),
    }
}

fn items(value: &Value) -> Result<&Vec<Value>, Malformed> {
    value.as_array().ok_or(Malformed)
}

/// A compiled rule in the JSON shape the guard attributes write.
pub(crate) fn rule_json(rule: &Rule) -> Value {
    let list = |rules: &[Rule]| Value::Array(rules.iter().map(rule_json).collect());
    match rule {
        Rule::Authenticated => json!("authenticated"),
        Rule::Role(name) => json!({ "role": name }),
        Rule::Scope(name) => json!({ "scope": name }),
        Rule::Permission(name) => json!({ "permission": name }),
        Rule::Scheme(name) => json!({ "scheme": name }),
        Rule::Issuer(name) => json!({ "issuer": name }),
        Rule::Acr(name) => json!({ "acr": name }),
        Rule::MaxAge(seconds) => json!({ "max_age": seconds }),
        Rule::Any(rules) => json!({ "any": list(rules) }),
        Rule::All(rules) => json!({ "all": list(rules) }),
        Rule::Not(rule) => json!({ "not": rule_json(rule) }),
        Rule::Ip(nets) => {
            let nets: Vec<String> = nets.iter().map(ToString::to_string).collect();
            json!({ "ip": nets })
        }
        Rule::Country(codes) => json!({ "country": codes }),
        Rule::Predicate(predicate) => json!({ "policy": predicate.name }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(alternative: &Alternative) -> Vec<&str> {
        alternative.names.iter().map(|n| n.name.as_str()).collect()
    }

    #[test]
    fn any_is_alternatives_and_all_their_product() {
        let rule = json!({ "all": [
            { "any": [{ "role": "admin" }, { "role": "editor" }] },
            { "scope": "write" },
        ]});
        let found = alternatives(&rule).unwrap_or_default();
        let found: Vec<Vec<&str>> = found.iter().map(names).collect();
        assert_eq!(found, [vec!["admin", "write"], vec!["editor", "write"]]);
    }

    #[test]
    fn address_rules_need_no_credentials_and_are_conditions() {
        let rule = json!({ "any": [{ "role": "admin" }, { "ip": ["10.0.0.0/8"] }] });
        let found = alternatives(&rule).unwrap_or_default();
        assert_eq!(found.len(), 2);
        assert!(!found[1].credentials);
        assert_eq!(found[1].conditions, [r#"ip("10.0.0.0/8")"#]);
        let negated = json!({ "not": { "role": "suspended" } });
        let found = alternatives(&negated).unwrap_or_default();
        assert!(found[0].credentials);
        assert_eq!(found[0].conditions, [r#"not(role("suspended"))"#]);
    }

    #[test]
    fn a_combinatorial_rule_collapses_into_its_text() {
        let pair = |a: &str, b: &str| json!({ "any": [{ "role": a }, { "role": b }] });
        let rule = json!({ "all": [pair("a", "b"), pair("c", "d"), pair("e", "f"),
                                   pair("g", "h"), pair("i", "j"), pair("k", "l")] });
        let found = alternatives(&rule).unwrap_or_default();
        assert_eq!(found.len(), 1);
        assert!(found[0].conditions[0].starts_with(r#"all(any(role("a"), role("b")), "#));
    }

    #[test]
    fn malformed_rules_are_refused_not_guessed() {
        for rule in [
            json!(1),
            json!({ "role": 1 }),
            json!({ "rule": "x" }),
            json!({ "any": {} }),
        ] {
            assert!(alternatives(&rule).is_err(), "{rule}");
        }
    }
}
