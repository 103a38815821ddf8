"""mkdocs hook: the table of ``MdspClient``'s services and their methods, generated from the code at build time.

``docs/reference/client.md`` holds the marker ``<!-- client-methods -->``; the hook replaces it with
one row per service (``client.assets`` …) listing its public methods in source order, each class
linked to its reference entry. Being built from the code, the table cannot drift from it.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

MARKER = "<!-- client-methods -->"


def services() -> list[tuple[str, type]]:
    """Return ``(attribute, class)`` of every service client ``MdspClient`` sets up, in its order."""
    from airflow_provider_mdsp.client import MdspClient

    found = []
    for attr, name in re.findall(r"self\.(\w+) = (\w+Client)\(", inspect.getsource(MdspClient)):
        module = importlib.import_module(inspect.getmodule(MdspClient).__name__)  # type: ignore[union-attr]
        klass = getattr(module, name, None) or _find(name)
        found.append((attr, klass))
    return found


def _find(name: str) -> type:
    import pkgutil

    import airflow_provider_mdsp.client as package

    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if hasattr(module, name):
            return getattr(module, name)
    raise LookupError(f"No client class {name}")


def methods(klass: type) -> list[str]:
    """Return the public methods of a client class, in source order."""
    names = [n for n, f in inspect.getmembers(klass, inspect.isfunction) if not n.startswith("_")]
    return sorted(names, key=lambda n: inspect.getsourcelines(getattr(klass, n))[1])


def table() -> str:
    """Return the Markdown table of services and methods."""
    rows = ["| `client.` | Class | Methods |", "|---|---|---|"]
    for attr, klass in services():
        ref = f"{klass.__module__}.{klass.__qualname__}"
        rows.append(f"| `{attr}` | [`{klass.__name__}`][{ref}] | " + ", ".join(f"`{m}`" for m in methods(klass)) + " |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace the marker with the generated table (mkdocs hook)."""
    return markdown.replace(MARKER, table()) if MARKER in markdown else markdown
