#!/usr/bin/env bash
# What the `metrics` feature costs: the cached HS256 route (`/rg/admin`) of the load server
# built without route-guard's metrics, and of the same server built with them and the
# Prometheus recorder installed, served side by side and measured in alternation with
# `wrk -t1 -c32`. Prints requests/s and the median ratio of each adjacent pair.
#
#   benches/metrics.sh                          # 3 s per run, 5 rounds
#   DURATION=10s ROUNDS=7 benches/metrics.sh
#
# Installs nothing. Needs Debian's wrk (`sudo apt-get install wrk`) and, if present, uses
# taskset to keep both servers on one core and wrk on the other.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-3s}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-32}
OFF=${OFF:-127.0.0.1:8089}
ON=${ON:-127.0.0.1:8090}

if ! command -v wrk >/dev/null; then
    echo "metrics.sh: wrk is not installed. On Debian/Ubuntu: sudo apt-get install wrk" >&2
    exit 1
fi
pin_server=() pin_wrk=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    pin_server=(taskset -c 0) pin_wrk=(taskset -c 1)
fi

cargo build --release --quiet -p route-guard-benches --bin load_server --features metrics
cp --remove-destination target/release/load_server target/release/load_server_metrics
cargo build --release --quiet -p route-guard-benches --bin load_server
token=$(target/release/load_server tokens | awk '$1 == "HS256" { print $2 }')

"${pin_server[@]}" target/release/load_server serve "$OFF" 2>/dev/null &
off_pid=$!
"${pin_server[@]}" target/release/load_server_metrics serve "$ON" 2>/dev/null &
on_pid=$!
trap 'kill "$off_pid" "$on_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
for addr in "$OFF" "$ON"; do
    for _ in $(seq 50); do
        curl -fsS -o /dev/null "http://$addr/unguarded/admin" 2>/dev/null && break
        sleep 0.1
    done
done

# One wrk run against ADDR's cached route; prints requests/s, or fails on any non-2xx.
measure() {
    local out
    out=$("${pin_wrk[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" \
        -H "Authorization: Bearer $token" "http://$1/rg/admin")
    if grep -q "Non-2xx" <<<"$out"; then
        echo "metrics.sh: $1 answered non-2xx responses:" >&2
        echo "$out" >&2
        exit 1
    fi
    awk '/^Requests\/sec:/ { print $2 }' <<<"$out"
}

measure "$OFF" >/dev/null # warm-up
measure "$ON" >/dev/null
ratios="" offs="" ons=""
for round in $(seq "$ROUNDS"); do
    # Alternate which goes first, so that a drift in the machine's load favours neither.
    if ((round % 2)); then off=$(measure "$OFF"); on=$(measure "$ON"); else
        on=$(measure "$ON"); off=$(measure "$OFF"); fi
    offs+="$off " ons+="$on "
    ratios+="$(awk -v a="$on" -v b="$off" 'BEGIN { print a / b }') "
    echo "round $round: metrics off $off req/s, on $on req/s" >&2
done

# The recorder saw every request: the count of granted attempts on the route's policy.
granted=$(curl -fsS "http://$ON/metrics" | awk -F' ' '/^route_guard_authorization_attempts\{.*result="granted"/ { s += $2 } END { print s + 0 }')

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "wrk -t1 -c$CONNECTIONS -d$DURATION, one worker each, $ROUNDS rounds, medians;"
echo "each ratio is taken within an adjacent pair of runs. Granted attempts recorded: $granted."
echo
echo "| cached HS256 route | requests/s | vs metrics off |"
echo "|---|---:|---:|"
printf "| metrics off (feature not compiled) | %.0f | 1.00 |\n" "$(median "$offs")"
printf "| metrics on, Prometheus recorder | %.0f | %.3f |\n" "$(median "$ons")" "$(median "$ratios")"
