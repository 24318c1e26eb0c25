# Two commands: `make run` (the whole system on one machine) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup system-deps translations messages lint typecheck bench clean help lock

help:
	@echo "make run    - set up and run web + worker on the embedded default (SQLite, ./var)"
	@echo "make test   - set up and run the test suite"
	@echo "make lint / typecheck / bench / clean / lock (re-resolve requirements/*.txt)"

system-deps:
	@missing=""; \
	command -v ffmpeg >/dev/null || missing="$$missing ffmpeg"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing from Debian"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

# Exact versions with hashes from the lock (requirements/dev.txt), then the project itself.
$(STAMP): pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements/dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# After changing dependencies in pyproject.toml: re-resolve both lock files (with hashes).
LOCK := $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links
lock:
	$(BIN)/pip install -q pip-tools
	$(LOCK) -o requirements/prod.txt pyproject.toml
	$(LOCK) --extra dev -o requirements/dev.txt pyproject.toml

setup: system-deps $(STAMP) translations

translations: $(STAMP)
	@$(BIN)/pybabel compile -d web/translations

# After changing UI strings: extract, merge into the zh_CN catalogue, translate, commit.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext --no-location --omit-header -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations -l zh_Hans_CN --no-fuzzy-matching
	$(BIN)/python web/translations/merge_pending.py

# The suite on every core (at most 4 workers: tests/conftest.py gives each its own Redis
# databases); PYTEST_PARALLEL= runs it in one process.
PYTEST_PARALLEL ?= -n auto --maxprocesses 4 --dist loadgroup

run: setup
	$(BIN)/mam run

test: setup
	@command -v chromium >/dev/null || echo "note: chromium missing; browser tests will be skipped (.ci/run installs it)"
	$(BIN)/pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check mam workers web storage tests bench
	$(BIN)/mypy  # packages: mam, storage, workers, web (pyproject.toml)

typecheck: $(STAMP)
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/ingest.py

clean:
	rm -rf var test-artifacts .pytest_cache
