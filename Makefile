# Two entry points for a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test,cluster,spark]'
	touch $(STAMP)

.PHONY: install demo test bench bench-peer
install: $(STAMP)

demo: $(STAMP)  ## sample submissions -> warehouse -> lists, under ./var
	$(BIN)/bs-credit demo

test: $(STAMP)  ## Spark tests (marker spark) run when java is present, else are skipped and said so
	@command -v java >/dev/null || echo "make test: no Java runtime: the Spark tests are SKIPPED (install openjdk-17-jre-headless)"
	$(BIN)/pytest -n 2 -q -rs

bench: $(STAMP)
	$(BIN)/python -m bench

# The officer's install: the runtime and frictionless, no test tools (pandera loads hypothesis when it is there).
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet -c requirements.lock -e '.[bench]'
	touch $@

bench-peer: $(BENCH_VENV)/.installed  ## bs-credit check vs frictionless validate, 1 k / 100 k / 1 M rows (bench/RESULTS.md)
	$(BENCH_VENV)/bin/python -m bench.peer
