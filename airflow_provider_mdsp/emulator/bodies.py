"""Type checks of JSON request bodies, shared by the services' models. Plain Python, no HTTP.

A malformed body is a 400 whose code says what is wrong (insights-hub-api.md §1): an absent,
``null`` or empty required property is ``missingRequestBodyProperty``, a property of the wrong
JSON type ``invalidRequestBodyProperty``. Every message names the property, prefixed by where it
sits (``where``, e.g. ``Asset`` or ``Asset type 'demo.Pump' aspects[0]``), so a caller can fix it.
"""

from __future__ import annotations

from typing import Any

from .errors import INVALID_BODY, MISSING_BODY, ApiError

_EXPECTED = {str: "a string", dict: "an object", bool: "a boolean"}
_KINDS = ((bool, "a boolean"), (str, "a string"), (int, "a number"), (float, "a number"), (list, "a list"))


def _kind(value: Any) -> str:
    """Return the JSON type of a value as a message names it."""
    if value is None:
        return "null"
    return next((name for kind, name in _KINDS if isinstance(value, kind)), "an object")


def invalid(where: str, key: str, expected: str, value: Any) -> ApiError:
    """Return the 400 for a property of the wrong type.

    :param where: the object holding the property
    :param key: the property
    :param expected: what it must be, e.g. ``a string``
    :param value: what was sent
    """
    return ApiError(400, f"{where}: property '{key}' must be {expected}, not {_kind(value)}", INVALID_BODY)


def required_text(body: dict[str, Any], key: str, where: str) -> str:
    """Return a required, non-empty string property.

    :param body: the JSON object
    :param key: the property
    :param where: the object, for the message
    :raises ApiError: 400 missing or invalid property
    """
    value = body.get(key)
    if value is None or value == "":
        raise ApiError(400, f"{where}: property '{key}' is required", MISSING_BODY)
    if not isinstance(value, str):
        raise invalid(where, key, "a string", value)
    return value


def optional(body: dict[str, Any], key: str, where: str, kind: type) -> Any:
    """Return an optional property of one JSON type (``None`` when absent or ``null``).

    :param body: the JSON object
    :param key: the property
    :param where: the object, for the message
    :param kind: ``str``, ``dict`` (a JSON object) or ``bool``
    :raises ApiError: 400 invalid property
    """
    value = body.get(key)
    if value is not None and not isinstance(value, kind):
        raise invalid(where, key, _EXPECTED[kind], value)
    return value


def optional_flag(body: dict[str, Any], key: str, where: str, default: bool) -> bool:
    """Return an optional boolean property, ``default`` when absent or ``null``.

    :param body: the JSON object
    :param key: the property
    :param where: the object, for the message
    :param default: the value when absent or ``null``
    :raises ApiError: 400 invalid property
    """
    value = optional(body, key, where, bool)
    return default if value is None else bool(value)


def object_list(body: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """Return an optional list of JSON objects (``[]`` when absent or ``null``).

    :param body: the JSON object
    :param key: the property
    :param where: the object, for the message
    :raises ApiError: 400 invalid property (not a list, or an item that is not an object)
    """
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(where, key, "a list of objects", value)
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise invalid(where, f"{key}[{index}]", "an object", item)
    return value
