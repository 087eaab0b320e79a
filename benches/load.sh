#!/usr/bin/env bash
# Load benchmark: one actix worker, `wrk -t1 -c32` per route, all routes in one run, printing
# requests/s and the ratios vs the unguarded route and vs the peer stack
# (actix-web-httpauth + jsonwebtoken + actix-web-grants).
#
#   benches/load.sh                         # rust-crypto backend, 3 s per run, 3 rounds
#   DURATION=10s ROUNDS=5 benches/load.sh   # longer runs, median of 5 rounds
#   BACKEND=aws-lc-rs benches/load.sh       # jsonwebtoken's aws_lc_rs backend (needs a C compiler)
#
# Installs nothing. Needs Debian's wrk (`sudo apt-get install wrk`) and, if present, uses
# taskset to keep the server and wrk on separate cores.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-3s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
BACKEND=${BACKEND:-rust-crypto}
ADDR=${ADDR:-127.0.0.1:8089}

if ! command -v wrk >/dev/null; then
    echo "load.sh: wrk is not installed. On Debian/Ubuntu: sudo apt-get install wrk" >&2
    exit 1
fi
case "$BACKEND" in
    rust-crypto) features=() ;;
    aws-lc-rs) features=(--no-default-features --features aws-lc-rs) ;;
    *) echo "load.sh: BACKEND must be rust-crypto or aws-lc-rs" >&2; exit 1 ;;
esac
pin_server=() pin_wrk=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    pin_server=(taskset -c 0) pin_wrk=(taskset -c 1)
fi

cargo build --release --quiet -p route-guard-benches --bin load_server "${features[@]}"
server=target/release/load_server
declare -A token
while read -r alg tok; do token[$alg]=$tok; done < <("$server" tokens)

"${pin_server[@]}" "$server" serve "$ADDR" 2>/dev/null &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -fsS -o /dev/null "http://$ADDR/unguarded/admin" 2>/dev/null && break
    sleep 0.1
done

# label, path, algorithm of the token sent (- for none)
routes=("unguarded|/unguarded/admin|HS256")
for alg in HS256 RS256 ES256 EdDSA; do
    lower=$(tr '[:upper:]' '[:lower:]' <<<"$alg")
    routes+=("route-guard $alg, cached|/rg/admin|$alg"
             "route-guard $alg, no cache|/rg-nocache/admin|$alg"
             "peer $alg|/peer/$lower/admin|$alg")
done

# One wrk run; prints requests/s, or fails if any response was not 2xx.
measure() {
    local path=$1 alg=$2 out
    out=$("${pin_wrk[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" \
        -H "Authorization: Bearer ${token[$alg]}" "http://$ADDR$path")
    if grep -q "Non-2xx" <<<"$out"; then
        echo "load.sh: $path answered non-2xx responses:" >&2
        echo "$out" >&2
        exit 1
    fi
    awk '/^Requests\/sec:/ { print $2 }' <<<"$out"
}

"${pin_wrk[@]}" wrk -t1 -c"$CONNECTIONS" -d2s "http://$ADDR/unguarded/admin" >/dev/null # warm-up
# Each guarded route is measured right after an unguarded run, and its ratio is taken within
# that pair: on a shared machine the load from other processes moves the absolute figures by
# 2x between minutes, far less between two adjacent runs. Tables show medians over rounds.
declare -A rps ratio
for round in $(seq "$ROUNDS"); do
    for route in "${routes[@]:1}"; do
        IFS='|' read -r label path alg <<<"$route"
        base=$(measure /unguarded/admin HS256)
        r=$(measure "$path" "$alg")
        rps[unguarded]+="$base " rps[$label]+="$r "
        ratio[$label]+="$(awk -v r="$r" -v b="$base" 'BEGIN { print r / b }') "
        echo "round $round: $label: $r req/s, unguarded just before: $base req/s" >&2
    done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "backend $BACKEND, wrk -t1 -c$CONNECTIONS -d$DURATION, one worker, $ROUNDS round(s);"
echo "requests/s and ratios are medians; each ratio is taken against the unguarded run just before."
echo
echo "| route | requests/s | vs unguarded | vs peer |"
echo "|---|---:|---:|---:|"
printf "| unguarded | %.0f | 1.00 |  |\n" "$(median "${rps[unguarded]}")"
for route in "${routes[@]:1}"; do
    IFS='|' read -r label path alg <<<"$route"
    awk -v l="$label" -v r="$(median "${rps[$label]}")" -v q="$(median "${ratio[$label]}")" \
        -v p="$(median "${ratio[peer $alg]}")" 'BEGIN {
        vs_peer = (l ~ /^route-guard/) ? sprintf("%.2fx", q / p) : ""
        printf "| %s | %.0f | %.2f | %s |\n", l, r, q, vs_peer
    }'
done
