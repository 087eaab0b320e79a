//! The map in ARCHITECTURE.md is kept: the runtime's subsystems depend on each other in one
//! direction only, as its table says, and no macro module imports the entry module.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Each subsystem of `runtime/src` and the ones it may use.
const ALLOWED: &[(&str, &[&str])] = &[
    ("openapi", &["auth", "guard", "policy", "refusal"]),
    (
        "guard",
        &[
            "auth", "client", "config", "identity", "metadata", "observe", "policy", "refusal",
            "store",
        ],
    ),
    (
        "auth",
        &["config", "identity", "observe", "refusal", "store"],
    ),
    ("observe", &["client", "config", "identity", "refusal"]),
    ("metadata", &["config"]),
    ("store", &["config", "identity", "refusal"]),
    ("policy", &["client", "identity", "refusal"]),
    ("client", &["config"]),
    ("identity", &["config"]),
    ("refusal", &[]),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.map(|e| e.path()).unwrap_or_default();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            into.push(path);
        }
    }
}

/// The `crate::<module>` names the code of `dir` refers to, doc comments left out.
fn uses(dir: &Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    let mut used = BTreeSet::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap_or_default();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let rest = line.get(at + "crate::".len()..).unwrap_or_default();
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    used.insert(name);
                }
            }
        }
    }
    used
}

#[test]
fn runtime_subsystems_depend_downwards_only() {
    let src = root().join("runtime/src");
    let subsystems: BTreeSet<&str> = ALLOWED.iter().map(|(name, _)| *name).collect();
    let mut wrong = Vec::new();
    for (subsystem, allowed) in ALLOWED {
        for used in uses(&src.join(subsystem)) {
            let is_subsystem = subsystems.contains(used.as_str()) || used == "config";
            if is_subsystem && used != *subsystem && !allowed.contains(&used.as_str()) {
                wrong.push(format!("{subsystem} uses {used}"));
            }
        }
    }
    assert!(wrong.is_empty(), "dependencies that run upwards: {wrong:?}");
    // The walk saw real code: `guard` uses most of the others, `openapi` the guard.
    assert!(uses(&src.join("guard")).contains("auth"));
    assert!(uses(&src.join("openapi")).contains("guard"));
}

#[test]
fn no_macro_module_imports_the_entry() {
    let src = root().join("macros/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        if file.ends_with("lib.rs") || file.ends_with("entry.rs") {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap_or_default();
        assert!(
            !text.contains("crate::entry"),
            "{} imports the entry module",
            file.display()
        );
    }
}

/// The README's promise that metrics cost nothing unless asked for: the `metrics` crate is an
/// optional dependency of the runtime, enabled by its `metrics` feature alone and not by
/// default, and named in one module only. (A use outside `cfg(feature = "metrics")` would not
/// build without the feature, which `.ci/run` builds.)
#[test]
fn metrics_are_opt_in() {
    let manifest = fs::read_to_string(root().join("runtime/Cargo.toml")).unwrap_or_default();
    let line = |prefix: &str| {
        manifest
            .lines()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        line("metrics = {"),
        "metrics = { workspace = true, optional = true }"
    );
    assert_eq!(line("metrics = ["), r#"metrics = ["dep:metrics"]"#);
    assert!(!line("default = ").contains("metrics"), "{manifest}");
    let enabling: Vec<String> = manifest
        .lines()
        .filter(|line| line.contains("dep:metrics"))
        .map(str::to_owned)
        .collect();
    assert_eq!(enabling, [r#"metrics = ["dep:metrics"]"#]);
    // In the code, `metrics::` paths appear only in the module that records them.
    let mut files = Vec::new();
    rust_files(&root().join("runtime/src"), &mut files);
    for file in files {
        let text = fs::read_to_string(&file).unwrap_or_default();
        let uses = text.lines().filter(|l| l.contains(" metrics::")).count()
            + text.lines().filter(|l| l.contains("(metrics::")).count();
        let recorder = file.ends_with("observe/instruments.rs");
        assert!(
            uses == 0 || recorder,
            "{} uses the metrics crate outside observe/instruments.rs",
            file.display()
        );
    }
}
