"""Time values for tests: one instant in every spelling, and Python 3.10's stricter ISO parser."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pendulum

# Python 3.10's datetime.fromisoformat reads only YYYY-MM-DD[THH[:MM[:SS[.fff[fff]]]]][+HH:MM]: no "Z",
# no "+0200", no fraction of another length (docs.python.org, datetime, "Changed in version 3.11").
_PY310_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d{3}|\.\d{6})?)?)?([+-]\d{2}:\d{2})?)?$")

#: The same instant, 2026-05-01T10:00:00.500Z, as users write it.
SAME_INSTANT = [
    "2026-05-01T10:00:00.5Z",
    "2026-05-01T12:00:00.5+0200",
    "2026-05-01T12:00:00.500+02:00",
    "2026-05-01 10:00:00,500000000z",
    datetime(2026, 5, 1, 12, 0, 0, 500000, tzinfo=timezone(timedelta(hours=2))),
    pendulum.datetime(2026, 5, 1, 12, 0, 0, 500000, tz="Europe/Berlin"),
]


def py310_fromisoformat(text: str) -> datetime:
    """Parse as Python 3.10's ``datetime.fromisoformat`` does: refuse what it refuses."""
    if not _PY310_ISO.match(text):
        raise ValueError(f"Invalid isoformat string: {text!r}")
    return datetime.fromisoformat(text)
