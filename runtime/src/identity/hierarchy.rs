//! Role hierarchies: `admin ⊇ editor ⊇ viewer`, configured once and honoured by every check.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use crate::config::ConfigError;

/// Which roles include which: a caller holding `admin` also passes checks for the roles
/// `admin` includes, transitively.
///
/// ```
/// use route_guard::RoleHierarchy;
///
/// let hierarchy = RoleHierarchy::builder()
///     .includes("admin", ["editor"])
///     .includes("editor", ["viewer"])
///     .build()?;
/// assert!(hierarchy.implies("admin", "viewer"));
/// assert!(!hierarchy.implies("viewer", "editor"));
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleHierarchy {
    /// For each role, the roles that include it (directly or not), sorted.
    seniors: BTreeMap<Box<str>, Box<[Box<str>]>>,
}

/// Collects the edges of a [`RoleHierarchy`]; see [`RoleHierarchy::builder`].
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RoleHierarchyBuilder {
    includes: BTreeMap<String, BTreeSet<String>>,
}

impl RoleHierarchy {
    /// Starts a hierarchy.
    pub fn builder() -> RoleHierarchyBuilder {
        RoleHierarchyBuilder::default()
    }

    /// The empty hierarchy: every role stands alone.
    #[must_use]
    pub fn none() -> &'static RoleHierarchy {
        static NONE: OnceLock<RoleHierarchy> = OnceLock::new();
        NONE.get_or_init(RoleHierarchy::default)
    }

    /// Whether holding `senior` grants `role` (a role implies itself).
    #[must_use]
    pub fn implies(&self, senior: &str, role: &str) -> bool {
        senior == role || self.implied_by(role).iter().any(|s| &**s == senior)
    }

    /// The roles that grant `role`, other than `role` itself.
    pub(crate) fn implied_by(&self, role: &str) -> &[Box<str>] {
        self.seniors.get(role).map_or(&[], |seniors| seniors)
    }
}

impl RoleHierarchyBuilder {
    /// Declares that holding `role` grants each of `included`.
    pub fn includes<I, S>(mut self, role: &str, included: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.includes
            .entry(role.to_owned())
            .or_default()
            .extend(included.into_iter().map(Into::into));
        self
    }

    /// Computes the transitive closure; a cycle is a configuration error.
    pub fn build(self) -> Result<RoleHierarchy, ConfigError> {
        let mut seniors: BTreeMap<Box<str>, BTreeSet<Box<str>>> = BTreeMap::new();
        for senior in self.includes.keys() {
            let mut path = vec![senior.as_str()];
            let mut reached = BTreeSet::new();
            self.walk(senior, &mut path, &mut reached)?;
            for junior in reached {
                seniors
                    .entry(junior.into())
                    .or_default()
                    .insert(senior.as_str().into());
            }
        }
        Ok(RoleHierarchy {
            seniors: seniors
                .into_iter()
                .map(|(role, set)| (role, set.into_iter().collect()))
                .collect(),
        })
    }

    /// Collects every role below `role`, failing on a path that comes back to itself.
    fn walk<'a>(
        &'a self,
        role: &str,
        path: &mut Vec<&'a str>,
        reached: &mut BTreeSet<&'a str>,
    ) -> Result<(), ConfigError> {
        for junior in self.includes.get(role).into_iter().flatten() {
            if path.contains(&junior.as_str()) {
                path.push(junior);
                return Err(ConfigError::new(format!(
                    "the role hierarchy has a cycle: {}",
                    path.join(" includes ")
                )));
            }
            if reached.insert(junior) {
                path.push(junior);
                self.walk(junior, path, reached)?;
                path.pop();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closure_is_transitive_and_directed() {
        let h = RoleHierarchy::builder()
            .includes("admin", ["editor", "billing"])
            .includes("editor", ["viewer"])
            .build()
            .unwrap();
        assert!(h.implies("admin", "viewer"));
        assert!(h.implies("admin", "billing"));
        assert!(h.implies("editor", "viewer"));
        assert!(h.implies("viewer", "viewer"));
        assert!(!h.implies("viewer", "editor"));
        assert!(!h.implies("billing", "viewer"));
        let mut seniors: Vec<_> = h.implied_by("viewer").iter().map(|s| &**s).collect();
        seniors.sort_unstable();
        assert_eq!(seniors, ["admin", "editor"]);
    }

    #[test]
    fn cycles_are_refused_with_the_path() {
        let error = RoleHierarchy::builder()
            .includes("a", ["b"])
            .includes("b", ["c"])
            .includes("c", ["a"])
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("cycle: a includes b includes c includes a"),
            "{error}"
        );
        let error = RoleHierarchy::builder()
            .includes("a", ["a"])
            .build()
            .unwrap_err()
            .to_string();
        assert!(error.contains("a includes a"), "{error}");
    }
}
