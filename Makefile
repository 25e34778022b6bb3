# Campana: `make run` serves with demo data, `make test` runs every check CI runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint typecheck arch migrations-check pytest pytest-sqlite pytest-postgresql bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/campana serve --demo --host $(HOST) --port $(PORT)

test: lint typecheck arch migrations-check pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy core sfa ema channels callcenter configurator api bench tests migrations/env.py

arch: $(STAMP)
	$(BIN)/lint-imports

migrations-check: $(STAMP)
	@mkdir -p var && rm -f var/alembic-check.db*
	CAMPANA_DATABASE_URL=sqlite:///var/alembic-check.db $(BIN)/alembic upgrade heads
	CAMPANA_DATABASE_URL=sqlite:///var/alembic-check.db $(BIN)/alembic check

pytest: pytest-sqlite pytest-postgresql

pytest-sqlite: $(STAMP)
	@echo "== pytest on SQLite =="
	env -u CAMPANA_TEST_DATABASE_URL $(BIN)/python -m pytest -q $(PYTEST_ARGS)

pytest-postgresql: $(STAMP)
	@if [ -n "$$CAMPANA_TEST_DATABASE_URL" ]; then \
		echo "== pytest on PostgreSQL =="; \
		$(BIN)/python -m pytest -q $(PYTEST_ARGS); \
	else \
		echo "== pytest on PostgreSQL skipped: CAMPANA_TEST_DATABASE_URL is not set =="; \
	fi

bench: $(STAMP)
	@for b in bench/bench_*.py; do \
		m=$$(basename "$$b" .py); echo "== bench.$$m"; $(BIN)/python -m "bench.$$m" || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
