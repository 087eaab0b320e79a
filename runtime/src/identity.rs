//! Who the caller is, once their credentials have been verified.

use std::fmt;

use serde_json::{Map, Value};

/// The verified identity of a caller: subject, roles and every claim of the credential.
///
/// An identity is built once per request by the registered authenticator and shared by every
/// guard on the route and by [`Authenticated`](crate::Authenticated).
#[derive(Clone, PartialEq)]
pub struct Identity {
    subject: String,
    roles: Roles,
    claims: Value,
}

impl Identity {
    /// An identity with a subject, its roles and the claims it was built from.
    ///
    /// `claims` should be a JSON object; anything else is kept as an empty object.
    pub fn new<I, R>(subject: impl Into<String>, roles: I, claims: Map<String, Value>) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        Identity {
            subject: subject.into(),
            roles: Roles::new(roles.into_iter().map(Into::into)),
            claims: Value::Object(claims),
        }
    }

    /// The subject (`sub`) the credential was issued to.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The caller's roles, in sorted order without repeats.
    #[must_use]
    pub fn roles(&self) -> &Roles {
        &self.roles
    }

    /// Whether the caller holds `role` (compared exactly, case-sensitively).
    #[must_use]
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains(role)
    }

    /// Every claim of the credential, as a JSON object.
    #[must_use]
    pub fn claims(&self) -> &Map<String, Value> {
        match &self.claims {
            Value::Object(map) => map,
            _ => empty_map(),
        }
    }

    /// The claims as a JSON value, for deserializing an application's own claims type.
    pub(crate) fn claims_value(&self) -> &Value {
        &self.claims
    }
}

fn empty_map() -> &'static Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

impl fmt::Debug for Identity {
    // Claims are left out: they are the token's payload and may hold personal data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("subject", &self.subject)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// A caller's set of roles: sorted, without repeats, searched in logarithmic time.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Roles(Box<[Box<str>]>);

impl Roles {
    /// Collects roles, sorting them and dropping repeats.
    pub fn new(roles: impl IntoIterator<Item = String>) -> Self {
        let mut roles: Vec<Box<str>> = roles.into_iter().map(String::into_boxed_str).collect();
        roles.sort_unstable();
        roles.dedup();
        Roles(roles.into_boxed_slice())
    }

    /// Whether `role` is in the set.
    #[must_use]
    pub fn contains(&self, role: &str) -> bool {
        self.0.binary_search_by(|held| (**held).cmp(role)).is_ok()
    }

    /// The number of roles.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no roles.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The roles in sorted order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.0.iter().map(|role| &**role)
    }
}

impl fmt::Debug for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl serde::Serialize for Roles {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}
