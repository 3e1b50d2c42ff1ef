# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test lint check-openapi openapi venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

venv: $(STAMP)

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

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app
	$(BIN)/hadolint Dockerfile

## Regenerate the checked-in OpenAPI document.
openapi: $(STAMP)
	$(BIN)/iqt openapi > openapi.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
