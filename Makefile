# Two commands for a newcomer: `make demo` and `make test`. Everything else is installed here.
PYTHON ?= python3
VENV ?= .venv
FLOOR_VENV ?= .venv-floor
BIN := $(VENV)/bin

.PHONY: demo test lint unit docs examples floor bench venv clean

$(BIN)/.installed: pyproject.toml
	scripts/bootstrap.sh "$(PYTHON)" "$(VENV)" '.[dev,parquet]'
	touch $@

venv: $(BIN)/.installed

demo: $(BIN)/.installed  ## run the main example DAG against the local emulator and print a summary
	$(BIN)/python scripts/demo.py

test: $(BIN)/.installed  ## the whole suite, as CI runs it
	scripts/test.sh

lint: $(BIN)/.installed
	scripts/test.sh lint

bench: $(BIN)/.installed  ## the benchmark table (several minutes)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .demo site .pytest_cache .mypy_cache .ruff_cache
