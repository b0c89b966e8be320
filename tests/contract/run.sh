#!/usr/bin/env bash
# The contract harness: starts the server once on one database, then runs against it the tools
# the API's users run. `tests/contract/run.sh sqlite|postgres` (postgres: TEST_POSTGRES_URL).
#   - spec lint: Redocly recommended-strict, and openapi-spec-validator (sqlite pass only)
#   - schemathesis: every check, every phase
#   - generated SDKs: TypeScript (openapi-typescript + openapi-fetch, tsc), Python
#     (openapi-python-client), Rust (progenitor), each through a short scenario
#   - SelfCommunity's own client, @selfcommunity/api-services
#   - in Chromium: the docs site (once), and SelfCommunity's React UI (ui/) from another origin
#   - then in follow mode (SelfCommunity's default): the generated SDKs, SelfCommunity's client and
#     React UI again through the follow operations, and schemathesis on them
# One summary line per tool; a failing tool's log is printed. Exit status: failures or 0.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
backend=${1:-sqlite}
bin="$root/target/debug/connections-api"
venv="$root/target/contract-venv"
spec="$root/openapi.yaml"
work=$(mktemp -d /tmp/connections-contract.XXXXXX)
# Every tool's full output stays here after the run.
logs="$root/target/contract-logs/$backend"
rm -rf "$logs" && mkdir -p "$logs"
generated="$here/generated"
passed=0
failed=0

case "$backend" in
  sqlite) export DATABASE_URL="sqlite://$work/contract.sqlite3" ;;
  postgres)
    : "${TEST_POSTGRES_URL:?the postgres pass needs TEST_POSTGRES_URL (tests/with-postgres.sh sets it)}"
    export DATABASE_URL="$TEST_POSTGRES_URL" ;;
  *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
esac
export JWT_SECRET="contract-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export RUST_LOG=warn

server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Runs one tool, logs it, prints one line: "contract[backend] NAME: ok" or the failure and log.
step() {
  local name=$1; shift
  local log="$logs/$(echo "$name" | cut -d' ' -f1-4 | tr -c 'a-zA-Z0-9\n' '_' | sed 's/_*$//').log"
  local started=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "contract[$backend] $name: ok${SUMMARY:+ ($(SUMMARY_OF "$log"))} [$((SECONDS - started)) s]"
  else
    failed=$((failed + 1))
    echo "contract[$backend] $name: FAILED [$((SECONDS - started)) s]"
    sed 's/^/    | /' "$log" | tail -n 200
    echo "    (whole log: $log)"
  fi
  SUMMARY=
}
SUMMARY=

# --- seed: users and friendship mode, through the operator CLI --------------------------------
"$bin" migrate 2>"$work/migrate.log" || { cat "$work/migrate.log"; exit 1; }
"$bin" preference set configurations.follow_enabled false
declare -A id token
for who in st_staff st_caller st_target st_1 st_2 st_3 st_4 st_5 ts_a ts_b py_a py_b rs_a rs_b sc_a sc_b sc_c br_a br_b ui_a ui_b ui_c \
    tf_a tf_b pf_a pf_b rf_a rf_b fo_a fo_b fo_c uf_a uf_b; do
  id[$who]=$("$bin" user create "$who") || exit 1
  token[$who]=$("$bin" token "${id[$who]}" --ttl 3600) || exit 1
done

"$bin" user role "${id[st_staff]}" admin

# --- the server, once for every tool ------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
base="http://127.0.0.1:$port"
# The React UI's test page is served from another origin, which the server allows (CORS).
ui_port=$(free_port)
# No rate limit here: schemathesis acts thousands of times a minute with one token, and would
# mostly meet 429s (which are documented, and tested in tests/api/isolation.rs).
CORS_ALLOWED_ORIGINS="http://127.0.0.1:$ui_port" \
  "$bin" serve --bind "127.0.0.1:$port" --rate-limit-actions 0 >"$work/server.log" 2>&1 &
