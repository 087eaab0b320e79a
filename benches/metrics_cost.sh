#!/usr/bin/env bash
# Instructions per request of the load server's cached HS256 route (`/rg/admin`), counted by
# callgrind over the whole server (HTTP parsing, the guard, the handler, the response), built
# without route-guard's metrics and with them and the Prometheus recorder installed. The
# machine's load does not change instruction counts, so the ratio is repeatable where wrk's
# requests/s on a shared machine are not (`benches/metrics.sh` gives those).
#
#   benches/metrics_cost.sh
#
# Needs valgrind and curl (Debian's `valgrind` and `curl` packages).
set -euo pipefail
cd "$(dirname "$0")/.."

ADDR=${ADDR:-127.0.0.1:8091}
SMALL=${SMALL:-200}
LARGE=${LARGE:-3200}

if ! command -v valgrind >/dev/null; then
    echo "metrics_cost.sh: valgrind is not installed. On Debian/Ubuntu: sudo apt-get install valgrind" >&2
    exit 1
fi
cargo build --release --quiet -p route-guard-benches --bin load_server --features metrics
cp --remove-destination target/release/load_server target/release/load_server_metrics
cargo build --release --quiet -p route-guard-benches --bin load_server
token=$(target/release/load_server tokens | awk '$1 == "HS256" { print $2 }')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# instructions BINARY COUNT: the server's whole instruction count when it served COUNT
# requests to the cached route on one keep-alive connection (and its readiness probes), less
# the exporter's clock calibration at start-up, which runs for a time rather than a count.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
        "target/release/$1" serve "$ADDR" 2>"$out/valgrind.log" &
    local pid=$! urls=()
    for _ in $(seq 300); do
        curl -fsS -o /dev/null "http://$ADDR/unguarded/admin" 2>/dev/null && break
        sleep 0.1
    done
    for _ in $(seq "$2"); do urls+=(-o /dev/null "http://$ADDR/rg/admin"); done
    curl -fsS -H "Authorization: Bearer $token" "${urls[@]}"
    kill -INT "$pid"
    wait "$pid" || true
    local total calibration
    total=$(awk '/Collected :/ { print $NF }' "$out/valgrind.log")
    calibration=$(callgrind_annotate --inclusive=yes "$out/callgrind.out" 2>/dev/null |
        awk '/quanta::Clock::new \[/ { gsub(",", "", $1); print $1; exit }')
    echo $((total - ${calibration:-0}))
}

# Per request: the difference between SMALL and LARGE requests, which removes start-up.
declare -A cost
for bin in load_server load_server_metrics; do
    a=$(instructions "$bin" "$SMALL")
    b=$(instructions "$bin" "$LARGE")
    cost[$bin]=$(((b - a) / (LARGE - SMALL)))
done
echo "| cached HS256 route | instructions per request | vs metrics off |"
echo "|---|---:|---:|"
echo "| metrics off (feature not compiled) | ${cost[load_server]} | 1.000 |"
awk -v on="${cost[load_server_metrics]}" -v off="${cost[load_server]}" 'BEGIN {
    printf "| metrics on, Prometheus recorder | %d | %.3f |\n", on, on / off
}'
