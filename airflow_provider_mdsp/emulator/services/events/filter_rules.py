"""Which Event Management filters the service accepts (§6). Rules only, no HTTP.

Shared by the event search (``GET /events``) and delete jobs (``POST /deleteEventsJobs``).

Rule: a filter names at most one ``typeId``, by equality (``"typeId": "x"`` or
``{"eq": "x"}``), not under ``or`` (§6 "One typeId only (equality)", from DOC
api-eventmanagement-references-filtering; the client's ``compose_event_filter`` documents the same).
"""

from __future__ import annotations

from typing import Any

from ...errors import ApiError


def _type_terms(tree: dict[str, Any], under_or: bool, found: list[tuple[Any, bool]]) -> None:
    """Collect ``(value, under or)`` of every ``typeId`` term of a filter object, ``and``/``or`` included."""
    for key, value in tree.items():
        if key in ("and", "or"):
            children = [{k: v} for k, v in value.items()] if isinstance(value, dict) else value
            for child in children if isinstance(children, list) else []:
                if isinstance(child, dict):  # compile_filter refuses anything else
                    _type_terms(child, under_or or key == "or", found)
        elif key == "typeId":
            found.append((value, under_or))


def single_type_id(tree: dict[str, Any]) -> str | None:
    """Return the one event type a filter names by equality, ``None`` when it names none.

    :param tree: the parsed filter
    :raises ApiError: 400 for a second ``typeId``, one under ``or``, or one that is not an equality
    """
    found: list[tuple[Any, bool]] = []
    _type_terms(tree, False, found)
    if not found:
        return None
    if len(found) > 1:
        raise ApiError(400, "filter: 'typeId' may be named once only (one event type per search)")
    value, under_or = found[0]
    if under_or:
        raise ApiError(400, "filter: 'typeId' may not be combined with 'or' (one event type per search)")
    if isinstance(value, dict) and set(value) == {"eq"}:
        value = value["eq"]
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"filter: 'typeId' takes one type id by equality, not {value!r} (no in/startsWith)")
    return value
