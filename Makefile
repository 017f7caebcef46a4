# Panjereh: two commands do all set-up on a fresh machine — `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
PANJEREH := $(VENV)/bin/panjereh
export PANJEREH_HOME ?= $(CURDIR)/var
PG_TEST_URL ?= $(or $(PANJEREH_TEST_DATABASE_URL),postgresql://postgres@127.0.0.1:5432/panjereh_test)
REDIS_TEST_URL ?= $(or $(PANJEREH_TEST_REDIS_URL),redis://127.0.0.1:6379/15)
PYTEST_WORKERS ?= auto

.PHONY: help demo test test-sqlite test-postgres lint typecheck bench bench-packages install assets system-packages services messages clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet --python $(PYTHON)
	@touch $@

node_modules/.synced: package.json package-lock.json
	$(call debian,node nodejs npm npm)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.synced assets ## Python dependencies from the lockfile (the virtualenv is made if missing)

JDM_EDITOR := src/panjereh/web/static/build/jdm-editor/editor.js
JDM_SOURCES := $(wildcard src/panjereh/web/assets/jdm-editor/*)

$(JDM_EDITOR): node_modules/.synced $(JDM_SOURCES)
	node src/panjereh/web/assets/jdm-editor/build.mjs

assets: node_modules/.synced $(JDM_EDITOR) ## Front-end assets from the npm registry (package-lock.json), the JDM editor bundled

demo: install ## Run the product on its embedded default (SQLite under ./var, demo data, registries, portal)
	$(PANJEREH) demo

# $(call debian,command package ...): install from the Debian packages each package whose command is missing.
define debian
	@missing=""; PATH="$$PATH:/usr/sbin:/sbin"; \
	set -- $(1); while [ $$# -gt 1 ]; do command -v $$1 >/dev/null || missing="$$missing $$2"; shift 2; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing from the Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

system-packages: ## Debian packages the tests use, when missing: Chromium (browser tests), poppler-utils (PDF tests), nginx (the reverse proxy's configuration)
	$(call debian,chromium chromium pdftoppm poppler-utils nginx nginx)

bench-packages: ## Debian packages the benchmarks use, when missing: wrk (the exchange's load generator), nginx (bench/load)
	$(call debian,wrk wrk nginx nginx)

services: ## Check PostgreSQL and Redis (fatal with CI=true; never silently skipped)
	@$(PY) -m tests.support.services "$(PG_TEST_URL)" "$(REDIS_TEST_URL)"

test: install system-packages services lint ## Install what the tests need, then run them on SQLite and on PostgreSQL + Redis
	@mkdir -p var; set -o pipefail; \
	$(MAKE) --no-print-directory test-sqlite 2>&1 | tee var/test-sqlite.log; sqlite_rc=$$?; \
	$(MAKE) --no-print-directory test-postgres 2>&1 | tee var/test-postgres.log; pg_rc=$$?; \
	echo; echo "== summary per database =="; \
	echo "SQLite:              $$(tail -n 1 var/test-sqlite.log | sed 's/=//g')"; \
	echo "PostgreSQL + Redis:  $$(tail -n 1 var/test-postgres.log | sed 's/=//g')"; \
	[ $$sqlite_rc = 0 ] && [ $$pg_rc = 0 ]

test-sqlite: install ## The suite on SQLite (browser tests included), with coverage
	@mkdir -p var
	PANJEREH_TEST_DATABASE_URL=sqlite $(VENV)/bin/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider \
	  --cov=panjereh --cov-report=term:skip-covered --cov-report=xml:var/coverage.xml -q

test-postgres: install ## The suite on PostgreSQL and Redis (browser tests run in the SQLite pass)
	@mkdir -p var
	PANJEREH_TEST_DATABASE_URL=$(PG_TEST_URL) PANJEREH_TEST_REDIS_URL=$(REDIS_TEST_URL) \
	  $(VENV)/bin/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider -m "not browser" -q

lint: install ## ruff, the import-linter contracts, mypy
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy src/panjereh tests

bench: install bench-packages ## Benchmarks: ratios measured in one run (see docs/performance.md)
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

messages: install ## Extract translatable messages and update the English catalog
	@# No source locations and messages sorted: the catalog then changes only where a message does (line
	@# numbers moving in a template would otherwise rewrite half of it, and the union merge of branches
	@# in .gitattributes keeps working). Messages no longer in the code are dropped, not kept as `#~`.
	$(VENV)/bin/pybabel extract -F babel.cfg --no-location --sort-output -o var/messages.pot src/panjereh
	$(VENV)/bin/pybabel update -i var/messages.pot -d src/panjereh/locale -l en --no-fuzzy-matching --ignore-obsolete
	@# The template's creation time changes at every run, and no reader of the catalog needs it.
	sed -i '/^"POT-Creation-Date: /d' src/panjereh/locale/en/LC_MESSAGES/messages.po

clean: ## Remove the virtualenvs, assets and local data
	rm -rf $(VENV) $(TOOLS) node_modules var
