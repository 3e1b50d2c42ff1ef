# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
NODE_BIN := node_modules/.bin
# The last released contract: the highest version in contract/released/.
RELEASED := $(lastword $(shell ls contract/released/openapi-*.json 2>/dev/null | sort -V))

.PHONY: run test lint contract release-contract check-openapi openapi venv node clean

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

## Serve on http://127.0.0.1:$(PORT) with the SQLite default (migrates first).
run: $(STAMP)
	$(BIN)/iqt serve --port $(PORT)

## Lint, type-check, then the suite on SQLite, and on PostgreSQL when IQT_TEST_POSTGRES_URL is set.
test: lint
	IQT_TEST_DATABASE_URL= $(BIN)/python -m pytest
	@if [ -n "$$IQT_TEST_POSTGRES_URL" ]; then \
		echo "== the same suite on PostgreSQL =="; \
		IQT_TEST_DATABASE_URL="$$IQT_TEST_POSTGRES_URL" $(BIN)/python -m pytest; \
	fi

lint: $(STAMP) contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app
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

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
