"""The emulator is written from the API reference: it must not import the provider."""

from __future__ import annotations

import ast
from pathlib import Path

import airflow_provider_mdsp.emulator as emulator

PACKAGE = "airflow_provider_mdsp"
ALLOWED = f"{PACKAGE}.emulator"


def _absolute(node: ast.ImportFrom, path: Path, root: Path) -> str:
    """Resolve a (relative) ``from`` import to an absolute module name."""
    if node.level == 0:
        return node.module or ""
    # The package of both a module and an __init__.py is the directory holding the file.
    package = [PACKAGE, root.name, *path.relative_to(root).parts[:-1]]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(path: Path, root: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append(_absolute(node, path, root))
    return out


def test_emulator_imports_nothing_from_the_rest_of_the_provider():
    root = Path(emulator.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for name in _imports(path, root):
            if (name == PACKAGE or name.startswith(f"{PACKAGE}.")) and not (
                name == ALLOWED or name.startswith(f"{ALLOWED}.")
            ):
                offenders.append(f"{path.relative_to(root)}: {name}")
    assert offenders == []


def test_relative_imports_resolve_inside_the_emulator():
    root = Path(emulator.__file__).parent
    names = _imports(root / "services" / "timeseries" / "routes.py", root)
    assert f"{ALLOWED}.auth" in names
    assert f"{ALLOWED}.services.timeseries.render" in names


def test_an_import_of_the_client_would_be_caught(tmp_path):
    root = tmp_path / "emulator"
    (root / "services").mkdir(parents=True)
    module = root / "services" / "sneaky.py"
    module.write_text("from ...client import transport\nimport airflow_provider_mdsp.exceptions\n")
    assert _imports(module, root) == [f"{PACKAGE}.client", f"{PACKAGE}.exceptions"]
