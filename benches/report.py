#!/usr/bin/env python3
"""Prints criterion's latest estimates as the Markdown tables of BENCHMARKS.md.

    cargo bench -p route-guard-benches --bench guard && benches/report.py guard
    cargo bench -p route-guard-benches --bench policy && benches/report.py policy

Reads target/criterion/<group>/<bench>/new/estimates.json (the median, in ns) and
benchmark.json (the names); CARGO_TARGET_DIR is honoured.
"""
import json
import os
import sys
from pathlib import Path

ROOT = Path(os.environ.get("CARGO_TARGET_DIR", Path(__file__).resolve().parent.parent / "target"))
CRITERION = ROOT / "criterion"


def estimates():
    """{(group, function, parameter): median ns} for every benchmark criterion has run."""
    found = {}
    for bench in CRITERION.glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        median = json.loads((bench.parent / "estimates.json").read_text())["median"]["point_estimate"]
        found[(meta["group_id"], meta.get("function_id"), meta.get("value_str"))] = median
    return found


def fmt(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def guard(found):
    print("| algorithm | jsonwebtoken::decode | route-guard, no cache | ratio | cache miss | ratio"
          " | cache hit | Guarded extractor, hit |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for alg in ["HS256", "RS256", "ES256", "EdDSA"]:
        get = lambda name: found.get((alg, name, None))
        raw, nocache, miss = get("jsonwebtoken::decode"), get("route-guard, no cache"), get("route-guard, cache miss")
        hit, extractor = get("route-guard, cache hit"), get("Guarded<Role> extractor, cache hit")
        if None in (raw, nocache, miss, hit, extractor):
            continue
        print(f"| {alg} | {fmt(raw)} | {fmt(nocache)} | {nocache / raw:.2f} | {fmt(miss)} | {miss / raw:.2f}"
              f" | {fmt(hit)} | {fmt(extractor)} |")
    held = found.get(("hierarchy", "Guarded<Role> extractor, held", None))
    implied = found.get(("hierarchy", "Guarded<Role> extractor, implied", None))
    if held and implied:
        print()
        print("| HS256, cache hit, with a role hierarchy | Guarded extractor |")
        print("|---|---:|")
        print(f"| role held directly | {fmt(held)} |")
        print(f"| role implied by the hierarchy | {fmt(implied)} |")


def policy(found):
    rows = sorted({f for (g, f, _) in found if g == "policy"})
    sizes = sorted({int(v) for (g, _, v) in found if g == "policy" and v})
    print("| rule | " + " | ".join(f"{n} roles" for n in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for rule in rows:
        cells = [found.get(("policy", rule, str(n))) for n in sizes]
        print(f"| {rule} | " + " | ".join(fmt(c) if c else "" for c in cells) + " |")


if __name__ == "__main__":
    which = sys.argv[1:] or ["guard", "policy"]
    data = estimates()
    for name in which:
        {"guard": guard, "policy": policy}[name](data)
        print()
