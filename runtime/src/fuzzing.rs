//! What the fuzz targets in `fuzz/` reach beyond the public API: the request-facing parsers it
//! hides. Each wrapper only forwards, so a crash found through one is a crash of the real code.

use serde_json::Value;

use crate::refusal::Denial;

/// The token in an `Authorization` field value (`Bearer <b64token>`), or why there is none.
pub fn parse_authorization(value: &[u8], max_len: usize) -> Result<String, Denial> {
    crate::auth::bearer::parse_authorization(value, max_len)
}

/// The names a claim holds (a space-separated string or an array of strings); `None` for a
/// claim of the wrong shape.
#[must_use]
pub fn string_list(value: Option<&Value>) -> Option<Vec<String>> {
    crate::identity::claims::string_list(value).ok()
}

/// The policy of a rule built at run time, for tests that drive the whole engine with random
/// rules: what `rule!` builds at compile time, with `scopes` as the scopes an
/// `insufficient_scope` challenge names.
#[must_use]
pub fn policy(
    rule: &'static crate::policy::Rule,
    scopes: &'static str,
) -> crate::policy::PolicyRef {
    crate::policy::PolicyRef(crate::policy::Applied {
        rule,
        name: "fuzzing",
        scopes,
        step_up: &crate::refusal::StepUp {
            acr_values: "",
            max_age: None,
        },
        hide: false,
        network: rule.has_network(),
        predicates: rule.has_predicate(),
        schemes: rule.has_scheme(),
    })
}
