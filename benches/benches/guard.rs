//! The per-request guard path, per algorithm, against raw `jsonwebtoken::decode` of the same
//! token: without the cache (every request verifies), on a cache hit, on a cache miss, and
//! through the `Guarded<P>` extractor a guarded handler receives.
//!
//! `cargo bench -p route-guard-benches --bench guard`

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use actix_web::dev::Payload;
use actix_web::test::TestRequest;
use actix_web::{FromRequest, HttpRequest};
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, criterion_group, criterion_main};
use jsonwebtoken::Algorithm;
use route_guard::{
    Authenticator, Guarded, JwtAuthenticator, Policy, RoleHierarchy, RouteGuard, Rule, TokenCache,
};
use route_guard_benches::dpop::DpopClient;
use route_guard_benches::{ALGORITHMS, Signer, authenticator, signer};
use serde_json::{Map, Value};

/// Distinct tokens cycled through for cache misses, few enough that their requests stay in the
/// CPU caches as a server's freshly parsed request does (with 4096, every lookup touched cold
/// memory that raw decode of one token never touches).
const MISS_POOL: usize = 512;
/// The miss cache holds one token. quick_cache's eviction keeps entries it judges hot, so a
/// bigger cache answered part of a cyclic scan: with 16 entries about 3% of the 512 tokens'
/// lookups hit, with 64 entries over 256 tokens about a fifth (callgrind's call counts, signature
/// checks against lookups); with one entry, none.
const MISS_CACHE: usize = 1;

struct Admins;
impl Policy for Admins {
    const RULE: Rule = Rule::Role("admin");
}

/// The output of a future that needs no I/O, as actix gets it on the first poll.
fn now<F: Future + Unpin>(mut future: F) -> F::Output {
    match Pin::new(&mut future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the guard path is synchronous for a JWT"),
    }
}

fn request(token: &str) -> HttpRequest {
    TestRequest::get()
        .insert_header(("authorization", format!("Bearer {token}")))
        .to_http_request()
}

fn authenticate(jwt: &JwtAuthenticator, req: &HttpRequest) {
    let identity = now(jwt.authenticate(req)).expect("the token verifies");
    black_box(identity);
}

/// Times `ours` against `raw` in short interleaved blocks (alternating which goes first) and
/// prints the median of the per-block ratios: load from other processes on the machine falls on
/// both alike, and a burst spoils one block, not the figure. Criterion's separate figures follow.
fn paired(label: &str, block: u32, raw: impl FnMut(), ours: impl FnMut()) {
    paired_named(label, "jsonwebtoken::decode", block, raw, ours);
}

/// [`paired`], with `raw` going by `raw_name` in the report.
fn paired_named(
    label: &str,
    raw_name: &str,
    block: u32,
    mut raw: impl FnMut(),
    mut ours: impl FnMut(),
) {
    const ROUNDS: usize = 101;
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..block {
            f();
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(block)
    };
    let samples: Vec<(f64, f64)> = (0..ROUNDS)
        .map(|round| {
            if round % 2 == 0 {
                let r = time(&mut raw);
                (r, time(&mut ours))
            } else {
                let o = time(&mut ours);
                (time(&mut raw), o)
            }
        })
        .collect();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ratio = median(samples.iter().map(|(r, o)| o / r).collect());
    let raw_us = median(samples.iter().map(|s| s.0).collect());
    let ours_us = median(samples.iter().map(|s| s.1).collect());
    eprintln!(
        "paired {label}: {raw_name} {raw_us:.2} µs, route-guard {ours_us:.2} µs, \
         median ratio {ratio:.3}"
    );
}

