//! Compile-time behaviour of the guard attributes: what must compile (`ui/pass`) and what must
//! be refused, with which message and where (`ui/fail`). `TRYBUILD=overwrite` regenerates the
//! recorded `.stderr` files.

/// Every pass case must build, on any toolchain. Each file also says `#![deny(warnings)]`,
/// since trybuild would otherwise accept a build that warns.
#[test]
fn pass() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
}

/// The `.stderr` files are compared byte for byte, and rustc rewords and reformats its
/// diagnostics between releases. They are recorded with rustc 1.95 stable (`build.rs` holds
/// the version); on any other toolchain this test is skipped rather than failing on rustc's
/// wording instead of ours, and the build warns that it was.
#[test]
#[cfg_attr(
    not(recorded_rustc),
    ignore = "SKIPPED: the ui/fail .stderr files are recorded with another rustc (see the \
              build warning of route-guard-compile-tests)"
)]
fn fail() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/fail/*.rs");
}
