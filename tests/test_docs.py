"""The documentation keeps up with the code: every connection field with its default, every
operator and sensor, every public module in the API reference, and code examples that parse.

The site itself is built with ``mkdocs build --strict`` (broken links and references fail it);
these checks are the ones that build cannot make. No Airflow import is needed.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from airflow_provider_mdsp.get_provider_info import CONN_FIELDS
from tests.helpers.processes import load_module

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "airflow_provider_mdsp"
SITE_PAGES = sorted(p for p in DOCS.rglob("*.md") if p.relative_to(DOCS).parts[0] not in ("dev", "_griffe"))
#: Modules that are not API: provider metadata read by Airflow, and the emulator (its own page).
NOT_API = {"airflow_provider_mdsp.get_provider_info"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _public_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        if ".emulator" in name or name in NOT_API or (path.name.startswith("_") and path.name != "__init__.py"):
            continue
        tree = ast.parse(path.read_text())
        defines = any(isinstance(n, (ast.ClassDef, ast.FunctionDef)) for n in tree.body)
        if defines:
            names.append(name)
    return names


def _classes(subpackage: str, suffix: str) -> list[str]:
    found = []
    for path in sorted((PACKAGE / subpackage).glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and node.name.endswith(suffix) and "Base" not in node.name:
                found.append(node.name)
    return found


def _connection_rows() -> dict[str, str]:
    rows = {}
    for line in (DOCS / "connections.md").read_text().splitlines():
        match = re.match(r"^\| `(\w+)`", line)
        if match:
            rows[match.group(1)] = line
    return rows


def test_connection_page_lists_every_field_with_its_default() -> None:
    rows = _connection_rows()
    assert set(CONN_FIELDS) <= set(rows), f"undocumented fields: {sorted(set(CONN_FIELDS) - set(rows))}"
    for name, spec in CONN_FIELDS.items():
        default = spec["schema"].get("default")
        if default is None:
            continue
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        assert f"| `{shown}` |" in rows[name], f"{name}: default {shown} not in {rows[name]!r}"


def test_connection_page_names_every_auth_type() -> None:
    text = (DOCS / "connections.md").read_text()
    for auth_type in CONN_FIELDS["auth_type"]["schema"]["enum"]:
        assert f"### `{auth_type}`" in text


@pytest.mark.parametrize(("subpackage", "suffix"), [("operators", "Operator"), ("sensors", "Sensor")])
def test_operators_page_describes_every_operator_and_sensor(subpackage: str, suffix: str) -> None:
    text = (DOCS / "operators.md").read_text()
    classes = _classes(subpackage, suffix)
    assert classes
    assert [c for c in classes if f"`{c}`" not in text] == []


def test_api_reference_covers_every_public_module() -> None:
    reference = "\n".join(p.read_text() for p in (DOCS / "reference").glob("*.md"))
    documented = set(re.findall(r"^::: ([\w.]+)$", reference, re.MULTILINE))
    assert [m for m in _public_modules() if m not in documented] == []
    assert sorted(documented - set(_public_modules())) == []


@pytest.mark.parametrize("page", SITE_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_python_examples_parse(page: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), re.DOTALL)
    for block in blocks:
        ast.parse(block)


def test_the_client_reference_lists_every_service_and_method_from_the_code() -> None:
    hook = load_module("client_methods", DOCS / "_hooks" / "client_methods.py")
    page = (DOCS / "reference" / "client.md").read_text()
    assert hook.MARKER in page
    table = hook.on_page_markdown(page)
    from airflow_provider_mdsp.client.timeseries import TimeSeriesClient

    assert "| `timeseries` | [`TimeSeriesClient`]" in table
    assert all(f"`{name}`" in table for name in ("put_timeseries", "iter_event_pages", "create_import_job"))
    assert len(hook.services()) >= 10
    assert hook.methods(TimeSeriesClient)[0] == "iter_timeseries_pages"


#: Documents a user of the provider cannot see; a public docstring or comment must not send them
#: there, nor speak its shorthand for sources (``N:``, ``DOC``, ``QX``, ``SNIP:``). A section sign is
#: fine after a public standard (``RFC 9110 §10.2.3``).
_UNPUBLISHED = re.compile(
    r"(?<!\d )§|insights-hub-api|user-asks|airflow-provider-conventions|style-anchors|design\.md"
    r"|\bN:\w|\bDOC [a-z]|\bQX\b|\bSNIP:"
)
#: The emulator's rules name the reference they copy; every other module speaks to users.
_INTERNAL = ("emulator",)


def _citations(path: Path) -> list[str]:
    """Return the docstring and comment lines of ``path`` that cite an unpublished document."""
    text = path.read_text()
    lines = [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            lines += (ast.get_docstring(node, clean=False) or "").splitlines()
    return [f"{path.name}: {line.strip()}" for line in lines if _UNPUBLISHED.search(line)]


def test_docstrings_and_comments_cite_no_unpublished_document() -> None:
    package = ROOT / "airflow_provider_mdsp"
    cited = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).parts[0] not in _INTERNAL:
            cited += _citations(path)
    assert cited == []


def test_the_citation_check_finds_a_section_reference_in_a_comment(tmp_path: Path) -> None:
    module = tmp_path / "cited.py"
    module.write_text('"""Fine (RFC 9110 §10.2.3).\n\nPaged (N:sdk/event).\n"""\n\nLIMIT = 5  # capped (§4)\n')
    assert sorted(_citations(module)) == ["cited.py: # capped (§4)", "cited.py: Paged (N:sdk/event)."]
