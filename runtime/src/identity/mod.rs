//! Who the caller is, once their credentials have been verified.

pub(crate) mod claims;
pub(crate) mod hierarchy;
pub(crate) mod role;

pub use claims::ClaimPath;
pub use hierarchy::{RoleHierarchy, RoleHierarchyBuilder};
pub use role::RoleName;

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

/// The verified identity of a caller: subject, roles, scopes, permissions and every claim of
/// the credential.
///
/// An identity is built once per request by the registered authenticator and shared by every
/// guard on the route and by [`Authenticated`](crate::Authenticated).
#[derive(Clone, PartialEq)]
pub struct Identity {
    subject: String,
    roles: NameSet,
    scopes: NameSet,
    permissions: NameSet,
    claims: Value,
    scheme: Option<Arc<str>>,
    issuer: Option<Arc<str>>,
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
            roles: NameSet::new(roles.into_iter().map(Into::into)),
            scopes: NameSet::default(),
            permissions: NameSet::default(),
            claims: Value::Object(claims),
            scheme: None,
            issuer: None,
        }
    }

    /// The identity with these OAuth scopes granted to its credential.
    #[must_use]
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = NameSet::new(scopes.into_iter().map(Into::into));
        self
    }

    /// A copy of this identity holding `roles` as well: what an [`Enrich`](crate::Enrich) hook
    /// returns after loading roles from the application's store.
    #[must_use]
    pub fn with_extra_roles<I, S>(&self, roles: I) -> Identity
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut identity = self.clone();
        let stated = self.roles.iter().map(str::to_owned);
        identity.roles = NameSet::new(stated.chain(roles.into_iter().map(Into::into)));
        identity
    }

    /// The identity with these permissions.
    #[must_use]
    pub fn with_permissions<I, S>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions = NameSet::new(permissions.into_iter().map(Into::into));
        self
    }

    /// The identity as accepted by the authenticator named `scheme` (see
    /// [`Authenticator::name`](crate::Authenticator::name)). The guard sets it; an
    /// authenticator may set it itself to spare the guard a copy.
    #[must_use]
    pub fn with_scheme(mut self, scheme: impl Into<Arc<str>>) -> Self {
        self.scheme = Some(scheme.into());
        self
    }

    /// The identity as vouched for by the issuer the configuration names `issuer` (a
    /// [`JwtAuthenticator`](crate::JwtAuthenticator)'s
    /// [`name`](crate::jwt::JwtAuthenticatorBuilder::name), or its name in
    /// [`Issuers`](crate::Issuers)).
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<Arc<str>>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The name of the authenticator that accepted the credentials: `"bearer"`, `"basic"`,
    /// `"api_key"`, or the name it was given. What a rule's `scheme(..)` compares with.
    #[must_use]
    pub fn scheme(&self) -> Option<&str> {
        self.scheme.as_deref()
    }

    /// The configured name of the issuer that vouched for the credentials, if they came from
    /// one with a name; its `iss` URL is in [`claims`](Self::claims). What a rule's
    /// `issuer(..)` compares with.
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The subject (`sub`) the credential was issued to.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The caller's roles as the credential states them, sorted without repeats. Roles a
    /// [`RoleHierarchy`] implies are not listed.
    #[must_use]
    pub fn roles(&self) -> &NameSet {
        &self.roles
    }

    /// Whether the credential states `role` (compared exactly, case-sensitively).
    #[inline]
    #[must_use]
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains(role)
    }

    /// The OAuth scopes granted to the credential.
    #[must_use]
    pub fn scopes(&self) -> &NameSet {
        &self.scopes
    }

    /// Whether the credential was granted `scope`.
    #[inline]
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// The caller's permissions.
    #[must_use]
    pub fn permissions(&self) -> &NameSet {
        &self.permissions
    }

    /// Whether the caller holds `permission`.
    #[inline]
    #[must_use]
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
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
            .field("scopes", &self.scopes)
            .field("permissions", &self.permissions)
            .field("scheme", &self.scheme)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// A set of names (roles, scopes, permissions): sorted, without repeats.
///
/// Lookups in a set of more than 8 names go through a hash table of positions
/// (hashbrown's), so a role check costs the same few nanoseconds whether the set holds 16 names
/// or 1000; smaller sets, such as the two or three scopes of a typical token, are scanned,
/// which is as fast and spares every verified token the table's allocation. Lookups never
/// allocate.
#[derive(Clone, Default)]
pub struct NameSet {
    /// The names, sorted.
    names: Box<[Box<str>]>,
    /// Positions in `names`, by the names' [`hash`]; empty for sets of at most [`SCAN_MAX`].
    index: hashbrown::HashTable<usize>,
}

/// The largest set searched by scanning rather than through its hash table.
const SCAN_MAX: usize = 8;

/// The roles held by a caller.
pub type Roles = NameSet;

/// The hash of the lookup table: fixed, so a set built on one thread is searched from any
/// other. Names come from verified credentials and the application's own rules; a collision
/// costs one more comparison, never a wrong answer.
#[inline]
fn hash(name: &str) -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    // The bytes alone: `str`'s `Hash` adds a terminator only composite keys need.
    let mut hasher = foldhash::fast::FixedState::default().build_hasher();
    hasher.write(name.as_bytes());
    hasher.finish()
}

impl NameSet {
    /// Collects names, sorting them and dropping repeats.
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        let mut names: Vec<Box<str>> = names.into_iter().map(String::into_boxed_str).collect();
        names.sort_unstable();
        names.dedup();
        let mut index = hashbrown::HashTable::new();
        if names.len() > SCAN_MAX {
            index.reserve(names.len(), |_: &usize| 0);
            for (position, name) in names.iter().enumerate() {
                let rehash = |&held: &usize| names.get(held).map_or(0, |name| hash(name));
                index.insert_unique(hash(name), position, rehash);
            }
        }
        NameSet {
            names: names.into_boxed_slice(),
            index,
        }
    }

    /// Whether `name` is in the set.
    #[inline]
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        if self.names.len() <= SCAN_MAX {
            return self.names.iter().any(|held| **held == *name);
        }
        let is_name =
            |&position: &usize| self.names.get(position).is_some_and(|held| **held == *name);
        self.index.find(hash(name), is_name).is_some()
    }

    /// The number of names.
    #[must_use]
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The names in sorted order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.names.iter().map(|name| &**name)
    }
}

impl PartialEq for NameSet {
    fn eq(&self, other: &Self) -> bool {
        self.names == other.names
    }
}

impl Eq for NameSet {}

impl fmt::Debug for NameSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl serde::Serialize for NameSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_small_and_large_find_exactly_their_names_in_sorted_order() {
        // Both sides of SCAN_MAX: scanned sets and hash-indexed ones.
        for size in 0..=3 * SCAN_MAX {
            let names: Vec<String> = (0..size).rev().map(|i| format!("role-{i:02}")).collect();
            let mut doubled = names.clone();
            doubled.extend(names.iter().cloned());
            let set = NameSet::new(doubled);
            assert_eq!(set.len(), size);
            let mut sorted = names.clone();
            sorted.sort();
            assert!(set.iter().eq(sorted.iter().map(String::as_str)), "{size}");
            for name in &names {
                assert!(set.contains(name), "{name} in {size}");
            }
            for absent in ["", "role-", "role-0", "ROLE-00", "role-000", "role-99"] {
                assert!(!set.contains(absent), "{absent} in {size}");
            }
        }
    }
}
