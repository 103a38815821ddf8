"""Parameter values read at DAG parse time: constants and normalisers with no dependencies.

Operators validate and normalise their arguments when a DAG file is parsed (every 30 s), so what
they need then lives here, importing nothing: not the hook, not requests, not Airflow.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Paging styles of the Insights Hub APIs, as ``MdspHook.paginate`` and the generic operator name them.
PAGING_STYLES = ("spring", "link", "scim", "offset", "next_record")


def names_list(value: str | Iterable[object] | None) -> list[str]:
    """Return names given as a list or a comma-separated string, trimmed, empty ones dropped.

    ``None`` and ``""`` give ``[]``; ``"a, b,"`` and ``["a", " b"]`` give ``["a", "b"]``.

    :param value: a list of names or ``"a,b"``.
    """
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [name for name in (str(item).strip() for item in items) if name]
