"""Which Event Management filters the service accepts (§6). Rules only, no HTTP.

Shared by the event search (``GET /events``) and delete jobs (``POST /deleteEventsJobs``).

Rule: a filter names only filterable fields (:func:`check_filterable`).

Rule: a filter names at most one ``typeId``, by equality (``"typeId": "x"`` or ``{"eq": "x"}``),
not under ``or``, and not the base type (§6 "One typeId only (equality)", from DOC
api-eventmanagement-references-filtering; N:sdk/event/event-management.ts ``GetEvents``: "Multiple
typeId expressions (by using and, or logical operators) in filter parameter is not allowed. Only
equality function is supported on it. Filtering with typeId having BaseEvent is not supported.";
the client's ``compose_event_filter`` documents the same).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...errors import ApiError

CORE_FIELDS = ("entityId", "typeId", "correlationId", "timestamp")
STANDARD_FILTERABLE = ("acknowledged", "source", "severity", "code")  # the standard type's filterable fields
ASSET_FIELDS = ("assetTypeId", "parentAssetId")  # QX: the event's asset, looked up
BASE_TYPE = "core.basicevent"  # the root of every event type, the default parentId
BASE_TYPES = (BASE_TYPE, "BaseEvent")  # by its id and by its name


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
    if value in BASE_TYPES:
        raise ApiError(400, f"filter: 'typeId' may not be the base event type {value!r}")
    return value


def check_filterable(names: set[str], event_types: Iterable[dict[str, Any]], what: str = "filter") -> None:
    """Refuse a filter (or sort) on a field the service does not filter on.

    Rule (§6, DOC api-eventmanagement-references-filtering): a filter may name the core fields
    (:data:`CORE_FIELDS`), ``assetTypeId`` and ``parentAssetId`` (QX), and any field declared
    ``filterable: true`` by an event type, the standard type's ``acknowledged``, ``source``,
    ``severity`` and ``code`` among them (:data:`STANDARD_FILTERABLE`). A custom field's
    ``filterable`` defaults to false (§6).

    :param names: the top-level fields the filter names (from ``compile_filter``)
    :param event_types: the tenant's event types
    :param what: ``filter`` or ``sort``, for the message
    :raises ApiError: 400 naming the fields
    """
    filterable = {f["name"] for t in event_types for f in t["fields"] if f.get("filterable")}
    refused = sorted(names - set(CORE_FIELDS) - set(ASSET_FIELDS) - filterable)
    if refused:
        raise ApiError(
            400,
            f"{what}: field(s) {refused} cannot be filtered on; filterable are {sorted(CORE_FIELDS)}, "
            "the standard fields and custom fields an event type declares with 'filterable': true",
        )
