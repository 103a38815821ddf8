#!/usr/bin/env bash
# Create a virtual environment and install the project into it with uv (pip as a fallback).
# usage: scripts/bootstrap.sh PYTHON VENV SPEC [EXTRA_REQUIREMENT...]
set -euo pipefail
python=$1 venv=$2 spec=$3
shift 3
if [ ! -x "$venv/bin/python" ]; then
  "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed")'
  "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -m uv --version >/dev/null 2>&1; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check uv || true
fi
if "$venv/bin/python" -m uv --version >/dev/null 2>&1; then
  "$venv/bin/python" -m uv pip install --quiet --python "$venv/bin/python" -e "$spec" "$@"
else
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec" "$@"
fi
