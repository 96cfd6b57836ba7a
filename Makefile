# Two entry points for a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

.PHONY: install demo test bench bench-peer
install: $(STAMP)

demo: $(STAMP)  ## sample submissions -> warehouse -> lists, under ./var
	$(BIN)/bs-credit demo

test: $(STAMP)
	$(BIN)/pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python -m bench

bench-peer: $(STAMP)  ## bs-credit check vs frictionless validate, 1 k / 100 k / 1 M rows (bench/RESULTS.md)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test,bench]'
	$(BIN)/python -m bench.peer
