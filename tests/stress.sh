#!/usr/bin/env bash
# `make test-stress`: the Rust suites (SQLite, then the HTTP suite on a throwaway PostgreSQL
# cluster) STRESS_RUNS times in a row (3), while STRESS_HOGS busy processes (twice the cores:
# a load average of about 4 on two cores) take the CPU from them. Any failure stops it.
# The tests wait for events, never for a fixed time: this is how that is proved.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${STRESS_RUNS:-3}
hogs=${STRESS_HOGS:-$(( $(nproc) * 2 ))}
profile=${NEXTEST_PROFILE:-ci}

# Built before the load starts: the point is the tests under load, not the compiler.
cargo nextest run --locked --profile "$profile" --no-run

pids=()
stop_hogs() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap stop_hogs EXIT
for _ in $(seq "$hogs"); do
  sh -c 'while :; do :; done' &
  pids+=($!)
done

started=$(date +%s)
for run in $(seq "$runs"); do
  run_started=$(date +%s)
  echo "== stress run $run of $runs: $hogs busy processes on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  cargo nextest run --locked --profile "$profile"
  tests/with-postgres.sh cargo nextest run --locked --profile "$profile" --test api
  echo "== stress run $run of $runs: green in $(( $(date +%s) - run_started )) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "== $runs stress runs green in $(( $(date +%s) - started )) s"
