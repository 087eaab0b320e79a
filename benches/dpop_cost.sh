#!/usr/bin/env bash
# What a DPoP request costs beyond the one thing it cannot do without, verifying the proof's
# signature: instructions per request (callgrind), a request with a cached bound token and a
# fresh proof through JwtAuthenticator (header parsing, the proof's claims, htu, ath, the key's
# thumbprint, the replay store) against jsonwebtoken's verification of the same proofs'
# signatures. Same method as verify_cost.sh: two runs of different length, the difference
# divided by the difference in requests, so setting up (signing the proofs) cancels out.
#
#   benches/dpop_cost.sh
#   ALGORITHMS="ES256" benches/dpop_cost.sh
#
# Needs valgrind (Debian's `valgrind` package).
set -euo pipefail
cd "$(dirname "$0")/.."

ALGORITHMS=${ALGORITHMS:-ES256 EdDSA}

if ! command -v valgrind >/dev/null; then
    echo "dpop_cost.sh: valgrind is not installed. On Debian/Ubuntu: sudo apt-get install valgrind" >&2
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

echo "| proof algorithm | proof signature alone | DPoP request | ratio |"
echo "|---|---:|---:|---:|"
for algorithm in $ALGORITHMS; do
    case $algorithm in
        RS* | ES*) small=20 large=120 ;;
        *) small=200 large=1200 ;;
    esac
    declare -A cost=()
    for mode in proof-signature dpop; do
        a=$(instructions "$mode" "$small" "$algorithm")
        b=$(instructions "$mode" "$large" "$algorithm")
        cost[$mode]=$(( (b - a) / (large - small) ))
    done
    awk -v alg="$algorithm" -v sig="${cost[proof-signature]}" -v dpop="${cost[dpop]}" 'BEGIN {
        printf "| %s | %d | %d | %.3f |\n", alg, sig, dpop, dpop / sig
    }'
done
