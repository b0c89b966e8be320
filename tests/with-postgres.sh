#!/usr/bin/env bash
# Runs a command with TEST_POSTGRES_URL pointing at a throwaway PostgreSQL cluster (initdb +
# pg_ctl in a temporary directory, on a free loopback port), then removes the cluster.
# Without PostgreSQL's binaries it says so and skips, unless REQUIRE_POSTGRES=1 (CI).
set -euo pipefail

find_bin() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1
}
INITDB=$(find_bin initdb || true)
PG_CTL=$(find_bin pg_ctl || true)
if [ -z "$INITDB" ] || [ -z "$PG_CTL" ]; then
  if [ "${REQUIRE_POSTGRES:-0}" = 1 ]; then
    echo "PostgreSQL leg: initdb/pg_ctl not found, and REQUIRE_POSTGRES=1" >&2
    exit 1
  fi
  echo "SKIPPED the PostgreSQL leg: initdb/pg_ctl not found (apt-get install postgresql to run it)."
  exit 0
fi

dir=$(mktemp -d /tmp/connections-pg.XXXXXX)
# initdb refuses to run as root: run the cluster as an unprivileged user.
run_as=()
if [ "$(id -u)" = 0 ]; then
  user=postgres
  id "$user" >/dev/null 2>&1 || user=nobody
  chown "$user" "$dir"
  run_as=(runuser -u "$user" --)
fi
stop() {
  "${run_as[@]}" "$PG_CTL" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${run_as[@]}" "$INITDB" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# A throwaway cluster with connections enough for parallel tests. Durability is off for tests
# (PG_DURABLE=1, for benchmarks, keeps PostgreSQL's defaults: fsync, synchronous commit).
options="-h 127.0.0.1 -p $port -k $dir -c max_connections=400"
if [ "${PG_DURABLE:-0}" != 1 ]; then
  options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
# PG_OPTIONS: more server settings, e.g. "-c shared_preload_libraries=pg_stat_statements" to see
# what each statement costs during a benchmark.
options="$options ${PG_OPTIONS:-}"
"${run_as[@]}" "$PG_CTL" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o "$options" \
  >/dev/null || { cat "$dir/server.log" >&2; exit 1; }

echo "PostgreSQL leg: throwaway cluster on 127.0.0.1:$port ($("$PG_CTL" --version)$([ "${PG_DURABLE:-0}" = 1 ] && echo ', default durability'))"
TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres" "$@"
