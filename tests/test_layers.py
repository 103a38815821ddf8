"""The layering of design.md holds for the whole import graph, relative imports and lazy ones included.

exceptions, timeutil, params <- auth <- client <- hooks <- operators / sensors / triggers; the emulator
stands alone (it imports nothing of the provider, and the provider imports nothing of it); operators
do not import triggers except to defer to their own trigger; the core runs without Airflow.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "airflow_provider_mdsp"
TOP = "airflow_provider_mdsp"

#: Rank of each layer: a module may import its own layer and those of lower rank.
LAYERS = {
    "exceptions": 0,
    "timeutil": 0,
    "params": 0,
    "auth": 1,
    "client": 2,
    "hooks": 3,
    "assets": 3,  # Airflow asset URIs of the provider's objects, used by operators
    "operators": 4,
    "sensors": 4,
    "triggers": 4,
    "get_provider_info": 0,  # connection-form metadata the providers manager reads; imports nothing
}
#: Packages whose modules never import Airflow.
NO_AIRFLOW = ("exceptions", "timeutil", "params", "get_provider_info", "auth", "client")
#: Operator -> trigger imports that defer to the operator's own trigger (the only ones allowed), and
#: the job operators' base naming the job trigger's base type.
DEFERS_TO = {
    ("operators.jobs", "triggers.base"),
    ("operators.bulk", "triggers.bulk"),
    ("operators.datalake", "triggers.datalake"),
    ("operators.event_jobs", "triggers.event_jobs"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def resolve(module: str, package_file: bool, node: ast.ImportFrom) -> list[str]:
    """Return the absolute modules an ``ImportFrom`` names, relative levels resolved."""
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        # In a package's __init__ the package itself is level 1; in a module, its parent is.
        keep = len(parts) - node.level + (1 if package_file else 0)
        base = ".".join(parts[:keep] + ([node.module] if node.module else []))
    names = [base]
    # ``from pkg import sub`` imports the submodule ``pkg.sub`` when it exists.
    names.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Every module a file imports, at any depth (lazy and TYPE_CHECKING imports included)."""
    module, package_file = module_name(path), is_package(path)
    tree = ast.parse(source if source is not None else path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.update(resolve(module, package_file, node))
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def ours(name: str) -> str | None:
    """Return the provider module an imported name refers to (longest existing prefix), or ``None``."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations(module: str, imports: set[str]) -> list[str]:
    """Return why the imports of ``module`` break the layering (empty when they do not)."""
    own = layer(module)
    found = [
        f"{module} imports {name}: {own} must run without Airflow"
        for name in sorted(imports)
        if own in NO_AIRFLOW and (name == "airflow" or name.startswith("airflow."))
    ]
    for target in sorted({t for t in map(ours, imports) if t is not None and t != TOP}):
        other = layer(target)
        if (own == "emulator") != (other == "emulator"):
            found.append(f"{module} imports {target}: the emulator and the provider stand apart")
            continue
        if own == "emulator" or own not in LAYERS or other not in LAYERS:
            continue
        if LAYERS[other] > LAYERS[own]:
            found.append(f"{module} imports {target}: {own} may not import the higher layer {other}")
        short = (module.removeprefix(f"{TOP}."), target.removeprefix(f"{TOP}."))
        if own == "operators" and other == "triggers" and short not in DEFERS_TO:
            found.append(f"{module} imports {target}: operators do not import triggers (only to defer)")
    return found


def test_every_module_has_a_layer():
    unplaced = [m for m in MODULES if m != TOP and layer(m) not in LAYERS and layer(m) != "emulator"]
    assert not unplaced, f"add these to LAYERS in {__file__}: {unplaced}"


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_the_import_graph_follows_the_layers(module):
    assert violations(module, imported_modules(MODULES[module])) == []


@pytest.mark.parametrize(
    ("where", "planted"),
    [
        ("emulator/services/assets/models.py", "from ....client import transport"),
        ("emulator/services/assets/models.py", "from airflow_provider_mdsp.client import transport"),
        ("emulator/state.py", "from .. import exceptions"),
        ("client/transport.py", "from ..hooks import mdsp"),
        ("client/transport.py", "from . import tokens as _t\nfrom airflow.sdk import BaseHook"),
        ("auth/provider.py", "from ..client.settings import ClientSettings"),
        ("operators/events.py", "from ..triggers.checks import check_events"),
        ("hooks/mdsp.py", "from airflow_provider_mdsp.emulator import run_emulator"),
        ("timeutil.py", "from .auth import access_token"),
    ],
)
def test_a_planted_cross_layer_import_is_caught(where, planted):
    path = PACKAGE / where
    source = path.read_text() + "\n\ndef _planted():\n" + textwrap.indent(planted, "    ") + "\n"
    assert violations(module_name(path), imported_modules(path, source))


def test_core_works_with_airflow_unimportable():
    """Import and use exceptions, auth and client in a process where ``import airflow`` fails."""
    script = textwrap.dedent(
        """
        import sys, importlib.abc, pkgutil

        class NoAirflow(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "airflow" or name.startswith("airflow."):
                    raise ImportError("airflow is blocked in this test")
                return None

        sys.meta_path.insert(0, NoAirflow())
        import requests_mock
        import airflow_provider_mdsp.exceptions, airflow_provider_mdsp.timeutil, airflow_provider_mdsp.params
        import airflow_provider_mdsp.auth as auth
        import airflow_provider_mdsp.client as client_pkg
        for mod in pkgutil.iter_modules(client_pkg.__path__):
            __import__(f"airflow_provider_mdsp.client.{mod.name}")
        from airflow_provider_mdsp.client.settings import ClientSettings
        from airflow_provider_mdsp.client.token_fetch import token_provider_for
        from airflow_provider_mdsp.client.transport import Transport

        settings = ClientSettings("https://gateway.eu1.mindsphere.io")
        creds = auth.TenantCredentials("cid", "secret", "acme", auth.piam_token_url(settings.gateway_url, "acme"))
        with requests_mock.Mocker() as m:
            m.post(creds.token_url, json={"access_token": "tok", "expires_in": 1800, "scope": "iot.tim.r"})
            m.get("https://gateway.eu1.mindsphere.io/api/assetmanagement/v3/assets/root", json={"name": "acme"})
            transport = Transport(settings, token_provider_for(settings, creds))
            assert transport.request_json("GET", "/api/assetmanagement/v3/assets/root") == {"name": "acme"}
        assert not [m for m in sys.modules if m == "airflow" or m.startswith("airflow.")]
        print("core ok without airflow")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "core ok without airflow" in result.stdout


HTTP_STACK = ("starlette", "fastapi", "uvicorn", "requests")


@pytest.mark.parametrize(
    "module",
    sorted(m for m in MODULES if m.endswith((".emulator.errors", ".models", ".store", ".jobs", ".window"))),
    ids=str,
)
def test_emulator_models_and_errors_import_no_http_stack(module):
    """Models hold rules and state only (moto's split); routes and ``responses`` do the HTTP."""
    imports = imported_modules(MODULES[module])
    assert not [name for name in imports if name.split(".")[0] in HTTP_STACK]


def test_test_modules_share_helpers_not_each_other():
    """Shared test code lives in helper modules (``tests/helpers``, a folder's ``helpers``/``conftest``),
    never in another ``test_*`` module: importing one runs its tests' module-level set-up and couples them."""
    tests = ROOT / "tests"
    found = []
    for path in sorted(tests.rglob("*.py")):
        for name in imported_modules(path):
            if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_"):
                target = ROOT.joinpath(*name.split(".")).with_suffix(".py")
                if target.exists() and target != path:
                    found.append(f"{module_name(path)} imports {name}")
    assert found == []
