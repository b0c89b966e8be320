# The two commands of the README: `make run` and `make test`.
CARGO ?= cargo
NEXTEST_PROFILE ?= default
PYTHON ?= python3
CONTRACT := tests/contract
VENV := target/contract-venv

.PHONY: run test test-stress test-sqlite test-postgres postgres-leg contract-tools build bench bench-postgres bench-engine bench-tools docs openapi clean

## run: build and start the server on the embedded SQLite default, in demo mode
##      (prints the Swagger UI URL and a token per demo user). Follow mode, SelfCommunity's
##      default; `make run MODE=friendship` for requests and connections.
MODE ?= follow
run:
	$(CARGO) run --locked -- serve --demo --demo-mode $(MODE)

## test: the whole suite. On SQLite: the Rust tests, then the contract harness (lint,
## schemathesis, generated SDKs, SelfCommunity's client). Then the same HTTP suite and harness
## on a throwaway PostgreSQL cluster (skipped, and said so, without PostgreSQL's binaries).
test: test-sqlite test-postgres

test-sqlite: contract-tools
	$(CARGO) nextest run --locked --profile $(NEXTEST_PROFILE)
	$(CARGO) build --locked --quiet
	$(CONTRACT)/run.sh sqlite

test-postgres: contract-tools
	tests/with-postgres.sh $(MAKE) --no-print-directory postgres-leg

## test-stress: the Rust suites on both engines three times in a row while busy processes keep
##      every core busy (STRESS_RUNS, STRESS_HOGS): no test may depend on the scheduler.
test-stress:
	NEXTEST_PROFILE=$(NEXTEST_PROFILE) tests/stress.sh

# Run by tests/with-postgres.sh, with TEST_POSTGRES_URL set.
postgres-leg:
	$(CARGO) nextest run --locked --profile $(NEXTEST_PROFILE) --test api
	$(CARGO) build --locked --quiet
	$(CONTRACT)/run.sh postgres

## contract-tools: the harness's pinned tools, from the registries, into the work tree.
contract-tools: $(VENV)/.installed $(CONTRACT)/node_modules/.installed $(CONTRACT)/ui/node_modules/.installed

$(VENV)/.installed: $(CONTRACT)/requirements.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $(CONTRACT)/requirements.txt
	touch $@

$(CONTRACT)/node_modules/.installed: $(CONTRACT)/package.json $(CONTRACT)/package-lock.json
	cd $(CONTRACT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# SelfCommunity's React UI for the browser test (install scripts off: see ui/.npmrc).
$(CONTRACT)/ui/node_modules/.installed: $(CONTRACT)/ui/package.json $(CONTRACT)/ui/package-lock.json
	cd $(CONTRACT)/ui && npm ci --no-audit --no-fund --loglevel=error
	touch $@

build:
	$(CARGO) build --locked --release

## bench: the release server under wrk, on SQLite (BENCH_ARGS: --users, --preload, --duration,
##        --sqlite-synchronous normal, --workloads; BENCH_BIN=PATH measures another build).
## bench-postgres: the same on a throwaway PostgreSQL cluster.
bench: build bench-tools
	$(PYTHON) tests/bench/bench.py $(BENCH_ARGS)

bench-postgres: build bench-tools
	PG_DURABLE=1 tests/with-postgres.sh $(PYTHON) tests/bench/bench.py --postgres $(BENCH_ARGS)

## bench-engine: the write path without HTTP (the repository, and the narrowest schema's lower
##        bound, with and without its event), on SQLite and on a throwaway PostgreSQL cluster;
##        then PostgreSQL alone (pgbench): the server's request statement, and the narrowest's.
bench-engine:
	PG_DURABLE=1 tests/with-postgres.sh sh -c '$(CARGO) bench --locked --bench engine && tests/bench/pgbench.sh'

bench-tools:
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

## docs: regenerate the docs pages (docs/api/*.md, docs/connections.md) from openapi.yaml.
docs:
	$(CARGO) run --quiet --locked -- docs

## openapi: print the spec generated from the code (what the drift test compares).
openapi:
	@$(CARGO) run --quiet --locked -- openapi

clean:
	$(CARGO) clean
	rm -rf $(CONTRACT)/node_modules $(CONTRACT)/generated
