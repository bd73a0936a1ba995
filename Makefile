# One task runner for people and CI. Every target creates .venv on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck browser postgresql java assets screenshots lock bench clean

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP) assets
	$(BIN)/casebridge demo

test: check browser postgresql java assets
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

check: lint typecheck

lint: $(STAMP)
	$(BIN)/ruff check casebridge tests benchmarks
	$(BIN)/ruff format --check casebridge tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy casebridge

# Debian's chromium, for the test that opens the audit report in a real browser. Installing
# needs root (CI runs as root); elsewhere the test is skipped with a note.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "note: chromium is not installed; run 'sudo make browser' for the report's browser test"; \
	  fi; }

# Debian's PostgreSQL server binaries, for the service's tests on PostgreSQL: each test session
# starts its own throwaway server from them. Debian keeps them off PATH, in
# /usr/lib/postgresql/<version>/bin. Installing needs root; elsewhere those tests are skipped
# with a note (under CI they fail). On a machine with systemd the package also starts Debian's
# own cluster; the tests do not use it.
postgresql:
	@{ command -v initdb && command -v pg_ctl; } >/dev/null 2>&1 || \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends postgresql >/dev/null; \
	  else \
	    echo "note: PostgreSQL is not installed; run 'sudo make test' to test the service on PostgreSQL too"; \
	  fi; }

# Debian's Java runtime, for the Spark engine's tests (tests/spark_engine: a local Spark from pyspark).
# Installing needs root; elsewhere those tests are skipped with a note (under CI they fail).
java:
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends default-jre-headless >/dev/null; \
	  else \
	    echo "note: Java is not installed; run 'sudo make test' to test the Spark engine too"; \
	  fi; }

# The pages' browser libraries (htmx, Cytoscape.js) and the accessibility checker the browser
# tests inject (axe-core), from the npm registry at the versions package-lock.json pins. 'npm ci'
# installs exactly those into node_modules/; their dist files are then copied into the package
# (casebridge/web/static/vendor/, git-ignored), which the service serves from its own origin.
# Needs npm (Debian's nodejs and npm packages; installed here when run as root).
VENDOR := casebridge/web/static/vendor
VENDORED := $(VENDOR)/htmx.min.js $(VENDOR)/cytoscape.min.js

assets: $(VENDORED)

$(VENDORED) &: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends nodejs npm >/dev/null; \
	  else \
	    echo "error: npm is not installed; run 'sudo apt-get install nodejs npm', then 'make assets'"; exit 1; \
	  fi; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/htmx.org/LICENSE $(VENDOR)/htmx.LICENSE.txt
	cp node_modules/cytoscape/dist/cytoscape.min.js $(VENDOR)/cytoscape.min.js
	cp node_modules/cytoscape/LICENSE $(VENDOR)/cytoscape.LICENSE.txt
	touch $(VENDORED)

# The report's screenshots in docs/ (700 and 1366 px wide), from a synthetic workspace, and
# the pages' (docs/pages/*.png, 1280 x 800), taken by the browser tests as they run.
screenshots: $(STAMP) browser assets
	$(BIN)/python -m tests.audit.browser docs
	CASEBRIDGE_SCREENSHOTS=docs/pages $(BIN)/python -m pytest -q -p no:xdist tests/web/e2e

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_synth.py
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_link.py

# Re-pin every dependency after changing pyproject.toml (needs the registry).
lock:
	rm -rf /tmp/casebridge-lock && $(PYTHON) -m venv /tmp/casebridge-lock
	/tmp/casebridge-lock/bin/pip install --quiet --upgrade pip
	/tmp/casebridge-lock/bin/pip install --quiet -e '.[dev,diagnose]'
	/tmp/casebridge-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info node_modules $(VENDOR)
