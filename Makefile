# The two commands of the README: `make run` and `make test`.
CARGO ?= cargo
NEXTEST_PROFILE ?= default

.PHONY: run test test-sqlite test-postgres build openapi clean

## run: build and start the server on the embedded SQLite default, in demo mode
##      (prints the Swagger UI URL and a token per demo user).
run:
	$(CARGO) run --locked -- serve --demo

## test: the whole suite, on SQLite and on a throwaway PostgreSQL cluster.
test: test-sqlite test-postgres

test-sqlite:
	$(CARGO) nextest run --locked --profile $(NEXTEST_PROFILE)

## The HTTP suite again on PostgreSQL (skipped, and said so, without PostgreSQL's binaries).
test-postgres:
	tests/with-postgres.sh $(CARGO) nextest run --locked --profile $(NEXTEST_PROFILE) --test api

build:
	$(CARGO) build --locked --release

## openapi: print the spec generated from the code (what the drift test compares).
openapi:
	@$(CARGO) run --quiet --locked -- openapi

clean:
	$(CARGO) clean
