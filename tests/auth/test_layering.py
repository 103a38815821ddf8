"""The auth layer runs without Airflow: no module under auth/ imports ``airflow``."""

from __future__ import annotations

import ast
from pathlib import Path

import airflow_provider_mdsp.auth

AUTH_DIR = Path(airflow_provider_mdsp.auth.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_imported_modules_sees_every_import_form(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import airflow.models\nfrom airflow import DAG\nif True:\n    import airflow\n")

    assert imported_modules(sample) == {"airflow.models", "airflow"}


def test_auth_never_imports_airflow():
    files = sorted(AUTH_DIR.glob("*.py"))
    assert len(files) >= 6

    offenders = {
        f"{path.name}: {name}"
        for path in files
        for name in imported_modules(path)
        if name == "airflow" or name.startswith("airflow.")
    }

    assert offenders == set()
