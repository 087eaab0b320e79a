//! Node packages the tests need (a real OpenID provider, a real country database), installed by
//! the tests themselves from each folder's committed `package-lock.json`: nothing has to be
//! installed by hand beyond Node.js and npm.
//!
//! The source tree keeps only `tests/<folder>/package.json`, its lock file and the scripts.
//! `npm ci` runs in a copy under cargo's scratch folder for tests (`target/tmp/npm/<folder>`),
//! so `node_modules` and the logs never land in the tree, and `cargo clean` removes them.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

/// `tests/<folder>` in the source tree: the lock file and the scripts.
pub fn source(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(folder)
}

/// Where `tests/<folder>` is installed and run: `node_modules` and the copied scripts.
pub fn dir(folder: &str) -> PathBuf {
    scratch().join("npm").join(folder)
}

/// Cargo's scratch folder for integration tests (`target/tmp`).
pub fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// `npm ci` for `tests/<folder>` into [`dir`], only when the installed tree does not match the
/// lock file; every other file of the folder (scripts) is copied fresh. A file lock keeps
/// concurrent test processes apart; callers keep the result in a `OnceLock` so that each
/// process asks at most once. `purpose` says in the error why Node is needed.
pub fn ci(folder: &str, purpose: &str) -> Result<(), String> {
    let source = source(folder);
    let manifest = fs::read_to_string(source.join("package.json"))
        .map_err(|e| format!("cannot read tests/{folder}/package.json: {e}"))?;
    require_node(&manifest, purpose)?;
    require_tool("npm", purpose)?;
    let lock = fs::read(source.join("package-lock.json"))
        .map_err(|e| format!("cannot read tests/{folder}/package-lock.json: {e}"))?;
    let dir = dir(folder);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {dir:?}: {e}"))?;
    let guard = File::create(scratch().join("npm-ci.lock"))
        .map_err(|e| format!("cannot create the npm lock file: {e}"))?;
    guard
        .lock()
        .map_err(|e| format!("cannot lock the npm lock file: {e}"))?;
    copy_files(&source, &dir)?;
    let fingerprint = format!("{:x}", fnv(&lock));
    let marker = dir.join("node_modules").join(".route-guard-installed");
    if fs::read_to_string(&marker).is_ok_and(|found| found == fingerprint) {
        return Ok(());
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir);
    let log = scratch().join(format!("npm-ci-{folder}.log"));
    run(npm, &log, INSTALL_TIMEOUT)
        .map_err(|e| format!("`npm ci` for tests/{folder} (in {dir:?}) failed: {e}"))?;
    fs::write(&marker, fingerprint).map_err(|e| format!("cannot write {marker:?}: {e}"))
}

/// Copies the files (not folders) of `from` into `to`: the manifest, the lock file, scripts.
fn copy_files(from: &Path, to: &Path) -> Result<(), String> {
    let entries = fs::read_dir(from).map_err(|e| format!("cannot read {from:?}: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {from:?}: {e}"))?;
        if !entry.file_type().is_ok_and(|kind| kind.is_file()) {
            continue;
        }
        let target = to.join(entry.file_name());
        let bytes = fs::read(entry.path()).map_err(|e| format!("{:?}: {e}", entry.path()))?;
        if fs::read(&target).is_ok_and(|found| found == bytes) {
            continue;
        }
        // Renamed into place: another test process may be starting the script right now.
        let partial = to.join(format!(".{}.partial", std::process::id()));
        fs::write(&partial, &bytes)
            .and_then(|()| fs::rename(&partial, &target))
            .map_err(|e| format!("cannot copy {:?} to {target:?}: {e}", entry.path()))?;
    }
    Ok(())
}

/// Checks up front that `node` is on PATH and new enough for the manifest's `engines.node`
/// (a `>=X.Y[.Z]` range), rather than letting an old Node fail later on a syntax error.
fn require_node(manifest: &str, purpose: &str) -> Result<(), String> {
    let found = require_tool("node", purpose)?;
    let manifest: serde_json::Value =
        serde_json::from_str(manifest).map_err(|e| format!("package.json: {e}"))?;
    let Some(range) = manifest["engines"]["node"].as_str() else {
        return Ok(());
    };
    let wanted = range
        .strip_prefix(">=")
        .and_then(version)
        .ok_or_else(|| format!("package.json: engines.node {range:?} is not of the form >=X.Y"))?;
    match version(found.trim().trim_start_matches('v')) {
        Some(have) if have >= wanted => Ok(()),
        _ => Err(format!(
            "Node.js {} is too old: {purpose} and need Node.js {range}. Install a newer Node.js \
             (e.g. from nodejs.org or NodeSource) and run the tests again",
            found.trim()
        )),
    }
}

/// `X.Y[.Z]` as numbers, a missing part as 0.
fn version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().split('.').map(|part| part.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next().unwrap_or(Some(0))?;
    let patch = parts.next().unwrap_or(Some(0))?;
    Some((major, minor, patch))
}

/// What `tool --version` prints, or an error that says how to install it.
fn require_tool(tool: &str, purpose: &str) -> Result<String, String> {
    match Command::new(tool).arg("--version").output() {
        Ok(output) if output.status.success() => {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        }
        _ => Err(format!(
            "`{tool}` is not on PATH: {purpose}, installed with npm. Install Node.js and npm \
             (e.g. `apt-get install nodejs npm`) and run the tests again"
        )),
    }
}

/// Runs `command` to completion within `timeout`, its output going to `log` and into the
/// error. The command runs in a process group of its own: on a timeout the whole group (npm
/// and the scripts it started) is killed and waited for, so nothing is left behind.
pub fn run(mut command: Command, log: &Path, timeout: Duration) -> Result<(), String> {
    use std::os::unix::process::CommandExt as _;
    let out = File::create(log).map_err(|e| format!("cannot create {log:?}: {e}"))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut child = command
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let output = || fs::read_to_string(log).unwrap_or_default();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("{status}; its log ({log:?}):\n{}", output()))
            };
        }
        if started.elapsed() > timeout {
            let killed = kill_group(&mut child);
            return Err(format!(
                "no answer within {timeout:?}; {killed}; its log ({log:?}):\n{}",
                output()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kills the process group `child` leads, then reaps `child`; says what happened.
fn kill_group(child: &mut Child) -> String {
    // `kill -KILL -- -PGID`: the workspace forbids `unsafe`, so no libc call.
    let group = format!("-{}", child.id());
    let signalled = Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .is_ok_and(|status| status.success());
    if !signalled {
        let _ = child.kill();
    }
    match child.wait() {
        Ok(status) if signalled => format!("its process group was killed ({status})"),
        Ok(status) => format!("the command was killed ({status}), its process group could not be"),
        Err(e) => format!("the command could not be reaped: {e}"),
    }
}

/// A stable fingerprint of the lock file (FNV-1a; not a security measure).
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
