#!/usr/bin/env bash
# A DPoP route beside the bearer one, under wrk, in one run: requests/s of the unguarded route,
# of `#[require_role("admin")]` with a cached HS256 bearer token, and of the same rule with a
# cached DPoP-bound token and a fresh EdDSA proof per request (RFC 9449: every proof is checked
# in full and spent). Each ratio is taken against the unguarded run just before it; the tables
# show medians over ROUNDS.
#
#   benches/dpop_load.sh
#   DURATION=5s ROUNDS=5 benches/dpop_load.sh
#
# Needs Debian's wrk (`sudo apt-get install wrk`); pins the server and wrk to separate cores
# with taskset when there are two.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-3s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
ADDR=${ADDR:-127.0.0.1:8091}
# More proofs than the DPoP route can take in DURATION: none is replayed.
PROOF_COUNT=${PROOF_COUNT:-150000}

if ! command -v wrk >/dev/null; then
    echo "dpop_load.sh: wrk is not installed. On Debian/Ubuntu: sudo apt-get install wrk" >&2
    exit 1
fi
pin_server=() pin_wrk=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    pin_server=(taskset -c 0) pin_wrk=(taskset -c 1)
fi

cargo build --release --quiet -p route-guard-benches --bin load_server
server=target/release/load_server
work=$(mktemp -d)
bearer=$("$server" tokens | awk '$1 == "HS256" { print $2 }')

"${pin_server[@]}" "$server" serve "$ADDR" 2>/dev/null &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do
    curl -fsS -o /dev/null "http://$ADDR/unguarded/admin" 2>/dev/null && break
    sleep 0.1
done

# One wrk run (extra arguments: the headers or script); prints requests/s, or fails if any
# response was not 2xx.
measure() {
    local path=$1 out
    shift
    out=$("${pin_wrk[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "$@" "http://$ADDR$path")
    if grep -q "Non-2xx" <<<"$out"; then
        echo "dpop_load.sh: $path answered non-2xx responses:" >&2
        echo "$out" >&2
        exit 1
    fi
    awk '/^Requests\/sec:/ { print $2 }' <<<"$out"
}

"${pin_wrk[@]}" wrk -t1 -c"$CONNECTIONS" -d2s "http://$ADDR/unguarded/admin" >/dev/null # warm-up
declare -a base_b bearer_r base_d dpop_r
for round in $(seq "$ROUNDS"); do
    base_b+=("$(measure /unguarded/admin)")
    bearer_r+=("$(measure /rg/admin -H "Authorization: Bearer $bearer")")
    # Fresh proofs for each DPoP run: their iat must be within the proof window.
    "$server" dpop-proofs "$PROOF_COUNT" >"$work/proofs"
    base_d+=("$(measure /unguarded/admin)")
    dpop_r+=("$(PROOFS="$work/proofs" measure /reports -s benches/dpop_load.lua)")
    echo "round $round: unguarded ${base_b[-1]}, bearer ${bearer_r[-1]}; unguarded ${base_d[-1]}, DPoP ${dpop_r[-1]}" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratios() {
    local -n num=$1 den=$2
    for i in "${!num[@]}"; do awk -v a="${num[$i]}" -v b="${den[$i]}" 'BEGIN { printf "%.3f\n", a / b }'; done
}
echo "| route | requests/s (median) | vs the unguarded run before it (median) |"
echo "|---|---:|---:|"
echo "| unguarded | $(median "${base_b[@]}") | 1.000 |"
echo "| cached HS256 bearer token, \`#[require_role(\"admin\")]\` | $(median "${bearer_r[@]}") | $(median $(ratios bearer_r base_b)) |"
echo "| cached DPoP-bound token, fresh EdDSA proof per request | $(median "${dpop_r[@]}") | $(median $(ratios dpop_r base_d)) |"
