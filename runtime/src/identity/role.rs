//! Typed roles: an application enum whose variants name roles.

/// A fieldless enum whose variants are roles; derive it with `#[derive(RoleName)]`.
///
/// Guards accept its variants (`#[require_role(Role::Admin)]`), so a misspelled role is a
/// compile error at that token.
///
/// Each variant is paired with its name in [`ROLES`](Self::ROLES), and guards find a variant's
/// name by matching the variant itself, never by its position or discriminant: an enum whose
/// discriminants mirror database ids is safe however they are numbered.
///
/// # Implementing it by hand
///
/// ```
/// use route_guard::RoleName;
///
/// enum Role {
///     Viewer = 1,
///     Admin = 0,
/// }
///
/// impl RoleName for Role {
///     const ROLES: &'static [(Self, &'static str)] =
///         &[(Role::Viewer, "viewer"), (Role::Admin, "admin")];
/// }
///
/// assert_eq!(Role::Admin.role_name(), "admin");
/// ```
///
/// A guard naming a variant that `ROLES` leaves out is a compile error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set of typed roles",
    label = "typed roles must be variants of an enum that derives `RoleName`",
    note = "add `#[derive(route_guard::RoleName)]` to the enum, or write the role as a string: `\"admin\"`"
)]
pub trait RoleName: Sized + 'static {
    /// Every variant, paired with its role name.
    const ROLES: &'static [(Self, &'static str)];

    /// This variant's role name: the one [`ROLES`](Self::ROLES) pairs it with (the empty
    /// string, which no identity holds, if it is left out).
    fn role_name(&self) -> &'static str {
        let this = core::mem::discriminant(self);
        Self::ROLES
            .iter()
            .find(|(variant, _)| core::mem::discriminant(variant) == this)
            .map_or("", |(_, name)| name)
    }
}

/// The name a guard found for a typed role by matching its variant against
/// [`RoleName::ROLES`] (the expansion does the matching, since only it can name the variant).
/// Evaluated in a constant: a variant missing from `ROLES` is a compile error, not a panic at
/// run time.
#[doc(hidden)]
#[must_use]
#[allow(clippy::panic)] // const-evaluated only: the panic is a compile error at the guard
pub const fn role_name(found: Option<&'static str>) -> &'static str {
    match found {
        Some(name) => name,
        None => panic!(
            "this typed role's variant is missing from its enum's `RoleName::ROLES`; \
             derive `RoleName` rather than implementing it by hand"
        ),
    }
}
