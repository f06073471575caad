# Two commands do all set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run test install install-dev ingest eval bench clean browser-deps pg-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# CPU torch first, from the pinned release, so nothing pulls a CUDA build of several GB.
$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e .
	touch $@

$(DEV_STAMP): $(STAMP)
	$(PIP) install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

ingest: install
	$(BIN)/coach ingest

run: install
	$(BIN)/coach ingest
	$(BIN)/coach serve

# Browser tests drive Debian's Chromium; install it when it is missing (root on these machines).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium with apt-get"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; browser tests will be skipped"; }

# The PostgreSQL store tests start a real server from Debian's postgresql package (initdb, pg_ctl).
pg-deps:
	@if [ ! -x /usr/local/bin/initdb ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing postgresql with apt-get"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	  || echo "warning: could not install postgresql; the PostgreSQL store tests will be skipped"; fi

test: install-dev browser-deps pg-deps
	$(BIN)/python -m pytest

eval: install
	$(BIN)/coach eval

bench: install
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf .coach .pytest_cache
