# diarytrial: `make demo` to see it run, `make test` for the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/diarytrial

.PHONY: demo test lint typecheck pytest pytest-clock pytest-postgres bench reference docs chromium r clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/diarytrial demo

# The SQLite and PostgreSQL runs side by side, then the clock re-runs (side by side too): each
# pytest run is one process, and this keeps both cores busy.
test: $(STAMP) lint typecheck
	@$(MAKE) --no-print-directory -j2 --output-sync=target pytest pytest-postgres
	@$(MAKE) --no-print-directory pytest-clock

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) chromium r
	DIARYTRIAL_ENV=test $(BIN)/pytest -q

# Every test runs on a controlled clock (tests/clock.py); the tests that read the date run again
# at the awkward instants tests/clock.py names: the evening before in the Americas, and the night
# the United States change to daylight-saving time.
CLOCK_SENSITIVE := tests/accounts tests/commands tests/core tests/devices tests/diary tests/exports \
	tests/monitoring tests/participants tests/phone tests/queries tests/randomization \
	tests/reminders tests/safety \
	tests/studies tests/web

pytest-clock: $(STAMP) chromium r
	$(PY) -m tests.clock_reruns $(CLOCK_SENSITIVE)

# The whole suite again on PostgreSQL: required in CI, skipped with a notice elsewhere.
pytest-postgres: $(STAMP) chromium r
	@if $(PY) -m diarytrial.web.pgcheck "$(PG_URL)"; then \
		DIARYTRIAL_ENV=test DATABASE_URL="$(PG_URL)" $(BIN)/pytest -q; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "PostgreSQL is required in CI but is not reachable at $(PG_URL)"; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(PG_URL): ran the SQLite suite only."; \
	fi

# Browser tests drive Debian's Chromium; install it when it is missing and we may.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
			sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "Chromium is missing and cannot be installed here: browser tests will be skipped."; \
		fi; \
	fi

# The dataset's R round-trip test and `make reference` use R with lme4 and nlme, the statistics
# files' read-back test haven; all from Debian.
R_PACKAGES = r-base-core r-cran-lme4 r-cran-nlme r-cran-jsonlite r-cran-haven
R_LIBRARIES = "lme4", "nlme", "jsonlite", "haven"

r:
	@if ! Rscript -e 'for (p in c($(R_LIBRARIES))) library(p, character.only = TRUE)' \
			>/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				$(R_PACKAGES); \
		elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
			sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				$(R_PACKAGES); \
		else \
			echo "R or one of its packages is missing and cannot be installed here: the R tests will be skipped or fail."; \
		fi; \
	fi

# The diagram of which part imports which, docs/dependencies.md, drawn from the code.
docs: $(STAMP)
	$(PY) docs/dependency_diagram.py

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

# Regenerate the R reference values the statistics tests compare with (needs R with lme4, nlme:
# apt-get install -y r-base-core r-cran-lme4 r-cran-nlme).
reference: $(STAMP) r
	cd tests/analysis/fixtures/reml && Rscript make_reference.R
	cd tests/analysis/fixtures/paired && Rscript make_fixtures.R
	cd tests/analysis/fixtures/safety && Rscript make_fixtures.R
	$(PY) tests/analysis/fixtures/primary/make_frame.py
	cd tests/analysis/fixtures/primary && Rscript fit.R
	cd tests/analysis/fixtures/pooled && Rscript make_reference.R

clean:
	rm -rf $(VENV) var/diarytrial.sqlite3 out .mypy_cache .ruff_cache .pytest_cache
