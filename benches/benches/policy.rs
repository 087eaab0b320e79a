//! Policy evaluation: roles, scopes and combinators over 16, 100 and 1000 roles, with the
//! allocations each evaluation makes counted by a global allocator. An evaluation over at most
//! 16 roles that allocates stops the benchmark.
//!
//! `cargo bench -p route-guard-benches --bench policy`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use route_guard_benches::alloc::{CountingAlloc, counting};
use route_guard_benches::rules::{ROLE_COUNTS, RULES, identity};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn policy(c: &mut Criterion) {
    let mut group = c.benchmark_group("policy");
    for roles in ROLE_COUNTS {
        let identity = identity(roles);
        for (name, rule) in RULES {
            let (_, allocations) = counting(|| black_box(rule.allows(black_box(&identity))));
            eprintln!("policy/{name}/{roles}: {allocations} allocations per evaluation");
            assert!(
                roles > 16 || allocations == 0,
                "{name} over {roles} roles allocated {allocations} times"
            );
            group.bench_with_input(BenchmarkId::new(name, roles), &identity, |b, identity| {
                b.iter(|| rule.allows(black_box(identity)));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, policy);
criterion_main!(benches);
