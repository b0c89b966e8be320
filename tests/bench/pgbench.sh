#!/usr/bin/env bash
# PostgreSQL alone: pgbench runs the server's request statement (pgbench-request.sql) from 32
# clients against TEST_POSTGRES_URL, whose 10,000 users the engine benchmark has created; then
# the same request on the narrowest schema (pgbench-narrowest*.sql), with its event.
set -euo pipefail
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$PGBENCH" ]; then echo "pgbench: not found, skipped"; exit 0; fi
seconds=${BENCH_SECONDS:-10}
echo "PostgreSQL alone (pgbench, 32 clients, 2 threads, ${seconds} s, the request statement):"
"$PGBENCH" -n -M prepared -c 32 -j 2 -T "$seconds" -f "$(dirname "$0")/pgbench-request.sql" "$TEST_POSTGRES_URL" 2>&1 \
  | grep -E "^(tps|latency average|number of failed)"
# The counters' updates that stayed on their row's page (HOT): the migration keeps room for them.
PSQL=$(dirname "$PGBENCH")/psql
if [ -x "$PSQL" ]; then
  sleep 1 # PostgreSQL publishes a backend's table statistics at most once a second
  "$PSQL" -At "$TEST_POSTGRES_URL" -c "SELECT 'users updates in place (HOT): ' || n_tup_hot_upd || ' of ' || n_tup_upd FROM pg_stat_user_tables WHERE relname = 'users'"
  "$PSQL" -q "$TEST_POSTGRES_URL" -c "SET client_min_messages = warning" -f "$(dirname "$0")/pgbench-narrowest-schema.sql"
  "$PSQL" -q "$TEST_POSTGRES_URL" -c "CHECKPOINT"
  echo "PostgreSQL alone, the narrowest schema with its event (pgbench, 32 clients, 2 threads, ${seconds} s):"
  "$PGBENCH" -n -M prepared -c 32 -j 2 -T "$seconds" -f "$(dirname "$0")/pgbench-narrowest.sql" "$TEST_POSTGRES_URL" 2>&1 \
    | grep -E "^(tps|latency average|number of failed)"
fi
