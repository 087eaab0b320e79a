#!/usr/bin/env bash
# What routing by issuer costs: instructions per token (callgrind) for one JwtAuthenticator
# against `Issuers` with two issuers, the token's second, on a cache hit and a cache miss, per
# algorithm. Same method as verify_cost.sh: two runs of different length, the difference
# divided by the difference in tokens, so setting up cancels out.
#
#   benches/issuers_cost.sh
#   ALGORITHMS="HS256" benches/issuers_cost.sh
#
# Needs valgrind (Debian's `valgrind` package).
set -euo pipefail
cd "$(dirname "$0")/.."

ALGORITHMS=${ALGORITHMS:-HS256 RS256 ES256 EdDSA}

if ! command -v valgrind >/dev/null; then
    echo "issuers_cost.sh: valgrind is not installed. On Debian/Ubuntu: sudo apt-get install valgrind" >&2
    exit 1
fi
cargo build --quiet --release -p route-guard-benches --bin verify_cost
bin=target/release/verify_cost
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" "$bin" "$@" 2>&1 |
        awk '/Collected :/ { print $NF }'
}

echo "| algorithm | one issuer, hit | Issuers, hit | ratio | one issuer, miss | Issuers, miss | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for algorithm in $ALGORITHMS; do
    case $algorithm in
        HS*) small=200 large=1200 ;;
        RS* | ES*) small=10 large=60 ;;
        *) small=100 large=600 ;;
    esac
    declare -A cost=()
    for mode in hit issuers-hit miss issuers-miss; do
        # A hit costs a few thousand instructions whatever the algorithm: many of them, so
        # that one-time work (an RSA key's parsing) cannot tip the difference.
        case $mode in
            *hit) lo=1000 hi=6000 ;;
            *) lo=$small hi=$large ;;
        esac
        a=$(instructions "$mode" "$lo" "$algorithm")
        b=$(instructions "$mode" "$hi" "$algorithm")
        cost[$mode]=$(( (b - a) / (hi - lo) ))
    done
    awk -v alg="$algorithm" -v hit="${cost[hit]}" -v ihit="${cost[issuers-hit]}" \
        -v miss="${cost[miss]}" -v imiss="${cost[issuers-miss]}" 'BEGIN {
        printf "| %s | %d | %d | %.3f | %d | %d | %.3f |\n",
            alg, hit, ihit, ihit / hit, miss, imiss, imiss / miss
    }'
done
