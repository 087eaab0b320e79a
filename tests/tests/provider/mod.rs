//! The real OpenID provider of `tests/oidc/` (panva's `oidc-provider`, plus `jose` as an
//! independent token minter), started once per test process on 127.0.0.1 after its packages
//! are installed from the committed lock file. Nothing has to be installed by hand beyond
//! Node.js and npm.
//!
//! Starting it costs eight RSA key generations, seconds on a busy two-core machine, so the
//! process is shared: each test gets a tenant of its own (its own issuer, signing key, `/jwks`
//! failure mode and request counts), and tests run side by side without seeing each other.
#![allow(dead_code, unreachable_pub)] // each test crate uses its own subset

use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _};
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

/// One test's provider: a tenant of the shared process, whose issuer is `base`.
pub struct Provider {
    pub base: String,
}

/// The shared process. Never dropped: it exits by itself when the test process ends and its
/// stdin closes, however the test process ends.
struct Server {
    origin: String,
    _child: Child,
    _stdin: ChildStdin,
}

/// Starts the shared process on first use; the same answer for every later caller.
fn server() -> &'static Result<Server, String> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    SERVER.get_or_init(|| {
        npm::ci(
            "oidc",
            "the OpenID provider integration tests run panva's oidc-provider on Node.js",
        )?;
        spawn()
    })
}

fn spawn() -> Result<Server, String> {
    // The provider's log, under cargo's scratch folder for tests rather than the tree or /tmp.
    let log = npm::scratch().join(format!("oidc-provider-{}.log", std::process::id()));
    let stderr = File::create(&log).map_err(|e| format!("cannot create {log:?}: {e}"))?;
    let mut child = Command::new("node")
        .arg("server.mjs")
        .current_dir(npm::dir("oidc"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start `node server.mjs` in {:?}: {e}",
                npm::dir("oidc")
            )
        })?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err("the provider has no stdin or stdout".to_owned());
    };
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
        let _ = child.wait();
        let mut output = String::new();
        let _ = File::open(&log).and_then(|mut f| f.read_to_string(&mut output));
        return Err(format!(
            "the OpenID provider did not start within {START_TIMEOUT:?}: {line:?}\n{output}"
        ));
    };
    Ok(Server {
        origin: format!("http://127.0.0.1:{port}"),
        _child: child,
        _stdin: stdin,
    })
}

/// The resource server's own clients at an opaque tenant's introspection endpoint, by
/// authentication method, and their secret.
pub const INTROSPECTOR_BASIC: &str = "api-basic";
pub const INTROSPECTOR_POST: &str = "api-post";
pub const INTROSPECTOR_SECRET: &str = "api-secret";

/// A provider of the calling test's own: a new tenant of the shared process.
pub async fn start() -> Provider {
    start_tenant("").await
}

/// A provider of the calling test's own whose access tokens are opaque: only its introspection
/// endpoint can read them, and its revocation endpoint withdraws them.
pub async fn start_opaque() -> Provider {
    start_tenant("?format=opaque").await
}

async fn start_tenant(query: &str) -> Provider {
    let server = match server() {
        Ok(server) => server,
        Err(error) => panic!("{error}"),
    };
    let url = format!("{}/admin/tenant{query}", server.origin);
    let created = send(client().post(&url), &url).await;
    match created["issuer"].as_str() {
        Some(issuer) => Provider {
            base: issuer.to_owned(),
        },
        None => panic!("{url} answered {created}"),
    }
}

/// Sends `request` and returns its JSON answer, failing the test on anything else: a test that
/// counts requests at the provider must not count zero because the counter could not be read.
async fn send(request: reqwest::RequestBuilder, what: &str) -> serde_json::Value {
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = response.status();
    let body = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        status.is_success(),
        "{what}: {status} {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", String::from_utf8_lossy(&body)))
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

    /// A DPoP-bound access token (RFC 9449) with `scope`, for a key pair the provider's side
    /// (jose) makes: the token, its type as the token endpoint says it, and the private JWK.
    pub async fn dpop_token(&self, scope: &str) -> (String, String, serde_json::Value) {
        self.dpop_token_signed(scope, "ES256").await
    }

    /// [`dpop_token`](Self::dpop_token) for a key pair of algorithm `alg`.
    pub async fn dpop_token_signed(
        &self,
        scope: &str,
        alg: &str,
    ) -> (String, String, serde_json::Value) {
        let url = format!("{}/jose/dpop-token?scope={scope}&alg={alg}", self.base);
        let answer = send(client().post(&url), &url).await;
        let token = answer["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let kind = answer["token_type"].as_str().unwrap_or_default().to_owned();
        (token, kind, answer["jwk"].clone())
    }

    /// A DPoP proof signed by jose, as `spec` says (see `dpopProof` in `server.mjs`).
    pub async fn dpop_proof(&self, spec: &serde_json::Value) -> String {
        let url = format!("{}/jose/dpop-proof", self.base);
        let response = client()
            .post(&url)
            .header("content-type", "application/json")
            .body(spec.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(response.status().is_success(), "{url}: {response:?}");
        response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    /// POSTs to an admin route of `server.mjs` for this tenant.
    pub async fn admin(&self, path_and_query: &str) {
        let url = format!("{}{path_and_query}", self.base);
        send(client().post(&url), &url).await;
    }

    /// How many times this tenant's `/jwks` was fetched.
    pub async fn jwks_hits(&self) -> u64 {
        self.stat("jwks").await
    }

    /// How many times this tenant's discovery document was fetched.
    pub async fn discovery_hits(&self) -> u64 {
        self.stat("discovery").await
    }

    /// How many times this tenant's introspection endpoint was called.
    pub async fn introspection_hits(&self) -> u64 {
        self.stat("introspection").await
    }

    /// Revokes `token` at the provider's revocation endpoint (RFC 7009).
    pub async fn revoke(&self, token: &str) {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", token);
        let url = format!("{}/token/revocation", self.base);
        let response = client()
            .post(&url)
            .basic_auth(CLIENT.0, Some(CLIENT.1))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.finish())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(response.status().is_success(), "{url}: {response:?}");
    }

    async fn stat(&self, name: &str) -> u64 {
        let stats = self.get_json("/admin/stats").await;
        stats[name]
            .as_u64()
            .unwrap_or_else(|| panic!("/admin/stats has no count {name:?}: {stats}"))
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let url = format!("{}{path}", self.base);
        send(client().get(&url), &url).await
    }

    pub async fn get_text(&self, path: &str) -> String {
        let response = client()
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(response.status().is_success(), "{path}: {response:?}");
        response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"))
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
