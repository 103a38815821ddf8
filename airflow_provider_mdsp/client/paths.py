"""Build request paths and query values the way the Insights Hub gateway expects them.

Shared by the service clients: path segments are percent-encoded (an id holding ``/`` or ``?``
must not change which resource is addressed), JSON filters are serialised compactly, and booleans
are sent as ``true``/``false`` (``requests`` would send Python's ``True``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from airflow_provider_mdsp.exceptions import MdspConfigError

JsonFilter = Mapping[str, Any] | str


def required(value: Any, *, name: str) -> str:
    """Return ``value`` as a stripped string, refusing ``None`` and blanks.

    :param value: an asset id, property set name, event id …
    :param name: the parameter named in the error message.
    """
    text = "" if value is None else str(value).strip()
    if not text:
        raise MdspConfigError(f"{name} must not be empty", field=name)
    return text


def segment(value: Any, *, name: str) -> str:
    """Return one percent-encoded path segment, refusing an empty value.

    :param value: an asset id, property set name, event id …
    :param name: the parameter named in the error message.
    """
    return quote(required(value, name=name), safe="")


def file_path(value: str, *, name: str = "file_path") -> str:
    """Return a file path with each segment percent-encoded and its ``/`` kept (IoT File, Node SDK ``sdk/iotfile``).

    :param value: e.g. ``reports/2024/day 1.csv``; a leading ``/`` is ignored.
    :param name: the parameter named in the error message.
    """
    parts = str(value or "").strip().lstrip("/").split("/")
    if not parts or any(not p for p in parts):
        raise MdspConfigError(
            f"{name} must be a relative path like 'folder/name.csv' without empty segments, got {value!r}",
            field=name,
        )
    return "/".join(quote(p, safe="") for p in parts)


def json_filter(value: JsonFilter | None, *, name: str = "filter") -> str | None:
    """Serialise a JSON filter (a dict, or a string that is already JSON) for the query string.

    ``requests`` percent-encodes the result, including ``[`` and ``]``, which the RFC 3986-strict
    gateway requires (Siemens developer docs, gateway URL schemas).

    :param value: the filter, or ``None`` for none.
    :param name: the parameter named in the error message.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        raise MdspConfigError(f"{name} must be a dict or a JSON string", field=name)
    return json.dumps(value, separators=(",", ":"), default=str)


def filter_dict(value: JsonFilter | None, *, name: str = "filter") -> dict[str, Any]:
    """Return a JSON filter as a dict, parsing a string; ``None`` gives ``{}``."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise MdspConfigError(f"{name} is not valid JSON: {value[:80]!r}", field=name) from None
        if not isinstance(parsed, dict):
            raise MdspConfigError(f"{name} must be a JSON object", field=name)
        return parsed
    return dict(value)


def flag(value: bool | None) -> str | None:
    """Render an optional boolean query parameter as ``true``/``false``."""
    return None if value is None else ("true" if value else "false")


def csv(value: str | Iterable[str] | None) -> str | None:
    """Render ``select``/``attributes`` given as a list or a comma-separated string."""
    if value is None or isinstance(value, str):
        return value
    return ",".join(str(v) for v in value)
