# make demo: create .venv, install, run the walk-through and write its figures.
# make test: create .venv, install, lint, type-check and run the whole test suite.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
OUT ?= figures

.PHONY: demo test lint typecheck pytest bench clean

$(BIN)/activate-gradfit: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of PyTorch that lies on the machines' disk; a plain `torch` pulls a CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[torch,plot,parquet,fast,playground,dev]'
	touch $@

demo: $(BIN)/activate-gradfit
	$(BIN)/gradfit demo --out $(OUT)

lint: $(BIN)/activate-gradfit
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(BIN)/activate-gradfit
	$(BIN)/mypy src

pytest: $(BIN)/activate-gradfit
	$(BIN)/python -m pytest

test: lint typecheck pytest

bench: $(BIN)/activate-gradfit
	$(BIN)/python -m pip install --quiet -e '.[torch,fast,bench,dev]'
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/realdata.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
