//! Node packages the tests need (a real OpenID provider, a real country database), installed by
//! the tests themselves from each folder's committed `package-lock.json`: nothing has to be
//! installed by hand beyond Node.js and npm.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

/// `tests/<folder>`.
pub fn dir(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(folder)
}

/// `npm ci` in `tests/<folder>`, only when the installed tree does not match the lock file. A
/// file lock keeps concurrent test processes apart; callers keep the result in a `OnceLock`
/// so that each process asks at most once. `purpose` says in the error why Node is needed.
pub fn ci(folder: &str, purpose: &str) -> Result<(), String> {
    require_tool("node", purpose)?;
    require_tool("npm", purpose)?;
    let dir = dir(folder);
    let lock = fs::read(dir.join("package-lock.json"))
        .map_err(|e| format!("cannot read tests/{folder}/package-lock.json: {e}"))?;
    let fingerprint = format!("{:x}", fnv(&lock));
    let marker = dir.join("node_modules").join(".route-guard-installed");
    let guard = File::create(std::env::temp_dir().join("route-guard-npm-ci.lock"))
        .map_err(|e| format!("cannot create the npm lock file: {e}"))?;
    guard
        .lock()
        .map_err(|e| format!("cannot lock the npm lock file: {e}"))?;
    if fs::read_to_string(&marker).is_ok_and(|found| found == fingerprint) {
        return Ok(());
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir);
    run(npm, INSTALL_TIMEOUT).map_err(|e| format!("`npm ci` in tests/{folder} failed: {e}"))?;
    fs::write(&marker, fingerprint).map_err(|e| format!("cannot write {marker:?}: {e}"))
}

fn require_tool(tool: &str, purpose: &str) -> Result<(), String> {
    match Command::new(tool).arg("--version").output() {
        Ok(output) if output.status.success() => Ok(()),
        _ => Err(format!(
            "`{tool}` is not on PATH: {purpose}, installed with npm. Install Node.js and npm \
             (e.g. `apt-get install nodejs npm`) and run the tests again"
        )),
    }
}

/// Runs `command` to completion within `timeout`, with its output in the error.
fn run(mut command: Command, timeout: Duration) -> Result<(), String> {
    let log = std::env::temp_dir().join(format!("route-guard-npm-{}.log", std::process::id()));
    let out = File::create(&log).map_err(|e| e.to_string())?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut child = command
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let output = fs::read_to_string(&log).unwrap_or_default();
            return if status.success() {
                Ok(())
            } else {
                Err(format!("{status}:\n{output}"))
            };
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            return Err(format!("no answer within {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A stable fingerprint of the lock file (FNV-1a; not a security measure).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
