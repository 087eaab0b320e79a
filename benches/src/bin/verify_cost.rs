//! One way of verifying a token, repeated: the workload `benches/verify_cost.sh` runs under
//! callgrind, which counts instructions, so the figures do not depend on what else the machine
//! is doing.
//!
//! `verify_cost MODE COUNT ALGORITHM`, with MODE one of
//! - `raw`: `jsonwebtoken::decode` into a claims map, with route-guard's checks;
//! - `peer`: the peer stack's `decode_jwt` (jsonwebtoken into a two-field struct);
//! - `no-cache`: route-guard's authenticator without the verified-token cache;
//! - `miss`: with a cache that never holds the token asked for (64 tokens in turn through a
//!   one-entry cache: no hits, which callgrind's call counts confirm);
//! - `hit`: with the cache, the same token every time;
//! - `issuers-miss`, `issuers-hit`: `miss` and `hit` through [`Issuers`] with two issuers, the
//!   token's being the second: what routing by `iss` adds (`benches/issuers_cost.sh`);
//! - `dpop`: a request with a bound token (cached) and a fresh DPoP proof signed with
//!   ALGORITHM, each from a pool of [`DPOP_POOL`] made beforehand;
//! - `proof-signature`: the same proofs' signatures verified by jsonwebtoken alone
//!   (`benches/dpop_cost.sh` compares the two).
//!
//! The per-token cost is the difference between two runs of different COUNT divided by the
//! difference in COUNT, so setting up (keys, signing the tokens) cancels out.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::process::ExitCode;
use std::task::{Context, Poll, Waker};

use actix_web::HttpRequest;
use actix_web::test::TestRequest;
use jsonwebtoken::Algorithm;
use route_guard::{Authenticator, Issuers, JwtAuthenticator, JwtKey, TokenCache};
use route_guard_benches::dpop::DpopClient;
use route_guard_benches::peer::PeerVerifier;
use route_guard_benches::{Signer, authenticator, signer};
use serde_json::{Map, Value};

/// Proofs made before either DPoP mode runs, whatever COUNT is, so that making them cancels
/// out of the difference of two runs.
const DPOP_POOL: usize = 3000;

/// Distinct tokens for `miss`.
const FRESH_TOKENS: usize = 64;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(count), Some(algorithm)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
        args.get(3).and_then(|a| a.parse::<Algorithm>().ok()),
    ) else {
        eprintln!(
            "usage: verify_cost raw|peer|no-cache|miss|hit|issuers-miss|issuers-hit|dpop|\
             proof-signature COUNT \
             HS256|RS256|ES256|EdDSA"
        );
        return ExitCode::FAILURE;
    };
    let signer = signer(algorithm);
    let token = signer.token("alice", &["admin", "user"]);
    match mode.as_str() {
        "raw" => {
            let validation = signer.validation();
            repeat(count, || {
                jsonwebtoken::decode::<Map<String, Value>>(
                    black_box(&token),
                    &signer.decoding,
                    &validation,
                )
                .is_ok()
            })
        }
        "peer" => {
            let peer = PeerVerifier::new(&signer);
            repeat(count, || peer.decode_jwt(black_box(&token)).is_ok())
        }
        "no-cache" => {
            let jwt = authenticator([signer.key.clone()], None);
            let req = request(&token);
            repeat(count, || verifies(&jwt, &req))
        }
        "miss" => {
            let jwt = authenticator([signer.key.clone()], Some(TokenCache::new(1)));
            let pool = fresh_requests(&signer);
            let mut next = pool.iter().cycle();
            repeat(count, || next.next().is_some_and(|req| verifies(&jwt, req)))
        }
        "hit" => {
            let jwt = authenticator([signer.key.clone()], Some(TokenCache::new(16)));
            let req = request(&token);
            repeat(count, || verifies(&jwt, &req))
        }
        "issuers-miss" => {
            let issuers = issuers(&signer, TokenCache::new(1));
            let pool = fresh_requests(&signer);
            let mut next = pool.iter().cycle();
            repeat(count, || {
                next.next().is_some_and(|req| verifies(&issuers, req))
            })
        }
        "dpop" | "proof-signature" => {
            let client = DpopClient::new(algorithm, DPOP_POOL);
            if count > DPOP_POOL {
                eprintln!("verify_cost: at most {DPOP_POOL} DPoP proofs");
                return ExitCode::FAILURE;
            }
            if mode == "proof-signature" {
                let mut next = 0..;
                return repeat(count, || {
                    next.next().is_some_and(|i| client.verify_signature(i))
                });
            }
            let jwt = client.authenticator();
            // The whole pool, whatever COUNT is: building requests is setting up, which must
            // cancel out of the difference of two runs.
            let requests: Vec<HttpRequest> = (0..DPOP_POOL).map(|i| client.request(i)).collect();
            let mut next = requests.iter();
            repeat(count, || {
                next.next().is_some_and(|req| verifies_later(&jwt, req))
            })
        }
        "issuers-hit" => {
            let issuers = issuers(&signer, TokenCache::new(16));
            let req = request(&token);
            repeat(count, || verifies(&issuers, &req))
        }
        other => {
            eprintln!("verify_cost: unknown mode {other:?}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `verify` `count` times; fails if any run does not verify.
fn repeat(count: usize, mut verify: impl FnMut() -> bool) -> ExitCode {
    let verified = (0..count).filter(|_| black_box(verify())).count();
    if verified == count {
        ExitCode::SUCCESS
    } else {
        eprintln!("verify_cost: {} of {count} tokens failed", count - verified);
        ExitCode::FAILURE
    }
}

fn request(token: &str) -> HttpRequest {
    TestRequest::get()
        .insert_header(("authorization", format!("Bearer {token}")))
        .to_http_request()
}

fn fresh_requests(signer: &Signer) -> Vec<HttpRequest> {
    (0..FRESH_TOKENS)
        .map(|i| request(&signer.token(&format!("user-{i:03}"), &["admin", "user"])))
        .collect()
}

/// Two issuers, the benchmark's own last: another one with an HS256 key first, so that finding
/// the token's issuer is not the first comparison.
fn issuers(signer: &Signer, cache: TokenCache) -> Issuers {
    let other = JwtKey::hs256("another issuer's secret, 32 bytes or more").expect("long enough");
    let one = |key: JwtKey, iss: &str| {
        JwtAuthenticator::builder()
            .key(key)
            .issuer(iss)
            .audience(route_guard_benches::AUDIENCE)
    };
    Issuers::builder()
        .jwt("other", one(other, "https://other.bench"))
        .jwt(
            "bench",
            one(signer.key.clone(), route_guard_benches::ISSUER),
        )
        .cache(cache)
        .build()
        .expect("benchmark configuration is valid")
}

/// Whether the authenticator accepts the request, polling until its answer (the replay store's
/// future is ready on its first poll in memory).
fn verifies_later(jwt: &dyn Authenticator, req: &HttpRequest) -> bool {
    let mut future = jwt.authenticate(req);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(result) = Pin::new(&mut future).poll(&mut context) {
            return result.is_ok_and(|identity| !black_box(&identity).subject().is_empty());
        }
    }
}

/// Whether the authenticator accepts the request's token; a JWT needs no I/O, so the future is
/// ready on its first poll.
fn verifies(jwt: &dyn Authenticator, req: &HttpRequest) -> bool {
    let mut future = jwt.authenticate(req);
    matches!(
        Pin::new(&mut future).poll(&mut Context::from_waker(Waker::noop())),
        Poll::Ready(Ok(identity)) if !black_box(&identity).subject().is_empty()
    )
}
