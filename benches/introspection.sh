#!/usr/bin/env bash
# Introspection load benchmark (issue 16): a cached introspection hit against the unguarded
# route, in pairs of adjacent wrk runs on one actix worker, server and wrk pinned to separate
# cores. Prints requests/s and the median ratio.
#
#   benches/introspection.sh                         # 3 s per run, 5 rounds
#   DURATION=10s ROUNDS=5 benches/introspection.sh
#
# Installs nothing. Needs Debian's wrk (`apt-get install wrk`) and taskset.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-3s}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-32}
ADDR=${ADDR:-127.0.0.1:8090}
TOKEN=${TOKEN:-bench-opaque-access-token-0123456789}

if ! command -v wrk >/dev/null; then
    echo "introspection.sh: wrk is not installed. On Debian/Ubuntu: apt-get install wrk" >&2
    exit 1
fi
pin_server=() pin_wrk=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    pin_server=(taskset -c 0) pin_wrk=(taskset -c 1)
fi

cargo build --release --quiet -p route-guard-benches --bin introspection_server --features introspection
server=target/release/introspection_server
"${pin_server[@]}" "$server" serve "$ADDR" 2>/dev/null &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -fsS -o /dev/null "http://$ADDR/unguarded/admin" 2>/dev/null && break
    sleep 0.1
done
# The first request introspects; every later one is a cache hit.
curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "http://$ADDR/opaque/admin"

measure() {
    local path=$1 out
    out=$("${pin_wrk[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" \
        -H "Authorization: Bearer $TOKEN" "http://$ADDR$path")
    if grep -q "Non-2xx" <<<"$out"; then
        echo "introspection.sh: $path answered non-2xx responses:" >&2
        echo "$out" >&2
        exit 1
    fi
    awk '/^Requests\/sec:/ { print $2 }' <<<"$out"
}

"${pin_wrk[@]}" wrk -t1 -c"$CONNECTIONS" -d2s "http://$ADDR/unguarded/admin" >/dev/null # warm-up
bases="" hits="" ratios=""
for round in $(seq "$ROUNDS"); do
    base=$(measure /unguarded/admin)
    hit=$(measure /opaque/admin)
    bases+="$base " hits+="$hit "
    ratios+="$(awk -v r="$hit" -v b="$base" 'BEGIN { print r / b }') "
    echo "round $round: opaque, cached: $hit req/s, unguarded just before: $base req/s" >&2
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "wrk -t1 -c$CONNECTIONS -d$DURATION, one worker, $ROUNDS round(s); medians, each ratio"
echo "taken against the unguarded run just before."
echo
echo "| route | requests/s | vs unguarded |"
echo "|---|---:|---:|"
printf "| unguarded | %.0f | 1.00 |\n" "$(median "$bases")"
printf "| introspection, cached | %.0f | %.2f |\n" "$(median "$hits")" "$(median "$ratios")"
