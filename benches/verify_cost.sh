#!/usr/bin/env bash
# Instructions per verified token, counted by callgrind: route-guard without the cache, on a
# cache miss and on a hit, against raw `jsonwebtoken::decode` and the peer stack, per
# algorithm. Instruction counts do not depend on the machine's load, so these ratios are
# repeatable where timings on a shared machine are not; they do not see memory stalls, which
# the criterion bench (`cargo bench -p route-guard-benches --bench guard`) does.
#
#   benches/verify_cost.sh                      # rust-crypto backend
#   BACKEND=aws-lc-rs benches/verify_cost.sh    # jsonwebtoken's aws_lc_rs backend
#   ALGORITHMS="HS256 EdDSA" benches/verify_cost.sh
#
# Needs valgrind (Debian's `valgrind` package).
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND=${BACKEND:-rust-crypto}
ALGORITHMS=${ALGORITHMS:-HS256 RS256 ES256 EdDSA}
MODES="raw peer no-cache miss hit"

if ! command -v valgrind >/dev/null; then
    echo "verify_cost.sh: valgrind is not installed. On Debian/Ubuntu: sudo apt-get install valgrind" >&2
    exit 1
fi
case "$BACKEND" in
    rust-crypto) features=() ;;
    aws-lc-rs) features=(--no-default-features --features aws-lc-rs) ;;
    *) echo "verify_cost.sh: BACKEND must be rust-crypto or aws-lc-rs" >&2; exit 1 ;;
esac
cargo build --quiet --release -p route-guard-benches --bin verify_cost "${features[@]}"
bin=target/release/verify_cost
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# instructions MODE COUNT ALGORITHM: the program's whole instruction count.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" "$bin" "$@" 2>&1 |
        awk '/Collected :/ { print $NF }'
}

echo "| algorithm | raw decode | peer | route-guard, no cache | ratio to raw | route-guard, cache miss | ratio to raw | cache hit | no cache / peer |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for algorithm in $ALGORITHMS; do
    # Repetitions: fewer for slow signatures, whose count is large anyway; more for aws-lc-rs,
    # whose one-time work varies by a few hundred thousand instructions from run to run.
    case $BACKEND-$algorithm in
        *-HS*) small=200 large=1200 ;;
        rust-crypto-RS* | rust-crypto-ES*) small=10 large=60 ;;
        *) small=100 large=600 ;;
    esac
    declare -A cost=()
    for mode in $MODES; do
        a=$(instructions "$mode" "$small" "$algorithm")
        b=$(instructions "$mode" "$large" "$algorithm")
        cost[$mode]=$(( (b - a) / (large - small) ))
    done
    awk -v alg="$algorithm" -v raw="${cost[raw]}" -v peer="${cost[peer]}" -v none="${cost[no-cache]}" \
        -v miss="${cost[miss]}" -v hit="${cost[hit]}" 'BEGIN {
        printf "| %s | %d | %d | %d | %.3f | %d | %.3f | %d | %.3f |\n",
            alg, raw, peer, none, none / raw, miss, miss / raw, hit, none / peer
    }'
    unset cost
done
