//! Sender-constrained tokens (DPoP, RFC 9449) against real software: panva's `oidc-provider`
//! (`tests/oidc/`, its DPoP feature on) issues a token bound to a key pair its client side
//! (panva's `jose`) made, and jose signs every proof, good and bad; never route-guard. Each
//! case asserts the status and the exact challenges a client sees. Two instances sharing a
//! real Redis server (`common/redis_server.rs`) refuse a proof replayed from one to the other.

mod common;
mod provider;

use actix_web::test::init_service;
use actix_web::{App, get};
use common::redis_server::RedisServer;
use common::*;
use provider::{Provider, RESOURCE};
use route_guard::store::RedisStore;
use route_guard::{
    Dpop, IntrospectionAuthenticator, Jwks, JwtAuthenticator, Preset, RouteGuard, require_scope,
};
use serde_json::{Value, json};

#[get("/reports")]
#[require_scope("read:reports")]
async fn reports() -> &'static str {
    "reports"
}

/// The origin clients call the API at, which their proofs name in `htu`.
const ORIGIN: &str = "https://api.route-guard.test";
const HTU: &str = "https://api.route-guard.test/reports";
const ALGS: &str = "ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512";

fn guard(provider: &Provider, dpop: Dpop) -> RouteGuard {
    let jwt = JwtAuthenticator::builder()
        .preset(Preset::rfc9068())
        .jwks(Jwks::discover(&provider.base))
        .audience(RESOURCE)
        .dpop(dpop)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    guard_with(jwt)
}

fn allowed() -> Dpop {
    Dpop::allowed(ORIGIN).unwrap_or_else(|e| panic!("{e}"))
}