server_pid=$!
python3 - "$base" <<'PY' || { echo "contract[$backend]: the server did not start"; cat "$work/server.log"; exit 1; }
import sys, time, urllib.request
for _ in range(600):
    try:
        urllib.request.urlopen(sys.argv[1] + "/openapi.json", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY

# users_env U1 U2 [U3] -- CMD: USER_A/TOKEN_A, USER_B/TOKEN_B (, USER_C/TOKEN_C) for seeded users.
users_env() {
  local vars=(BASE_URL="$base") letter
  for letter in A B C; do
    [ "$1" = -- ] && break
    vars+=(USER_$letter="${id[$1]}" TOKEN_$letter="${token[$1]}")
    shift
  done
  shift
  env "${vars[@]}" "$@"
}

# Data for schemathesis to find: users who asked its caller for a connection, so that accept,
# reject, mark_seen and the request lists have something to act on.
for who in st_target st_1 st_2 st_3 st_4 st_5; do
  python3 - "$base/api/v2/user/${id[st_caller]}/connection/request/" "${token[$who]}" <<'PY' || exit 1
import sys, urllib.request
request = urllib.request.Request(sys.argv[1], method="POST", headers={"Authorization": "Bearer " + sys.argv[2]})
assert urllib.request.urlopen(request).status == 200
PY
done

# --- the spec itself (the same on every database: once) -----------------------------------------
if [ "$backend" = sqlite ]; then
  step "redocly lint (recommended-strict)" \
    npx --prefix "$here" redocly lint "$spec" --config "$here/redocly.yaml" --format stylish
  step "openapi-spec-validator" "$venv/bin/openapi-spec-validator" "$spec"
fi

# --- generated SDKs -----------------------------------------------------------------------------
rm -rf "$generated" && mkdir -p "$generated"
ts_sdk() {
  npx --prefix "$here" openapi-typescript "$spec" -o "$generated/ts/schema.d.ts" &&
    npx --prefix "$here" tsc -p "$here/sdk/ts/tsconfig.json" &&
    users_env ts_a ts_b -- node "$generated/ts-out/sdk/ts/scenario.js"
}
ts_follow() { users_env tf_a tf_b -- env MODE=follow node "$generated/ts-out/sdk/ts/scenario.js"; }
step "typescript sdk (openapi-typescript + openapi-fetch)" ts_sdk

py_sdk() {
  "$venv/bin/openapi-python-client" generate --path "$spec" --config "$here/pyclient.yaml" \
    --output-path "$generated/python/connections_client" --meta none --overwrite &&
    users_env py_a py_b -- env GENERATED="$generated/python" "$venv/bin/python" "$here/sdk/python/scenario.py"
}
py_follow() { users_env pf_a pf_b -- env MODE=follow GENERATED="$generated/python" "$venv/bin/python" "$here/sdk/python/scenario.py"; }
step "python sdk (openapi-python-client)" py_sdk

rust_sdk() {
  cargo build --locked --quiet --manifest-path "$here/sdk/rust/Cargo.toml" --target-dir "$root/target" || return 1
  users_env rs_a rs_b -- cargo run --locked --quiet --manifest-path "$here/sdk/rust/Cargo.toml" --target-dir "$root/target"
}
rust_follow() { users_env rf_a rf_b -- env MODE=follow cargo run --locked --quiet --manifest-path "$here/sdk/rust/Cargo.toml" --target-dir "$root/target"; }
step "rust sdk (progenitor)" rust_sdk

# --- SelfCommunity's own client -----------------------------------------------------------------
SUMMARY_OF() { grep -E "^# (pass|fail)" "$1" | tr '\n' ' ' | sed 's/# //g; s/ $//'; }
SUMMARY=1
step "official client (@selfcommunity/api-services)" \
  users_env sc_a sc_b sc_c -- env TOKEN_STAFF="${token[st_staff]}" node --test --test-reporter=tap --test-concurrency=1 "$here/sdk/official/official.test.mjs"

# --- the docs site in a real browser (once; skipped, and said so, without Chromium) -------------
if [ "$backend" = sqlite ]; then
  chromium_bin=$(command -v chromium || command -v chromium-browser || true)
  if [ -n "$chromium_bin" ]; then
    SUMMARY=1
    step "browser (Chromium): Swagger UI try-it-out, the reference page" \
      users_env br_a br_b -- env CHROMIUM="$chromium_bin" SCREENSHOTS="$root/target/browser" \
      node --test --test-reporter=tap --test-concurrency=1 "$here/browser/docs.test.mjs"
  elif [ "${REQUIRE_CHROMIUM:-0}" = 1 ]; then
    failed=$((failed + 1))
    echo "contract[$backend] browser: FAILED: no chromium, and REQUIRE_CHROMIUM=1"
  else
    echo "contract[$backend] browser: SKIPPED: no chromium (apt-get install chromium to run it)"
  fi
fi

# --- SelfCommunity's React UI in a real browser (both databases) -------------------------------
chromium_bin=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$chromium_bin" ]; then
  SUMMARY_OF() { grep -E "^# (pass|fail)" "$1" | tr '\n' ' ' | sed 's/# //g; s/ $//'; }
  SUMMARY=1
  react_ui() {
    "$here/ui/build.sh" &&
      users_env ui_a ui_b ui_c -- env CHROMIUM="$chromium_bin" SCREENSHOTS="$root/target/browser/react-ui-$backend" \
        UI_PORT="$ui_port" node --test --test-reporter=tap --test-concurrency=1 "$here/ui/ui.test.mjs"
  }
  step "react ui (Chromium): request, accept, counters, suggestions, blocked, live toast" react_ui
elif [ "${REQUIRE_CHROMIUM:-0}" = 1 ]; then
  failed=$((failed + 1))
  echo "contract[$backend] react ui: FAILED: no chromium, and REQUIRE_CHROMIUM=1"
else
  echo "contract[$backend] react ui: SKIPPED: no chromium (apt-get install chromium to run it)"
fi

# --- follow mode, SelfCommunity's default: the same clients through the follow operations -------
# The operator switches the mode; every instance sees it within a second (polled here, not slept).
set_mode() {
  "$bin" preference set configurations.follow_enabled "$1" || return 1
  local want=403
  [ "$1" = true ] && want=200
  python3 - "$base/api/v2/user/${id[st_1]}/is_followed/" "${token[st_caller]}" "$want" <<'PY'
import sys, time, urllib.request, urllib.error
for _ in range(100):
    request = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
    try:
        status = urllib.request.urlopen(request).status
    except urllib.error.HTTPError as e:
        status = e.code
    if status == int(sys.argv[3]):
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
PY
}
set_mode true || { echo "contract[$backend]: follow mode never came"; exit 1; }
step "typescript sdk, follow mode" ts_follow
step "python sdk, follow mode" py_follow
step "rust sdk, follow mode" rust_follow
SUMMARY_OF() { grep -E "^# (pass|fail)" "$1" | tr '\n' ' ' | sed 's/# //g; s/ $//'; }
SUMMARY=1
step "official client, follow mode (UserService's five follow functions)" \
  users_env fo_a fo_b fo_c -- node --test --test-reporter=tap --test-concurrency=1 "$here/sdk/official/follow.test.mjs"
if [ -n "$chromium_bin" ]; then
  SUMMARY=1
  react_ui_follow() {
    users_env uf_a uf_b -- env CHROMIUM="$chromium_bin" SCREENSHOTS="$root/target/browser/react-ui-follow-$backend" \
      UI_PORT="$ui_port" node --test --test-reporter=tap --test-concurrency=1 "$here/ui/follow.test.mjs"
  }
  step "react ui (Chromium), follow mode: follow button, followers, followed, counters, unfollow, live toast" react_ui_follow
fi
# Something for schemathesis to find: the caller follows some users, and is followed.
for pair in "st_caller st_1" "st_caller st_2" "st_3 st_caller" "st_1 st_caller"; do
  set -- $pair
  python3 - "$base/api/v2/user/${id[$2]}/follow/" "${token[$1]}" <<'PY' || exit 1
import sys, urllib.request
request = urllib.request.Request(sys.argv[1], method="POST", headers={"Authorization": "Bearer " + sys.argv[2]})
assert urllib.request.urlopen(request).status == 204
PY
done
SUMMARY_OF() { grep -E "^Test cases:|[0-9]+ generated" "$1" | tail -n 1 | tr -s ' '; }
SUMMARY=1
step "schemathesis (follow mode: follows)" env SCHEMATHESIS_BASE_URL="$base" SCHEMATHESIS_TOKEN="${token[st_caller]}" \
  "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$spec" --no-color --include-tag Follows --max-examples 100
set_mode false || { echo "contract[$backend]: friendship mode never came back"; exit 1; }

# --- schemathesis: last, since it acts on any user it finds ----------------------------------
SUMMARY_OF() { grep -E "^Test cases:|[0-9]+ generated" "$1" | tail -n 1 | tr -s ' '; }
SUMMARY=1
# Every operation, getEventStream included: schemathesis reads a stream until its request timeout
# (schemathesis.toml bounds that operation's) and checks each event against the declared schema.
# On PostgreSQL, the second engine, 150 examples per phase rather than 300: the same operations
# and checks again, with half the generated depth, to keep `make test` within its time.
examples=()
[ "$backend" = postgres ] && examples=(--max-examples 150)
# The webhook operations (staff only) and the follow operations (follow mode only) have runs of
# their own, with the token and the mode that reach them (above and below); here they could only
# ever answer 403, so they are left out rather than repeated.
step "schemathesis" env SCHEMATHESIS_BASE_URL="$base" SCHEMATHESIS_TOKEN="${token[st_caller]}" \
  "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$spec" --no-color "${examples[@]}" \
  --exclude-tag Webhooks --exclude-tag Follows

# The staff-only webhook operations, with a staff token (with the other token they are 403s);
# 100 examples per phase rather than 300, to keep `make test` within its time.
SUMMARY=1
step "schemathesis (staff: webhooks)" env SCHEMATHESIS_BASE_URL="$base" SCHEMATHESIS_TOKEN="${token[st_staff]}" \
  "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$spec" --no-color --include-tag Webhooks --max-examples 100

echo "contract[$backend]: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
