"""The layering of design.md holds: the core runs without Airflow, the emulator stands alone."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "airflow_provider_mdsp"


def imported_modules(path: Path) -> set[str]:
    """Return every module a file imports, at any depth (lazy imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def files_of(*parts: str) -> list[Path]:
    found = []
    for part in parts:
        target = PACKAGE / part
        found.extend([target] if target.suffix == ".py" else sorted(target.rglob("*.py")))
    return found


@pytest.mark.parametrize("path", files_of("exceptions.py", "auth", "client"), ids=lambda p: p.name)
def test_core_never_imports_airflow(path):
    airflow_imports = {m for m in imported_modules(path) if m == "airflow" or m.startswith("airflow.")}
    assert not airflow_imports, f"{path} imports {airflow_imports}: auth/ and client/ must run without Airflow"


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
        import airflow_provider_mdsp.exceptions
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


def test_emulator_imports_nothing_from_the_provider():
    offending = {}
    for path in files_of("emulator"):
        bad = {
            m
            for m in imported_modules(path)
            if m.startswith("airflow_provider_mdsp") and not m.startswith("airflow_provider_mdsp.emulator")
        }
        if bad:
            offending[str(path)] = bad
    assert not offending, f"the emulator must be written from the API reference, not the client: {offending}"
