#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (`make test`, `.ci/run`):
#   lint and types, the unit and integration tests (with the DAG tests) on the newest Airflow,
#   the unit tests on the lowest Airflow that pyproject.toml admits, the docs in strict mode,
#   and every example DAG through `airflow dags test` against the local emulator.
# `scripts/test.sh lint` runs only the first step.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
FLOOR_VENV=${FLOOR_VENV:-.venv-floor}
BIN=$VENV/bin
# Compiled bytecode makes every Airflow start ~3 s faster (airflow-provider-conventions.md §4).
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX=${PYTHONPYCACHEPREFIX:-$PWD/.cache/pycache}

step() { printf '\n==> %s\n' "$*"; }

step "ruff (lint and format) and mypy"
"$BIN/ruff" check .
"$BIN/ruff" format --check .
"$BIN/mypy"
[ "${1:-}" = lint ] && exit 0

step "tests on $("$BIN/python" -c 'import airflow; print("Airflow", airflow.__version__)')"
"$BIN/python" -m pytest -n 2 -q

step "unit tests on the lowest supported Airflow"
floor=$("$BIN/python" scripts/airflow_floor.py)
scripts/bootstrap.sh "$BIN/python" "$FLOOR_VENV" . "apache-airflow==$floor.*" pytest pytest-xdist requests-mock
"$FLOOR_VENV/bin/python" -c 'import airflow; print("Airflow", airflow.__version__)'
"$FLOOR_VENV/bin/python" -m pytest -n 2 -q -m "not dag and not integration" -p no:cacheprovider

step "docs (mkdocs build --strict)"
NO_MKDOCS_2_WARNING=1 "$BIN/mkdocs" build --strict --quiet

step "every example DAG against the emulator"
"$BIN/python" scripts/run_example_dags.py
