"""IoT File search filters (§0, §7): parse a filter the way the service reads it, or ignore it.

Rules (DOC api-iotfile-references-filtering): a filter is terms ``<field> <op> <value>`` joined by
`` and ``; fields ``name``, ``path``, ``updated``; operators ``eq``/``=``, ``gte``/``>=``,
``gt``/``>``, ``lte``/``<=``, ``lt``/``<``; ``*`` is a wildcard; values are quoted in the examples
(``path eq 'my/path'``) and unquoted in the Node SDK tests (``path eq unit/test/``).
"Blanks in the wrong place and invalid parameters will lead to the filter being ignored": such a
filter is not refused, every file is returned. So exactly one blank separates the parts of a term
and the ``and`` between terms; anything else, an unknown field or an unreadable time ignores the
whole filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ...timefmt import TimeFormatError, format_ms, parse_iso

SEARCH_FIELDS = ("name", "path", "updated")
_OPERATORS = {"eq": "eq", "=": "eq", "gte": "gte", ">=": "gte", "gt": "gt", ">": "gt"}
_OPERATORS.update({"lte": "lte", "<=": "lte", "lt": "lt", "<": "lt"})
_TERM = re.compile(r"(name|path|updated) (eq|=|gte|>=|gt|>|lte|<=|lt|<) ('[^']*'|[^\s']+)")
_AND = " and "

Test = Callable[[dict[str, Any]], bool]


def parse_filter(text: str | None) -> list[Test] | None:
    """Return the tests of a filter, ``[]`` for no filter, or ``None`` when the service ignores it.

    :param text: the ``filter`` query parameter
    """
    if not text:
        return []
    tests: list[Test] = []
    position = 0
    while True:
        match = _TERM.match(text, position)
        if match is None:
            return None
        test = _test(match.group(1), _OPERATORS[match.group(2)], match.group(3))
        if test is None:
            return None
        tests.append(test)
        position = match.end()
        if position == len(text):
            return tests
        if not text.startswith(_AND, position):
            return None
        position += len(_AND)


def _test(name: str, op: str, raw: str) -> Test | None:
    value = raw[1:-1] if raw.startswith("'") else raw
    if name == "updated":
        try:
            value = format_ms(parse_iso(value))
        except TimeFormatError:
            return None
    if op == "eq":
        if "*" in value:
            pattern = re.compile(".*".join(re.escape(piece) for piece in value.split("*")), re.DOTALL)
            return lambda m: pattern.fullmatch(m[name]) is not None
        return lambda m: m[name] == value
    compare: dict[str, Callable[[str, str], bool]] = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    return lambda m: compare[op](m[name], value)
