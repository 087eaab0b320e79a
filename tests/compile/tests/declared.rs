//! Names declared once (`ROUTE_GUARD_ROLES`, `ROUTE_GUARD_SCOPES`, `ROUTE_GUARD_PERMISSIONS`,
//! `ROUTE_GUARD_SCHEMES`, `ROUTE_GUARD_ISSUERS`, `ROUTE_GUARD_ACRS`, usually in the `[env]` table of `.cargo/config.toml`) are checked at compile time.
//!
//! The declarations must be in the environment of the compiler trybuild runs. Setting them in
//! this process would need `std::env::set_var`, which is `unsafe` (and forbidden here), so the
//! test runs this same binary again with them set, and that run compiles the cases.

use std::process::Command;

#[test]
#[cfg_attr(
    not(recorded_rustc),
    ignore = "SKIPPED: the ui/declared .stderr files are recorded with another rustc (see the \
              build warning of route-guard-compile-tests)"
)]
fn names_outside_the_declarations_do_not_compile() {
    let binary = std::env::current_exe().expect("the test binary knows its path");
    let status = Command::new(binary)
        .args([
            "--exact",
            "compile_with_declarations",
            "--ignored",
            "--test-threads=1",
        ])
        .env("ROUTE_GUARD_ROLES", "admin editor viewer")
        .env("ROUTE_GUARD_SCOPES", "read:items,write:items")
        .env("ROUTE_GUARD_PERMISSIONS", "items:delete")
        .env("ROUTE_GUARD_SCHEMES", "bearer scraper")
        .env("ROUTE_GUARD_ISSUERS", "staff,partners")
        .env("ROUTE_GUARD_ACRS", "mfa hwk")
        .status()
        .expect("the test binary runs");
    assert!(
        status.success(),
        "the cases with declarations failed; see the output above"
    );
}

#[test]
#[ignore = "run by names_outside_the_declarations_do_not_compile, with the declarations set"]
fn compile_with_declarations() {
    assert_eq!(
        std::env::var("ROUTE_GUARD_ROLES").as_deref(),
        Ok("admin editor viewer"),
        "run through names_outside_the_declarations_do_not_compile"
    );
    let cases = trybuild::TestCases::new();
    cases.pass("ui/declared/pass/*.rs");
    cases.compile_fail("ui/declared/fail/*.rs");
}
