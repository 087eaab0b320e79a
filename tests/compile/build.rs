//! The `.stderr` files of `ui/fail` and `ui/declared/fail` are compared byte for byte with what
//! rustc prints, so they hold for the rustc they were recorded with only. On any other rustc
//! those suites are skipped (`#[cfg_attr(not(recorded_rustc), ignore)]`), and this script says
//! so as a cargo warning whenever it runs (a first build, or a change of toolchain), besides
//! the `ignored` line of each test: a skipped suite must not pass for a green one.

use std::process::Command;

/// The rustc, stable, that recorded the `.stderr` files (`TRYBUILD=overwrite` re-records).
const RECORDED: &str = "1.95";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(recorded_rustc)");
    println!("cargo::rerun-if-changed=build.rs");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(&rustc)
        .arg("--version")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default();
    // "rustc 1.95.0 (59807616e 2026-04-14)"; betas and nightlies carry a `-` suffix.
    let number = version.split_whitespace().nth(1).unwrap_or_default();
    if number.starts_with(&format!("{RECORDED}.")) && !number.contains('-') {
        println!("cargo::rustc-cfg=recorded_rustc");
    } else {
        println!(
            "cargo::warning=SKIPPED: the compile-fail suites (ui/fail, ui/declared/fail) are \
             recorded with rustc {RECORDED} stable and this is {version:?}; they will show as \
             ignored. Run them with `cargo +{RECORDED} test -p route-guard-compile-tests`."
        );
    }
}
