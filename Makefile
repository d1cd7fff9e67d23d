# Two entry points for a newcomer on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck bench system clean

DEV    := $(VENV)/.installed-dev

# `make demo` needs Tenure alone; `make test` adds the test tools and the Spark extra.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(STAMP)

$(DEV): $(STAMP)
	$(BIN)/pip install -q -e '.[dev,spark]'
	touch $(DEV)

venv: $(DEV)

## Debian packages the test suite drives for real: PostgreSQL server, Chromium, Java (Spark).
system:
	bash scripts/install-system-packages.sh

demo: $(STAMP)
	$(BIN)/tenure demo

lint: $(DEV)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# Two workers, a test file each at a time (its module fixtures stay shared): the suite on 2 cores.
test: $(DEV) system lint
	$(BIN)/pytest -n 2 --dist loadfile

## Every benchmark, then one summary table; `make bench BENCH_ARGS=--smoke` runs each at its
## smallest size (what `make test` checks), `BENCH_ARGS="--only web"` one of them.
BENCH_ARGS ?=
bench: $(DEV)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .tenure .data build *.egg-info