fn bench_algorithm(c: &mut Criterion, signer: &Signer) {
    let token = signer.token("alice", &["admin", "user"]);
    let req = request(&token);
    let validation = signer.validation();
    let uncached = authenticator([signer.key.clone()], None);
    let cached = authenticator([signer.key.clone()], Some(TokenCache::new(1024)));
    let tokens: Vec<String> = (0..MISS_POOL)
        .map(|i| signer.token(&format!("user-{i:03}"), &["admin", "user"]))
        .collect();
    let pool: Vec<HttpRequest> = tokens.iter().map(|token| request(token)).collect();
    let missing = authenticator([signer.key.clone()], Some(TokenCache::new(MISS_CACHE)));
    let mut next = pool.iter().cycle();
    let raw = || {
        let data = jsonwebtoken::decode::<Map<String, Value>>(
            black_box(&token),
            &signer.decoding,
            &validation,
        );
        black_box(data.expect("the token verifies"));
    };
    // Blocks of about 100 µs to 1 ms, so that a block outlasts the timer's noise.
    let block = match signer.algorithm {
        Algorithm::HS256 => 500,
        Algorithm::EdDSA => 50,
        _ => 5,
    };
    let name = format!("{:?}", signer.algorithm);
    paired(&format!("{name}, no cache"), block, raw, || {
        authenticate(&uncached, &req)
    });
    // Fresh tokens on both sides: raw decode goes through the same pool, so memory that is
    // cold for one is cold for the other.
    let mut fresh = tokens.iter().cycle();
    let raw_fresh = || {
        let token = fresh.next().expect("the pool cycles");
        let data = jsonwebtoken::decode::<Map<String, Value>>(
            black_box(token),
            &signer.decoding,
            &validation,
        );
        black_box(data.expect("the token verifies"));
    };
    let mut cycle = pool.iter().cycle();
    paired(&format!("{name}, cache miss"), block, raw_fresh, || {
        authenticate(&missing, cycle.next().expect("the pool cycles"));
    });
    let mut group = c.benchmark_group(name);

    group.bench_function("jsonwebtoken::decode", |b| b.iter(raw));
    group.bench_function("route-guard, no cache", |b| {
        b.iter(|| authenticate(&uncached, &req))
    });
    group.bench_function("route-guard, cache hit", |b| {
        b.iter(|| authenticate(&cached, &req))
    });

    group.bench_function("route-guard, cache miss", |b| {
        b.iter(|| authenticate(&missing, next.next().expect("the pool cycles")));
    });

    let guard = RouteGuard::new(authenticator(
        [signer.key.clone()],
        Some(TokenCache::new(1024)),
    ));
    bench_extractor::<Admins>(
        &mut group,
        "Guarded<Role> extractor, cache hit",
        &guard,
        &token,
    );
    group.finish();
}

/// The whole extractor: a fresh request (built outside the timing), the identity resolved
/// and kept in the request's extensions, the rule evaluated.
fn bench_extractor<P: Policy>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    guard: &RouteGuard,
    token: &str,
) {
    let fresh = || {
        TestRequest::get()
            .insert_header(("authorization", format!("Bearer {token}")))
            .app_data(guard.clone())
            .to_http_request()
    };
    group.bench_function(name, |b| {
        b.iter_batched(
            fresh,
            |req| {
                let guarded = now(Guarded::<P>::from_request(&req, &mut Payload::None));
                black_box(guarded.expect("the caller passes"))
            },
            BatchSize::SmallInput,
        );
    });
}

struct Editors;
impl Policy for Editors {
    const RULE: Rule = Rule::Role("editor");
}

/// A rule met through the role hierarchy (admin includes editor includes viewer) costs what a
/// direct role check costs, plus one lookup.
fn hierarchy(c: &mut Criterion) {
    let signer = signer(Algorithm::HS256);
    let token = signer.token("alice", &["admin", "user"]);
    let roles = RoleHierarchy::builder()
        .includes("admin", ["editor"])
        .includes("editor", ["viewer"])
        .build()
        .expect("the hierarchy is acyclic");
    let jwt = authenticator([signer.key.clone()], Some(TokenCache::new(1024)));
    let guard = RouteGuard::builder(jwt)
        .role_hierarchy(roles)
        .build()
        .expect("the guard builds");
    let mut group = c.benchmark_group("hierarchy");
    bench_extractor::<Admins>(&mut group, "Guarded<Role> extractor, held", &guard, &token);
    bench_extractor::<Editors>(
        &mut group,
        "Guarded<Role> extractor, implied",
        &guard,
        &token,
    );
    group.finish();
}

fn guard_path(c: &mut Criterion) {
    for algorithm in ALGORITHMS {
        bench_algorithm(c, &signer(algorithm));
    }
}

/// A DPoP request (RFC 9449: the bound token cached, a fresh proof checked in full, its `jti`
/// spent) against the one thing it cannot do without: verifying the proof's signature, for the
/// same proofs. Each proof is used once, so the pool holds one per timed call.
fn dpop(_: &mut Criterion) {
    for (algorithm, block) in [(Algorithm::ES256, 5), (Algorithm::EdDSA, 20)] {
        let calls = 2 * 101 * block;
        let client = DpopClient::new(algorithm, calls);
        let jwt = client.authenticator();
        let requests: Vec<HttpRequest> = (0..calls).map(|i| client.request(i)).collect();
        let (mut signatures, mut next) = (0.., requests.iter());
        paired_named(
            &format!("DPoP {algorithm:?}"),
            "proof signature alone",
            u32::try_from(block).unwrap_or(u32::MAX),
            || {
                assert!(
                    signatures
                        .next()
                        .is_some_and(|i| client.verify_signature(i))
                )
            },
            || {
                let req = next.next().expect("one proof per call");
                let identity = futures_util::FutureExt::now_or_never(jwt.authenticate(req));
                assert!(matches!(identity, Some(Ok(_))), "the DPoP request passes");
            },
        );
    }
}

criterion_group!(benches, guard_path, hierarchy, dpop);
criterion_main!(benches);
