//! Python packages the tests need (an independent OpenAPI validator), installed by the tests
//! themselves from `tests/<folder>/requirements.txt`, which pins every package, transitive ones
//! included, with its hashes: nothing has to be installed by hand beyond Python 3 and its
//! `venv` module.
//!
//! The virtual environment lives under cargo's scratch folder for tests
//! (`target/tmp/pypi/<folder>`), so it never lands in the tree and `cargo clean` removes it.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use super::npm::{fnv, run, scratch, source};

const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

/// The Python interpreter of a virtual environment holding exactly `tests/<folder>`'s pinned
/// requirements, created or re-created only when the requirements (or the Python that runs
/// them) changed. A file lock keeps concurrent test processes apart; callers keep the result
/// in a `OnceLock` so that each process asks at most once. `purpose` says in the error why
/// Python is needed.
pub fn venv(folder: &str, purpose: &str) -> Result<PathBuf, String> {
    let requirements = source(folder).join("requirements.txt");
    let pinned = fs::read(&requirements)
        .map_err(|e| format!("cannot read tests/{folder}/requirements.txt: {e}"))?;
    let python = require_python(purpose)?;
    let dir = scratch().join("pypi").join(folder);
    fs::create_dir_all(scratch()).map_err(|e| format!("cannot create {:?}: {e}", scratch()))?;
    let guard = File::create(scratch().join("pypi-install.lock"))
        .map_err(|e| format!("cannot create the pip lock file: {e}"))?;
    guard
        .lock()
        .map_err(|e| format!("cannot lock the pip lock file: {e}"))?;
    let interpreter = dir.join("bin").join("python");
    let fingerprint = format!("{:x} {}", fnv(&pinned), python.trim());
    let marker = dir.join(".route-guard-installed");
    if fs::read_to_string(&marker).is_ok_and(|found| found == fingerprint) {
        return Ok(interpreter);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| format!("cannot remove the old {dir:?}: {e}"))?;
    }
    let log = scratch().join(format!("pip-install-{folder}.log"));
    let mut create = Command::new("python3");
    create.arg("-m").arg("venv").arg(&dir);
    run(create, &log, INSTALL_TIMEOUT).map_err(|e| {
        format!(
            "`python3 -m venv` failed: {purpose}. Install Python's venv module (e.g. \
             `apt-get install python3-venv`) and run the tests again: {e}"
        )
    })?;
    let mut install = Command::new(&interpreter);
    install
        .args(["-m", "pip", "install", "--require-hashes", "--no-deps"])
        .args(["--disable-pip-version-check", "--no-input", "-r"])
        .arg(&requirements);
    run(install, &log, INSTALL_TIMEOUT)
        .map_err(|e| format!("installing tests/{folder}/requirements.txt failed: {e}"))?;
    fs::write(&marker, fingerprint).map_err(|e| format!("cannot write {marker:?}: {e}"))?;
    Ok(interpreter)
}

/// What `python3 --version` prints, or an error that says how to install it.
fn require_python(purpose: &str) -> Result<String, String> {
    match Command::new("python3").arg("--version").output() {
        Ok(output) if output.status.success() => {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        }
        _ => Err(format!(
            "`python3` is not on PATH: {purpose}, installed with pip. Install Python 3 with its \
             venv module (e.g. `apt-get install python3 python3-venv`) and run the tests again"
        )),
    }
}

/// The interpreter of the venv holding `openapi-spec-validator`, installed once per process.
fn validator() -> &'static Path {
    static PYTHON: OnceLock<Result<std::path::PathBuf, String>> = OnceLock::new();
    let python = PYTHON.get_or_init(|| {
        venv(
            "openapi",
            "the OpenAPI tests validate documents with openapi-spec-validator",
        )
    });
    python.as_deref().unwrap_or_else(|e| panic!("{e}"))
}

/// What `openapi-spec-validator` says of `doc`: `Ok` if valid, its complaint otherwise.
pub fn validate_openapi(doc: &Value, name: &str) -> Result<(), String> {
    let file = scratch().join(format!("openapi-{name}.json"));
    std::fs::write(&file, doc.to_string()).unwrap_or_else(|e| panic!("{file:?}: {e}"));
    let script = "import json, sys\n\
                  from openapi_spec_validator import validate\n\
                  from openapi_spec_validator.validation.exceptions import OpenAPIValidationError\n\
                  try:\n    validate(json.load(open(sys.argv[1])))\n\
                  except OpenAPIValidationError as error:\n    sys.exit(str(error))\n";
    let output = Command::new(validator())
        .args(["-c", script])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("the validator did not start: {e}"));
    match output.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
        _ => panic!(
            "the validator failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}
