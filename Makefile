# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
NODE_BIN := node_modules/.bin
GENERATOR := $(VENV)/client-generator
GENERATOR_STAMP := $(GENERATOR)/.installed
# The last released contract: the highest version in contract/released/.
RELEASED := $(lastword $(shell ls contract/released/openapi-*.json 2>/dev/null | sort -V))

.PHONY: run test test-fast test-postgresql test-deep lint lint-code contract release-contract check-openapi openapi \
	venv node generator clean xapi-conformance

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

venv: $(STAMP)

# Spectral and optic, pinned in package-lock.json (Node 20 or later).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

node: $(NODE_STAMP)

# openapi-python-client (pyproject's client-generator group) in a venv of its own: it pins typer
# below ours. tests/test_generated_client.py generates a client with it.
$(GENERATOR_STAMP): pyproject.toml
	$(PYTHON) -m venv $(GENERATOR)
	$(GENERATOR)/bin/pip install --quiet --upgrade pip
	$(GENERATOR)/bin/pip install --quiet --group client-generator
	touch $(GENERATOR_STAMP)

generator: $(GENERATOR_STAMP)

## Serve on http://127.0.0.1:$(PORT) with the SQLite default (migrates first, then prints the
## URL and where the database is).
run: $(STAMP)
	$(BIN)/iqt serve --port $(PORT)

# pytest across every core (pytest-xdist), each worker with a database of its own.
# A fixed hash seed: the generated cases (schemathesis) depend on the order of sets, so the
# default run is the same slice every time; make test-deep draws afresh.
PYTEST := PYTHONHASHSEED=$${PYTHONHASHSEED:-0} $(BIN)/python -m pytest -n auto --dist worksteal

## Lint and type-check, then the suite on SQLite, and on PostgreSQL when IQT_TEST_POSTGRES_URL
## is set. The contract tools run inside the suite (tests/test_contract.py). CI=true requires
## every service: PostgreSQL here, Redis in the suite.
test: lint-code node generator
	IQT_TEST_DATABASE_URL= $(PYTEST)
	@$(MAKE) --no-print-directory test-postgresql PYTEST_ARGS=

## The inner loop: SQLite only, no property tests, fuzzing, Node tools or server processes.
test-fast: $(STAMP)
	IQT_TEST_DATABASE_URL= $(PYTEST) -m "not slow and not postgresql" $(PYTEST_ARGS)

## The property and fuzz tests at full depth with fresh random examples (SQLite, then
## PostgreSQL when IQT_TEST_POSTGRES_URL is set).
test-deep: $(STAMP) node generator
	export PYTHONHASHSEED=random; IQT_TEST_DEPTH=deep IQT_TEST_DATABASE_URL= $(PYTEST) -m slow
	@PYTHONHASHSEED=random $(MAKE) --no-print-directory test-postgresql PYTEST_ARGS="-m slow" IQT_TEST_DEPTH=deep

test-postgresql:
	@if [ -n "$$IQT_TEST_POSTGRES_URL" ]; then \
		echo "== on PostgreSQL =="; \
		IQT_TEST_DATABASE_URL="$$IQT_TEST_POSTGRES_URL" $(PYTEST) $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
		echo "CI=true but IQT_TEST_POSTGRES_URL is not set: the PostgreSQL suite cannot run" >&2; \
		exit 1; \
	else \
		echo "PostgreSQL suite skipped: set IQT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/iqt_test to run it"; \
	fi

lint: lint-code contract

lint-code: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app
	$(BIN)/lint-imports --no-cache
	$(BIN)/hadolint Dockerfile

## The contract: Spectral finds no error, and optic no breaking change since the last release
## (offline: no telemetry, no update check).
contract: $(NODE_STAMP)
	$(NODE_BIN)/spectral lint openapi.json --fail-severity=error --display-only-failures
	OPTIC_TELEMETRY_LEVEL=off NO_UPDATE_NOTIFIER=1 \
		$(NODE_BIN)/optic diff $(RELEASED) openapi.json --check --standard contract/optic.yml

## On a release: keep its contract as contract/released/openapi-<version>.json.
release-contract: $(STAMP)
	cp openapi.json contract/released/openapi-$$($(BIN)/python -c 'import app; print(app.__version__)').json

## Regenerate the checked-in OpenAPI document.
openapi: $(STAMP)
	$(BIN)/iqt openapi > openapi.json

# The ADL LRS conformance suite (an unmodified copy; not part of `make test`: it takes minutes).
SUITE ?= ../shared/xapi-conformance-suite

## Run the ADL xAPI conformance suite (SUITE=path) against a scratch server, 1.0.3 and 2.0.0.
xapi-conformance: $(STAMP)
	bench/xapi_conformance.sh $(SUITE) $(BIN)

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
