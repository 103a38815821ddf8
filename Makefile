# Two commands for a newcomer: `make demo` and `make test`. Everything else is installed here.
PYTHON ?= python3
VENV ?= .venv
FLOOR_VENV ?= .venv-floor
BIN := $(VENV)/bin

.PHONY: demo test lint unit docs examples floor bench venv clean cluster

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

docs: $(BIN)/.installed  ## build the documentation site into site/ (strict: broken links fail)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

examples: $(BIN)/.installed  ## run every example DAG with `airflow dags test` against the local emulator
	$(BIN)/python scripts/run_example_dags.py

cluster:  ## the cluster test alone: the example DAGs on a CeleryExecutor with two workers (needs root, Debian)
	scripts/test.sh cluster

bench: $(BIN)/.installed  ## the benchmark table (several minutes)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .venv-cluster .demo site .pytest_cache .mypy_cache .ruff_cache
