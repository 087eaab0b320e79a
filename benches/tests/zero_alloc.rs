//! Policy evaluation over up to 16 roles makes no heap allocation: counted, not timed.

use route_guard_benches::alloc::{CountingAlloc, counting};
use route_guard_benches::rules::{RULES, identity};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn policy_evaluation_over_up_to_16_roles_does_not_allocate() {
    for roles in [0, 1, 5, 16] {
        let identity = identity(roles);
        for (name, rule) in RULES {
            let (_, allocations) = counting(|| rule.allows(&identity));
            assert_eq!(allocations, 0, "{name} over {roles} roles");
        }
    }
}

#[test]
fn the_counter_sees_allocations() {
    let (boxed, allocations) = counting(|| Box::new([0_u8; 64]));
    assert_eq!((boxed.len(), allocations), (64, 1));
}
