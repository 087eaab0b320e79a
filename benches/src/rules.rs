//! The rules and identities the policy benchmark and the allocation test evaluate.

use route_guard::{Identity, Rule};
use serde_json::Map;

/// The role-set sizes measured: the allocation-free promise covers up to 16.
pub const ROLE_COUNTS: [usize; 3] = [16, 100, 1000];

/// Named rules, from a single role to a nested combinator, as the attributes generate them.
pub const RULES: [(&str, Rule); 6] = [
    ("authenticated", Rule::Authenticated),
    ("role, held", Rule::Role("role-0007")),
    ("role, not held", Rule::Role("absent")),
    ("scope", Rule::Scope("write")),
    (
        "any(3 roles)",
        Rule::Any(&[
            Rule::Role("absent-a"),
            Rule::Role("absent-b"),
            Rule::Role("role-0011"),
        ]),
    ),
    (
        "all(role, any, not, scope)",
        Rule::All(&[
            Rule::Role("role-0003"),
            Rule::Any(&[Rule::Role("absent"), Rule::Role("role-0009")]),
            Rule::Not(&Rule::Role("banned")),
            Rule::Scope("write"),
        ]),
    ),
];

/// A caller holding `roles` roles (`role-0000`, `role-0001`, …) and the scopes `read write`.
#[must_use]
pub fn identity(roles: usize) -> Identity {
    let roles = (0..roles).map(|i| format!("role-{i:04}"));
    Identity::new("alice", roles, Map::new()).with_scopes(["read", "write"])
}
