//! Starts the real OpenID provider of `tests/oidc/` (panva's `oidc-provider`, plus `jose` as an
//! independent token minter) on 127.0.0.1, installing its packages from the committed lock
//! file first. Nothing has to be installed by hand beyond Node.js and npm.
#![allow(dead_code, unreachable_pub)] // each test crate uses its own subset

use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use crate::common::npm;

/// The resource indicator the provider issues access tokens for (their `aud`).
pub const RESOURCE: &str = "https://api.route-guard.test";
/// The client-credentials client configured in `server.mjs`.
pub const CLIENT: (&str, &str) = ("reports-client", "reports-secret");

const START_TIMEOUT: Duration = Duration::from_secs(60);

fn oidc_dir() -> PathBuf {
    npm::dir("oidc")
}

/// A running provider; killed when dropped (and, should the test process die first, it exits
/// by itself when its stdin closes).
pub struct Provider {
    pub base: String,
    child: Child,
    _stdin: ChildStdin,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `npm ci` from `tests/oidc/package-lock.json`, once per process.
fn install() -> &'static Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        npm::ci(
            "oidc",
            "the OpenID provider integration tests run panva's oidc-provider on Node.js (>= 20.19)",
        )
    })
}

/// Starts a provider of its own for the calling test.
pub fn start() -> Provider {
    if let Err(error) = install() {
        panic!("{error}");
    }
    // One log per provider, under cargo's scratch folder for tests rather than /tmp.
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("oidc-provider-{}-{n}.log", std::process::id()));
    let stderr = File::create(&log).unwrap_or_else(|e| panic!("cannot create {log:?}: {e}"));
    let mut child = Command::new("node")
        .arg("server.mjs")
        .current_dir(oidc_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `node server.mjs` in tests/oidc: {e}"));
    let stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    let line = receiver.recv_timeout(START_TIMEOUT).unwrap_or_default();
    let port = serde_json::from_str::<serde_json::Value>(&line)
        .ok()
        .and_then(|v| v["port"].as_u64());
    let Some(port) = port else {
        let _ = child.kill();
        let mut output = String::new();
        let _ = File::open(&log).and_then(|mut f| f.read_to_string(&mut output));
        panic!("the OpenID provider did not start within {START_TIMEOUT:?}: {line:?}\n{output}");
    };
    Provider {
        base: format!("http://127.0.0.1:{port}"),
        child,
        _stdin: stdin,
    }
}

impl Provider {
    /// An access token from the token endpoint (client credentials, RFC 6749 §4.4), with
    /// `scope` if given.
    pub async fn token(&self, scope: Option<&str>) -> String {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if let Some(scope) = scope {
            form.append_pair("scope", scope);
        }
        let response = client()
            .post(format!("{}/token", self.base))
            .basic_auth(CLIENT.0, Some(CLIENT.1))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.finish())
            .send()
            .await
            .unwrap_or_else(|e| panic!("token endpoint: {e}"));
        let body = response.bytes().await.unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        match body["access_token"].as_str() {
            Some(token) => token.to_owned(),
            None => panic!("the token endpoint answered {body}"),
        }
    }

    /// POSTs to an admin route of `server.mjs`.
    pub async fn admin(&self, path_and_query: &str) {
        let response = client()
            .post(format!("{}{path_and_query}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path_and_query}: {e}"));
        assert!(
            response.status().is_success(),
            "{path_and_query}: {response:?}"
        );
    }

    /// How many times `/jwks` was fetched.
    pub async fn jwks_hits(&self) -> u64 {
        self.get_json("/admin/stats").await["jwks"]
            .as_u64()
            .unwrap_or(0)
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = client()
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let body = response.bytes().await.unwrap_or_default();
        serde_json::from_slice(&body).unwrap_or_default()
    }

    pub async fn get_text(&self, path: &str) -> String {
        let response = client()
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        response.text().await.unwrap_or_default()
    }
}

fn client() -> reqwest::Client {
    // No pooled connections: each test runs its own runtime.
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `token` with the character at `index` of segment `segment` (0 header, 1 payload,
/// 2 signature) replaced by another base64url character.
pub fn alter(token: &str, segment: usize, index: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let part = &mut parts[segment];
    let mut bytes = part.clone().into_bytes();
    let at = index.min(bytes.len() - 1);
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    *part = String::from_utf8(bytes).unwrap_or_default();
    parts.join(".")
}