fn dpop_error(error: &str, description: &str) -> String {
    format!(r#"DPoP algs="{ALGS}", error="{error}", error_description="{description}""#)
}

const BARE_BEARER: &str = r#"Bearer realm="test""#;

fn bare_dpop() -> String {
    format!(r#"DPoP algs="{ALGS}""#)
}

/// What a proof sent a second time gets: 401, the plain Bearer challenge beside DPoP's
/// `invalid_dpop_proof`, and nothing of the token echoed.
trait Replayed {
    fn assert_replayed(&self, token: &str);
}

impl Replayed for FullReply {
    fn assert_replayed(&self, token: &str) {
        self.assert_refused(
            401,
            &[
                BARE_BEARER,
                &dpop_error("invalid_dpop_proof", "The DPoP proof was used before"),
            ],
            token,
        );
    }
}

/// A request for /reports with `token` under `Authorization: DPoP` and each of `proofs`.
fn with_proofs(token: &str, proofs: &[&str]) -> actix_web::test::TestRequest {
    let mut req = get("/reports").insert_header(("authorization", format!("DPoP {token}")));
    for proof in proofs {
        req = req.append_header(("dpop", *proof));
    }
    req
}

struct Client {
    provider: Provider,
    token: String,
    jwk: Value,
}

impl Client {
    async fn new(provider: Provider) -> Client {
        let (token, kind, jwk) = provider.dpop_token("read:reports").await;
        assert_eq!(kind, "DPoP", "the provider issued a bound token");
        Client {
            provider,
            token,
            jwk,
        }
    }

    /// A proof for GET /reports with this client's key, changed by `changes`.
    async fn proof(&self, changes: Value) -> String {
        let mut spec = json!({
            "jwk": self.jwk, "htm": "GET", "htu": HTU, "access_token": self.token,
        });
        if let (Some(spec), Some(changes)) = (spec.as_object_mut(), changes.as_object()) {
            spec.extend(changes.clone());
        }
        self.provider.dpop_proof(&spec).await
    }
}

#[actix_web::test]
async fn a_good_proof_passes_once_and_a_replay_is_refused() {
    let client = Client::new(provider::start().await).await;
    let app = init_service(
        App::new()
            .app_data(guard(&client.provider, allowed()))
            .service(reports),
    )
    .await;
    let proof = client.proof(json!({})).await;
    call(&app, with_proofs(&client.token, &[&proof]))
        .await
        .assert_ok("reports");
    // The verified token is cached; the proof is checked again, and its jti is spent.
    call_full(&app, with_proofs(&client.token, &[&proof]))
        .await
        .assert_replayed(&client.token);
    let fresh = client.proof(json!({})).await;
    call(&app, with_proofs(&client.token, &[&fresh]))
        .await
        .assert_ok("reports");
}

#[actix_web::test]
async fn every_broken_proof_is_refused_with_its_reason() {
    let client = Client::new(provider::start().await).await;
    let app = init_service(
        App::new()
            .app_data(guard(&client.provider, allowed()))
            .service(reports),
    )
    .await;
    let private = client.jwk.clone();
    let now = now();
    let cases = [
        (
            json!({ "htm": "POST" }),
            "The DPoP proof is for another method",
        ),
        (
            json!({ "htu": "https://api.route-guard.test/other" }),
            "The DPoP proof is for another URI",
        ),
        (
            json!({ "htu": "https://evil.example/reports" }),
            "The DPoP proof is for another URI",
        ),
        (json!({ "iat": now - 3600 }), "The DPoP proof is not fresh"),
        (json!({ "iat": now + 3600 }), "The DPoP proof is not fresh"),
        (
            json!({ "access_token": "another.access.token" }),
            "The DPoP proof is for another access token",
        ),
        (
            json!({ "header_jwk": private }),
            "The DPoP proof key is not a usable public key",
        ),
        (
            json!({ "unsecured": true }),
            "The DPoP proof algorithm is not accepted",
        ),
        (
            json!({ "hmac_secret": "a shared secret that no proof may be signed with" }),
            "The DPoP proof algorithm is not accepted",
        ),
        (
            json!({ "typ": "JWT" }),
            "The DPoP proof type is not dpop+jwt",
        ),
    ];
    for (changes, description) in cases {
        let proof = client.proof(changes.clone()).await;
        call_full(&app, with_proofs(&client.token, &[&proof]))
            .await
            .assert_refused(
                401,
                &[BARE_BEARER, &dpop_error("invalid_dpop_proof", description)],
                &client.token,
            );
    }
    // The URI is compared normalized (RFC 3986 §6.2.2, §6.2.3), without query or fragment.
    let proof = client
        .proof(json!({ "htu": "https://API.route-guard.test:443/reports?page=2#top" }))
        .await;
    call(&app, with_proofs(&client.token, &[&proof]))
        .await
        .assert_ok("reports");
}

#[actix_web::test]
async fn a_proof_of_another_key_a_missing_proof_and_two_proofs_are_refused() {
    let client = Client::new(provider::start().await).await;
    let other = Client::new(Provider {
        base: client.provider.base.clone(),
    })
    .await;
    let app = init_service(
        App::new()
            .app_data(guard(&client.provider, allowed()))
            .service(reports),
    )
    .await;
    // Signed by the other client's key, for this token: the signature is good, the key is not
    // the one the token is bound to.
    let spec = json!({ "jwk": other.jwk, "htm": "GET", "htu": HTU, "access_token": client.token });
    let proof = client.provider.dpop_proof(&spec).await;
    let bound = bearer_error(
        "invalid_token",
        "The access token is bound to another key or to DPoP",
    );
    call_full(&app, with_proofs(&client.token, &[&proof]))
        .await
        .assert_refused(
            401,
            &[
                BARE_BEARER,
                &dpop_error(
                    "invalid_token",
                    "The access token is bound to another key or to DPoP",
                ),
            ],
            &client.token,
        );
    call_full(&app, with_proofs(&client.token, &[]))
        .await
        .assert_refused(
            401,
            &[
                BARE_BEARER,
                &dpop_error("invalid_dpop_proof", "Exactly one DPoP proof is required"),
            ],
            &client.token,
        );
    let (one, two) = (client.proof(json!({})).await, client.proof(json!({})).await);
    call_full(&app, with_proofs(&client.token, &[&one, &two]))
        .await
        .assert_refused(
            401,
            &[
                BARE_BEARER,
                &dpop_error("invalid_dpop_proof", "Exactly one DPoP proof is required"),
            ],
            &client.token,
        );
    // The bound token as a bearer token: no downgrade.
    call_full(&app, get("/reports").insert_header(bearer(&client.token)))
        .await
        .assert_refused(401, &[&bound, &bare_dpop()], &client.token);
}

#[actix_web::test]
async fn required_dpop_refuses_bearer_tokens_and_unbound_tokens() {
    let provider = provider::start().await;
    let required = Dpop::required(ORIGIN).unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(
        App::new()
            .app_data(guard(&provider, required))
            .service(reports),
    )
    .await;
    let plain = provider.token(Some("read:reports")).await;
    call_full(&app, get("/reports").insert_header(bearer(&plain)))
        .await
        .assert_refused(401, &[&bare_dpop()], &plain);
    call_full(&app, get("/reports"))
        .await
        .assert_refused(401, &[&bare_dpop()], "");
    // An unbound token under the DPoP scheme: it proves nothing.
    let client = Client::new(Provider {
        base: provider.base.clone(),
    })
    .await;
    let spec = json!({ "jwk": client.jwk, "htm": "GET", "htu": HTU, "access_token": plain });
    let proof = provider.dpop_proof(&spec).await;
    call_full(&app, with_proofs(&plain, &[&proof]))
        .await
        .assert_refused(
            401,
            &[&dpop_error(
                "invalid_token",
                "The access token is bound to another key or to DPoP",
            )],
            &plain,
        );
    let good = client.proof(json!({})).await;
    call(&app, with_proofs(&client.token, &[&good]))
        .await
        .assert_ok("reports");
}

#[actix_web::test]
async fn server_nonces_are_asked_for_given_and_then_accepted() {
    let client = Client::new(provider::start().await).await;
    let with_nonces = allowed()
        .nonces("a random secret the instances share, 32 bytes or more")
        .unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(
        App::new()
            .app_data(guard(&client.provider, with_nonces))
            .service(reports),
    )
    .await;
    let use_nonce = dpop_error(
        "use_dpop_nonce",
        "The DPoP proof must carry the nonce the server gave",
    );
    let nonce_of = |res: &actix_web::dev::ServiceResponse| {
        res.headers()
            .get("dpop-nonce")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    // Without a nonce: 401 use_dpop_nonce, and one to use.
    let proof = client.proof(json!({})).await;
    let res =
        actix_web::test::call_service(&app, with_proofs(&client.token, &[&proof]).to_request())
            .await;
    assert_eq!(res.status(), 401);
    let challenges: Vec<&str> = res
        .headers()
        .get_all("www-authenticate")
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(challenges, [BARE_BEARER, use_nonce.as_str()]);
    let Some(nonce) = nonce_of(&res) else {
        panic!("no DPoP-Nonce: {:?}", res.headers());
    };
    // With it: admitted. With one the server never gave: asked again.
    let proof = client.proof(json!({ "nonce": nonce })).await;
    call(&app, with_proofs(&client.token, &[&proof]))
        .await
        .assert_ok("reports");
    let forged = client
        .proof(json!({ "nonce": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }))
        .await;
    call_full(&app, with_proofs(&client.token, &[&forged]))
        .await
        .assert_refused(401, &[BARE_BEARER, &use_nonce], &client.token);
}

#[actix_web::test]
async fn an_introspected_token_bound_to_a_key_needs_its_proof_too() {
    let provider = provider::start_opaque().await;
    let introspection = IntrospectionAuthenticator::builder()
        .discover(&provider.base)
        .client_secret_basic(provider::INTROSPECTOR_BASIC, provider::INTROSPECTOR_SECRET)
        .audience(RESOURCE)
        .dpop(allowed())
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let guard = RouteGuard::builder(introspection)
        .realm(REALM)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard).service(reports)).await;
    let client = Client::new(provider).await;
    assert!(
        !client.token.contains('.'),
        "an opaque token: {}",
        client.token
    );
    let proof = client.proof(json!({})).await;
    call(&app, with_proofs(&client.token, &[&proof]))
        .await
        .assert_ok("reports");
    call_full(&app, with_proofs(&client.token, &[&proof]))
        .await
        .assert_replayed(&client.token);
    let bound = bearer_error(
        "invalid_token",
        "The access token is bound to another key or to DPoP",
    );
    call_full(&app, get("/reports").insert_header(bearer(&client.token)))
        .await
        .assert_refused(401, &[&bound, &bare_dpop()], &client.token);
}

#[actix_web::test]
async fn a_proof_used_on_one_instance_is_refused_on_another() {
    let server = RedisServer::start();
    let client = Client::new(provider::start().await).await;
    let mut apps = Vec::new();
    for _ in 0..2 {
        let store = RedisStore::builder(server.url())
            .prefix("dpop-test:")
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let dpop = allowed().replay_store(store);
        apps.push(
            init_service(
                App::new()
                    .app_data(guard(&client.provider, dpop))
                    .service(reports),
            )
            .await,
        );
    }
    let proof = client.proof(json!({})).await;
    call(&apps[0], with_proofs(&client.token, &[&proof]))
        .await
        .assert_ok("reports");
    call_full(&apps[1], with_proofs(&client.token, &[&proof]))
        .await
        .assert_replayed(&client.token);
    let fresh = client.proof(json!({})).await;
    call(&apps[1], with_proofs(&client.token, &[&fresh]))
        .await
        .assert_ok("reports");
    // Only digests are stored.
    let keys = server.cli(&["--scan", "--pattern", "dpop-test:*"]);
    assert!(!keys.is_empty(), "the replay check wrote nothing to Redis");
    assert!(
        !keys.contains(&client.token) && !keys.contains("proof"),
        "{keys}"
    );
}

#[actix_web::test]
async fn proofs_of_every_advertised_family_pass() {
    let provider = provider::start().await;
    let app = init_service(
        App::new()
            .app_data(guard(&provider, allowed()))
            .service(reports),
    )
    .await;
    // An RSA key without `alg` in the proof's `jwk`: the proof's `alg` says PS256, not RS256.
    for alg in ["PS256", "RS256", "EdDSA", "ES384"] {
        let (token, _, jwk) = provider.dpop_token_signed("read:reports", alg).await;
        let mut public = jwk.clone();
        if let Some(members) = public.as_object_mut() {
            for private in ["d", "p", "q", "dp", "dq", "qi", "alg"] {
                members.remove(private);
            }
        }
        let spec = json!({
            "jwk": jwk, "header_jwk": public, "htm": "GET", "htu": HTU, "access_token": token,
        });
        let proof = provider.dpop_proof(&spec).await;
        call(&app, with_proofs(&token, &[&proof]))
            .await
            .assert_ok("reports");
    }
}
