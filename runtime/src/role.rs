//! Typed roles: an application enum whose variants name roles.

/// A fieldless enum whose variants are roles; derive it with `#[derive(RoleName)]`.
///
/// Guards accept its variants (`#[require_role(Role::Admin)]`), so a misspelled role is a
/// compile error at that token.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set of typed roles",
    label = "typed roles must be variants of an enum that derives `RoleName`",
    note = "add `#[derive(route_guard::RoleName)]` to the enum, or write the role as a string: `\"admin\"`"
)]
pub trait RoleName {
    /// Every variant's role name, in declaration order.
    const NAMES: &'static [&'static str];

    /// This variant's role name.
    fn role_name(&self) -> &'static str;
}

/// The name of variant `index` of `R`, at compile time. Used by the guard attributes.
#[doc(hidden)]
#[must_use]
#[allow(clippy::indexing_slicing)] // evaluated in a `const`: a bad index is a compile error
pub const fn role_name<R: RoleName>(index: usize) -> &'static str {
    R::NAMES[index]
}
