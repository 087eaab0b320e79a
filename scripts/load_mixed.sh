#!/usr/bin/env bash
# Mixed load against a release build of the quickstart (issue 6): valid, forbidden, expired,
# garbage and missing credentials at once, 256 connections in all, every response checked
# against what its request deserves (scripts/load_mixed.lua), no 5xx, and the server's
# resident memory after the run compared with after a warm-up.
#
#   scripts/load_mixed.sh                         # 30 s, 256 connections
#   DURATION=60s CONNECTIONS=500 scripts/load_mixed.sh
#
# Needs Debian's wrk (apt-get install wrk). Waits while another wrk runs (the benchmarks of
# benches/load.sh), so the two do not disturb each other.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-10s}
CONNECTIONS=${CONNECTIONS:-256}
ADDR=${ADDR:-127.0.0.1:8091}
MAX_GROWTH_PERCENT=${MAX_GROWTH_PERCENT:-5}
classes=(valid forbidden expired garbage missing)

command -v wrk >/dev/null || { echo "load_mixed.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
while pgrep -x wrk >/dev/null; do echo "load_mixed.sh: another wrk runs; waiting" >&2; sleep 10; done

cargo build --release --quiet -p route-guard-examples --example quickstart
out=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$out"' EXIT
QUICKSTART_ADDR=$ADDR RUST_LOG=warn target/release/examples/quickstart >"$out/server.txt" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://$ADDR/public" 2>/dev/null && break
  sleep 0.1
done

# The quickstart prints a curl line per example; take the tokens from them.
token_after() { grep -A1 -F "$1" "$out/server.txt" | sed -n "s/.*Authorization: Bearer \([^']*\)'.*/\1/p" | head -1; }
declare -A authorization=(
  [valid]="Bearer $(token_after 'the admin is let in')"
  [forbidden]="Bearer $(token_after 'a user is known but not allowed')"
  [expired]="Bearer $(token_after 'an expired token')"
  [garbage]="Bearer not-a-jwt!!"
  [missing]=""
)
[ "${authorization[valid]}" != "Bearer " ] || { echo "load_mixed.sh: no token in the quickstart's output" >&2; exit 1; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }

# Runs every class at once for $1, $CONNECTIONS connections split between them; each wrk
# process is one class, so every response can be checked.
run() {
  local duration=$1 per=$((CONNECTIONS / ${#classes[@]})) pids=()
  for class in "${classes[@]}"; do
    wrk -t1 -c"$per" -d"$duration" --latency -s scripts/load_mixed.lua "http://$ADDR/admin" \
      -- "$class" "${authorization[$class]}" >"$out/$class.txt" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
}

rss_start=$(rss_kib)
# Two warm-up bursts: the first fills actix's pools and the allocator's free lists, the second
# (old connections closing while new ones open) takes them to their steady size.
run "$WARMUP"
run "$WARMUP"
rss_warm=$(rss_kib)
run "$DURATION"
rss_end=$(rss_kib)

status=0 total=0 rps=0
printf '%-10s %10s %10s %10s %6s %12s %s\n' class responses ok mismatched 5xx requests/s "latency p50/p99"
for class in "${classes[@]}"; do
  line=$(grep "^$class responses=" "$out/$class.txt") || { cat "$out/$class.txt" >&2; exit 1; }
  get() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
  responses=$(get responses) ok=$(get ok) mismatched=$(get mismatched) errors5=$(get 5xx)
  rate=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$out/$class.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$out/$class.txt") p99=$(awk '$1 == "99%" {print $2}' "$out/$class.txt")
  socket=$(grep -o 'Socket errors:.*' "$out/$class.txt" || true)
  printf '%-10s %10d %10d %10d %6d %12d %s %s\n' "$class" "$responses" "$ok" "$mismatched" "$errors5" "$rate" "$p50/$p99" "$socket"
  total=$((total + responses)) rps=$((rps + rate))
  if [ "$mismatched" -ne 0 ] || [ "$errors5" -ne 0 ] || [ "$responses" -eq 0 ]; then
    echo "  first mismatch: $(sed -n 's/.* first=//p' <<<"$line")"
    status=1
  fi
done
growth=$(awk -v a="$rss_warm" -v b="$rss_end" 'BEGIN {printf "%.1f", (b - a) * 100 / a}')
echo "total: $total responses in $DURATION at $CONNECTIONS connections, $rps requests/s"
echo "server VmRSS: $rss_start KiB at start, $rss_warm KiB after two $WARMUP warm-ups, $rss_end KiB after the run ($growth%)"
if awk -v g="$growth" -v max="$MAX_GROWTH_PERCENT" 'BEGIN {exit !(g > max)}'; then
  echo "load_mixed.sh: resident memory grew by more than $MAX_GROWTH_PERCENT%" >&2
  status=1
fi
exit "$status"
