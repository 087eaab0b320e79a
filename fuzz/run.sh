#!/usr/bin/env bash
# Runs every fuzz target of route-guard for a fixed time, one after the other, and prints each
# target's exec count. Crashes land in fuzz/artifacts/<target>/ and make the script fail.
#
#   fuzz/run.sh            # 300 s per target
#   fuzz/run.sh 60 token   # 60 s, one target
#
# cargo-fuzz needs nightly compiler flags (-Zsanitizer=address); on a stable-only machine
# RUSTC_BOOTSTRAP=1 lets the stable compiler accept them. Install it with
# `cargo install cargo-fuzz --locked`.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-300}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(authorization token claim_path policy)
export RUSTC_BOOTSTRAP=1
mkdir -p logs corpus/authorization corpus/token corpus/claim_path corpus/policy

# Seeds: one well-formed input per target, so the fuzzer starts past the first checks.
printf 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln' > corpus/authorization/seed
printf '\001{"alg":"HS256","typ":"JWT"}\n{"sub":"root","exp":9999999999,"roles":["admin"]}' > corpus/token/seed-signed
printf '\000eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyb290In0.c2ln' > corpus/token/seed-raw
printf 'realm_access.roles\n{"realm_access":{"roles":["admin","user"]},"roles":"a b"}' > corpus/claim_path/seed
printf '\003\001\002\005\021\042\007\043' > corpus/policy/seed

cargo fuzz build -O
status=0
for target in "${targets[@]}"; do
  dict=()
  [ "$target" = token ] && dict=(-dict=dict/token.dict)
  log="logs/$target.log"
  # One job, one worker: the machine's cores are shared.
  if ! cargo fuzz run -O "$target" "corpus/$target" -- -max_total_time="$seconds" \
      -max_len=4096 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" >"$log" 2>&1; then
    echo "$target: CRASH, see fuzz/$log and fuzz/artifacts/$target/" >&2
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  echo "$target: ${seconds}s, ${runs} execs, ${cov}"
done
exit "$status"
