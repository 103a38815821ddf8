"""The JSON ``filter`` language of Asset Management and Event Management (§3, §6).

A filter is a JSON object. Each key is a field (dotted or nested objects reach sub-fields) or
``and`` / ``or``; a value is either a plain value (equality, ``null`` = absent) or an object of
functions: ``eq``, ``in`` (``[...]`` or ``{"value": [...]}``), ``startsWith``, ``endsWith``,
``before``, ``after``, ``between`` (``"[from, to)"``, brackets choose inclusive/exclusive).
Services may add special keys (e.g. ``hasType``) with their own predicates.

Not emulated: ``like``/``contains``/``ne``/comparisons (a 400 names them), wildcards,
case-insensitive functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .errors import ApiError
from .timefmt import TimeFormatError, parse_iso

Predicate = Callable[[dict[str, Any]], bool]
Special = Callable[[dict[str, Any], Any], bool]
MIN_MS, MAX_MS = -(2**62), 2**62
FUNCTIONS = {"eq", "in", "startsWith", "endsWith", "before", "after", "between"}
# Functions of other Insights Hub filter dialects; named here so they fail with a clear 400
# instead of being read as a nested field.
UNSUPPORTED = {"like", "contains", "ne", "gt", "gte", "lt", "lte", "exists", "not", "notIn"}


def compile_filter(
    text: str | None, special: dict[str, Special] | None = None, rules: Callable[[dict[str, Any]], Any] | None = None
) -> tuple[Predicate, set[str]]:
    """Compile a JSON filter into a predicate; also return the top-level fields it names.

    :param text: the ``filter`` query parameter (``None`` or empty: match everything)
    :param special: extra keys with custom predicates ``(item, value) -> bool``
    :param rules: a service's own rules over the parsed filter object; raises 400 to refuse it
    :raises ApiError: 400 for malformed JSON or an unknown function
    """
    if not text:
        return (lambda item: True), set()
    try:
        tree = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"filter is not valid JSON: {exc.msg}") from exc
    if not isinstance(tree, dict):
        raise ApiError(400, "filter must be a JSON object")
    if rules is not None:
        rules(tree)
    names: set[str] = set()
    return _node(tree, special or {}, names, ""), names


def _node(tree: dict[str, Any], special: dict[str, Special], names: set[str], prefix: str) -> Predicate:
    parts: list[Predicate] = []
    for key, value in tree.items():
        if key in ("and", "or"):
            children = _children(value, special, names, prefix, key)
            combine = all if key == "and" else any
            parts.append(_combine(children, combine))
        elif not prefix and key in special:
            names.add(key)
            parts.append(_special(special[key], value))
        else:
            path = f"{prefix}{key}"
            names.add(path.split(".", 1)[0])
            parts.append(_field(path, value, special, names))
    return lambda item: all(p(item) for p in parts)


def _combine(children: list[Predicate], combine: Callable[[Any], bool]) -> Predicate:
    return lambda item: combine(p(item) for p in children)


def _special(test: Special, value: Any) -> Predicate:
    return lambda item: test(item, value)


def _children(value: Any, special: dict[str, Special], names: set[str], prefix: str, op: str) -> list[Predicate]:
    if isinstance(value, list):
        if not all(isinstance(v, dict) for v in value):
            raise ApiError(400, f"filter: '{op}' takes objects")
        return [_node(v, special, names, prefix) for v in value]
    if isinstance(value, dict):
        return [_node({k: v}, special, names, prefix) for k, v in value.items()]
    raise ApiError(400, f"filter: '{op}' takes an object or a list of objects")


def _field(path: str, value: Any, special: dict[str, Special], names: set[str]) -> Predicate:
    if isinstance(value, dict) and set(value) & UNSUPPORTED:
        raise ApiError(400, f"filter: unsupported function(s) {sorted(set(value) & UNSUPPORTED)} on '{path}'")
    if isinstance(value, dict) and value and not (set(value) & FUNCTIONS):
        return _node(value, special, names, path + ".")
    if isinstance(value, dict):
        unknown = set(value) - FUNCTIONS
        if unknown:
            raise ApiError(400, f"filter: unknown function(s) {sorted(unknown)} on '{path}'")
        tests = [_function(name, arg, path) for name, arg in value.items()]
        return lambda item: all(t(get_path(item, path)) for t in tests)
    if isinstance(value, list):
        return lambda item: get_path(item, path) in value
    return lambda item: get_path(item, path) == value


def _function(name: str, arg: Any, path: str) -> Callable[[Any], bool]:
    if name == "eq":
        return lambda v: v == arg
    if name == "in":
        options = arg.get("value") if isinstance(arg, dict) else arg
        if not isinstance(options, list):
            raise ApiError(400, f"filter: 'in' on '{path}' needs a list")
        return lambda v: v in options
    if name in ("startsWith", "endsWith"):
        if not isinstance(arg, str):
            raise ApiError(400, f"filter: '{name}' on '{path}' needs a string")
        method = str.startswith if name == "startsWith" else str.endswith
        return lambda v: isinstance(v, str) and method(v, arg)
    if name == "between":
        lo, lo_incl, hi, hi_incl = parse_between(arg, path)
        return lambda v: _in_range(v, lo, lo_incl, hi, hi_incl)
    bound = _time(arg, path)
    if name == "before":
        return lambda v: _in_range(v, MIN_MS, True, bound, False)
    return lambda v: _in_range(v, bound, False, MAX_MS, True)


def parse_between(arg: Any, path: str) -> tuple[int, bool, int, bool]:
    """Parse ``"[from, to)"`` into ``(from_ms, from_inclusive, to_ms, to_inclusive)``.

    :param arg: the ``between`` argument
    :param path: field name, for the error message
    :raises ApiError: 400 when malformed
    """
    text = arg.strip() if isinstance(arg, str) else ""
    if len(text) < 5 or text[0] not in "[(" or text[-1] not in "])" or "," not in text:
        raise ApiError(400, f"filter: 'between' on '{path}' must look like \"[from, to)\"")
    first, second = text[1:-1].split(",", 1)
    return _time(first, path), text[0] == "[", _time(second, path), text[-1] == "]"


def _in_range(value: Any, lo: int, lo_incl: bool, hi: int, hi_incl: bool) -> bool:
    t = _as_time(value)
    if t is None:
        return False
    return (t >= lo if lo_incl else t > lo) and (t <= hi if hi_incl else t < hi)


def _time(value: Any, path: str) -> int:
    try:
        return parse_iso(str(value))
    except TimeFormatError as exc:
        raise ApiError(400, f"filter: '{path}' needs an ISO 8601 timestamp, got {value!r}") from exc


def _as_time(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except TimeFormatError:
        return None


def get_path(item: dict[str, Any], path: str) -> Any:
    """Return a (dotted) field of a resource, ``None`` when absent.

    :param item: the resource
    :param path: e.g. ``name`` or ``location.country``
    """
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
