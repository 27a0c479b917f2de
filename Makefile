# Cartera's developer commands. `make demo` and `make test` are all a fresh clone needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A clone keeps its database, secret key and collected static files in ./var (git-ignored).
export CARTERA_DATA_DIR ?= $(CURDIR)/var
POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/cartera_test
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS)
HOST ?= 127.0.0.1
PORT ?= 8000

PO_FILES := $(wildcard cartera/locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: help install demo serve test lint test-sqlite test-postgres chromium messages clean \
	clean-all

help: ## list the targets
	@echo "Cartera: make TARGET"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | \
		awk -F'\t' '{ printf "  %-15s %s\n", $$1, $$2 }'

install: $(VENV)/.installed node_modules/.installed $(MO_FILES) ## Python venv, npm packages, translations

# Stamp files: re-run an install step only when what it installs from has changed.
$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

%.mo: %.po | $(VENV)/.installed
	$(BIN)/python scripts/compile_messages.py

demo: install ## create ./var/cartera.sqlite3 with the demo once, then serve it on :8000
	$(BIN)/cartera demo
	$(BIN)/cartera serve --host $(HOST) --port $(PORT)

serve: install ## migrate, then serve on http://127.0.0.1:8000 (web server and worker)
	$(BIN)/cartera migrate --no-input --verbosity 0
	$(BIN)/cartera serve --host $(HOST) --port $(PORT)

test: install chromium lint test-sqlite test-postgres ## everything CI runs

chromium: ## Debian's chromium for the browser tests (installs it when root)
	@scripts/ensure-chromium.sh

lint: install ## ruff, ruff format, mypy, migrations up to date
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy cartera
	$(BIN)/python manage.py makemigrations --check --dry-run --verbosity 1

# pytest exits 5 when it collected no test: a suite that ran nothing must not pass quietly.
define run_pytest
	$(1); status=$$?; \
	if [ $$status -eq 5 ]; then echo "ERROR: pytest collected no tests." >&2; exit 1; fi; \
	exit $$status
endef

test-sqlite: install ## the whole suite (browser tests included) on SQLite
	@$(call run_pytest,$(PYTEST))

test-postgres: install ## the suite except browser tests on PostgreSQL (POSTGRES_URL)
	@if ! $(BIN)/python scripts/check_postgres.py "$(POSTGRES_URL)"; then \
		if [ "$${CI:-}" = "true" ]; then \
			echo "ERROR: PostgreSQL at $(POSTGRES_URL) is unreachable; CI must test on it." >&2; \
			exit 1; \
		fi; \
		echo "************************************************************************"; \
		echo "WARNING: PostgreSQL at $(POSTGRES_URL) is unreachable."; \
		echo "WARNING: SKIPPING the PostgreSQL pass. Start PostgreSQL or set POSTGRES_URL."; \
		echo "************************************************************************"; \
		exit 0; \
	fi; \
	export CARTERA_DATABASE_URL="$(POSTGRES_URL)"; \
	$(call run_pytest,$(PYTEST) -m "not browser")

.PHONY: bench bench-quick

# `make bench ARGS="--only pg-large --fresh"` passes options on; `make bench ARGS=--quick` too.
bench: install ## benchmark on PostgreSQL (large, medium) and SQLite (medium): docs/performance.md
	$(BIN)/python bench/run.py $(ARGS)

bench-quick: install ## the benchmark's smoke run: small demo on SQLite, under a minute
	$(BIN)/python bench/run.py --quick $(ARGS)

messages: install ## update the Spanish catalogue from the source strings (needs GNU gettext)
	cd cartera && ../$(BIN)/python ../manage.py makemessages --locale es --add-location file \
		--no-obsolete
	$(BIN)/python scripts/compile_messages.py

clean: ## caches, compiled translations and collected static files
	rm -rf .mypy_cache .ruff_cache .pytest_cache $(CARTERA_DATA_DIR)/static
	find . -path ./node_modules -prune -o -path ./$(VENV) -prune -o -name __pycache__ \
		-type d -exec rm -rf {} +
	rm -f $(MO_FILES)

clean-all: clean ## also the venv, node_modules and ./var (the demo database!)
	rm -rf $(VENV) node_modules var *.egg-info
