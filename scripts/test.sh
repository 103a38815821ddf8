#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (`make test`, `.ci/run`):
#   lint and types, the unit and integration tests (with the DAG tests) on the newest Airflow,
#   the unit tests on the lowest Airflow that pyproject.toml admits, the docs in strict mode,
#   and every example DAG through `airflow dags test` against the local emulator, then once more as
#   a manual trigger without a logical date runs it.
#   Last, the cluster test: every example DAG on a CeleryExecutor with two workers in their own
#   namespaces, PostgreSQL, Redis and an S3 server (scripts/cluster_test.py; installs PostgreSQL and
#   Redis with apt-get when missing).
# `scripts/test.sh lint` runs only the first step; `scripts/test.sh cluster` only the last.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
FLOOR_VENV=${FLOOR_VENV:-.venv-floor}
BIN=$VENV/bin
# Compiled bytecode makes every Airflow start ~3 s faster (airflow-provider-conventions.md §4).
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX=${PYTHONPYCACHEPREFIX:-$PWD/.cache/pycache}

CLUSTER_VENV=${CLUSTER_VENV:-.venv-cluster}
step() { printf '\n==> %s\n' "$*"; }

cluster_test() {
  step "cluster test: CeleryExecutor, two workers, PostgreSQL, Redis, S3 (scripts/cluster_test.py)"
  scripts/bootstrap.sh "${PYTHON:-python3}" "$CLUSTER_VENV" '.[cluster-test]' "apache-airflow==3.3.2" pytest requests-mock
  "$CLUSTER_VENV/bin/python" -m pytest -q -p no:cacheprovider tests/operators/test_storage_s3.py
  "$CLUSTER_VENV/bin/python" scripts/cluster_test.py
}
if [ "${1:-}" = cluster ]; then
  cluster_test
  exit 0
fi

step "ruff (lint and format) and mypy"
"$BIN/ruff" check .
"$BIN/ruff" format --check .
"$BIN/mypy"
[ "${1:-}" = lint ] && exit 0

step "tests on $("$BIN/python" -c 'import airflow; print("Airflow", airflow.__version__)')"
"$BIN/python" -m pytest -n 2 --dist loadscope -q

step "unit tests on the lowest supported Airflow"
floor=$("$BIN/python" scripts/airflow_floor.py)
scripts/bootstrap.sh "$BIN/python" "$FLOOR_VENV" . "apache-airflow==$floor.*" pytest pytest-xdist requests-mock
"$FLOOR_VENV/bin/python" -c 'import airflow; print("Airflow", airflow.__version__)'
"$FLOOR_VENV/bin/python" -m pytest -n 2 -q -m "not dag and not integration" -p no:cacheprovider

step "docs (mkdocs build --strict)"
NO_MKDOCS_2_WARNING=1 "$BIN/mkdocs" build --strict --quiet

step "every example DAG against the emulator"
"$BIN/python" scripts/run_example_dags.py
step "every example DAG as the UI's Trigger button runs it: no logical date, no data interval"
"$BIN/python" scripts/run_example_dags.py --without-logical-date

# MDSP_CLUSTER_TEST=0 skips it (a machine without root or namespaces); make cluster runs it alone.
if [ "${MDSP_CLUSTER_TEST:-1}" = 1 ]; then
  cluster_test
fi
