"""Event Management v3 (§6): events and event types. Rules and state, no HTTP.

Events are visible at once (the real service needs about 100 ms; not emulated). A search
without a ``timestamp`` term only sees the last 7 days; ``history=false`` keeps only the newest
event per (correlationId, entityId, typeId) for events that have a correlation id.

Not emulated: ``deleteEventsJobs``/``createEventsJobs``, ``includeShared``, event-type
inheritance of fields, TTL expiry, the types of STRING, LINK, UUID and ENUM values (ENUM ``values``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ...errors import INVALID_BODY, MISSING_BODY, ApiError, check_if_match, lookup
from ...filters import compile_filter
from ...timefmt import MS_PER_DAY, TimeFormatError, format_ms, now_ms, parse_iso
from .filter_rules import BASE_TYPE, STANDARD_FILTERABLE, check_filterable, single_type_id

STANDARD_TYPE = "com.siemens.mindsphere.eventmgmt.event.type.MindSphereStandardEvent"
STANDARD_FIELDS = {"severity": 20, "description": "", "code": "", "source": "", "acknowledged": False}
DEFAULT_WINDOW_MS = 7 * MS_PER_DAY  # searched when the filter names no timestamp (§6)
FIELD_TYPES = {"STRING", "INTEGER", "DOUBLE", "BOOLEAN", "LINK", "TIMESTAMP", "UUID", "ENUM"}
CORE_KEYS = ("id", "typeId", "correlationId", "timestamp", "entityId", "etag")
AssetInfo = Callable[[str], "dict[str, Any] | None"]


class EventBackend:
    """Events and event types of one tenant.

    :param tenant: tenant name (custom event type ids start with ``{tenant}.``)
    :param stale_status: status for a stale ``If-Match``
    :param asset_info: ``entityId -> {"assetTypeId", "parentAssetId"}`` for those filter fields
    :param clock: epoch-ms clock
    """

    def __init__(
        self, tenant: str, stale_status: int, asset_info: AssetInfo, clock: Callable[[], int] = now_ms
    ) -> None:
        self.tenant = tenant
        self.stale_status = stale_status
        self._asset_info = asset_info
        self._clock = clock
        self.events: dict[str, dict[str, Any]] = {}
        self.types: dict[str, dict[str, Any]] = {}
        standard_fields: list[dict[str, Any]] = [
            {"name": k, "type": "BOOLEAN" if k == "acknowledged" else ("INTEGER" if k == "severity" else "STRING"),
             "filterable": k in STANDARD_FILTERABLE, "required": False, "updatable": True, "values": []}
            for k in STANDARD_FIELDS
        ]  # fmt: skip
        self.types[STANDARD_TYPE] = {
            "id": STANDARD_TYPE, "name": "MindSphereStandardEvent", "parentId": BASE_TYPE, "ttl": 35,
            "scope": "GLOBAL", "fields": standard_fields, "owner": "core", "etag": 0,
        }  # fmt: skip

    # -- events ---------------------------------------------------------------------------
    def create_event(self, body: Any, event_id: str | None = None) -> dict[str, Any]:
        """Create an event (a standard event when ``typeId`` is absent).

        :param body: ``{entityId, timestamp, typeId?, correlationId?, fields...}``
        :param event_id: fixed id (seeding)
        :raises ApiError: 400 for missing or unknown fields
        """
        if not isinstance(body, dict):
            raise ApiError(400, "An event must be a JSON object", INVALID_BODY)
        for key in ("entityId", "timestamp"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise ApiError(400, f"Event field '{key}' is required", MISSING_BODY)
        type_id = body.get("typeId") or STANDARD_TYPE
        event_type = self.get_type(type_id, status=400)
        event = {
            "id": event_id or str(uuid.uuid4()),
            "typeId": type_id,
            "correlationId": body.get("correlationId"),
            "timestamp": _timestamp(body["timestamp"]),
            "entityId": body["entityId"],
            "etag": 0,
        }
        event.update(self._fields(event_type, body, None))
        self.events[event["id"]] = event
        return event

    def get_event(self, event_id: str) -> dict[str, Any]:
        """Return one event.

        :param event_id: its id
        :raises ApiError: 404
        """
        return lookup(self.events, event_id, f"Event '{event_id}' not found")

    def update_event(self, event_id: str, body: Any, if_match: str | None) -> dict[str, Any]:
        """Correct an event (PUT); correlationId, timestamp and entityId must stay the same.

        :param event_id: its id
        :param body: the full event
        :param if_match: current (integer) etag
        """
        event = self.get_event(event_id)
        check_if_match(str(event["etag"]), if_match, self.stale_status, f"event '{event_id}'")
        if not isinstance(body, dict):
            raise ApiError(400, "An event must be a JSON object", INVALID_BODY)
        for key in ("correlationId", "timestamp", "entityId"):
            if key not in body:
                raise ApiError(400, f"Event field '{key}' is required", MISSING_BODY)
            value = _timestamp(body[key]) if key == "timestamp" and body[key] else body[key]
            if value != event[key]:
                raise ApiError(400, f"Event field '{key}' cannot be changed")
        updated = {k: event[k] for k in CORE_KEYS}
        updated.update(self._fields(self.get_type(event["typeId"]), body, event))
        updated["etag"] = event["etag"] + 1
        self.events[event_id] = updated
        return updated

    def search(self, filter_text: str | None, history: bool) -> list[dict[str, Any]]:
        """Return the events a filter matches (unsorted).

        :param filter_text: JSON filter (:meth:`compile_search`)
        :param history: keep superseded events of a correlation
        """
        predicate, names = self.compile_search(filter_text)
        since = None if "timestamp" in names else format_ms(self._clock() - DEFAULT_WINDOW_MS)
        found = [e for e in self.events.values() if (since is None or e["timestamp"] >= since) and predicate(e)]
        if history:
            return found
        newest: dict[tuple[Any, ...], dict[str, Any]] = {}
        alone = []
        for e in found:
            if e["correlationId"] is None:
                alone.append(e)
                continue
            key = (e["correlationId"], e["entityId"], e["typeId"])
            if key not in newest or e["timestamp"] >= newest[key]["timestamp"]:
                newest[key] = e
        return alone + list(newest.values())

    def compile_search(self, filter_text: str | None) -> tuple[Callable[[dict[str, Any]], bool], set[str]]:
        """Compile a search filter the service accepts; return its predicate and the fields it names.

        :param filter_text: JSON filter of filterable fields (:func:`.filter_rules.check_filterable`), at most
            one ``typeId``, by equality (:func:`.filter_rules.single_type_id`)
        :raises ApiError: 400 for a filter the service refuses
        """
        special = {
            "assetTypeId": lambda e, v: (self._asset_info(e["entityId"]) or {}).get("assetTypeId") == v,
            "parentAssetId": lambda e, v: (self._asset_info(e["entityId"]) or {}).get("parentAssetId") == v,
        }
        predicate, names = compile_filter(filter_text, special, rules=single_type_id)
        check_filterable(names, self.types.values())
        return predicate, names

    def _fields(
        self, event_type: dict[str, Any], body: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Return the type's fields of an event body, checked for a create (``current`` is ``None``) or a PUT.

        Rule (§6): a field declared ``updatable: false`` keeps the value it was created with; a PUT
        that changes or drops it is a 400.
        """
        known = {f["name"]: f for f in event_type["fields"]}
        extra = {k: v for k, v in body.items() if k not in CORE_KEYS and k != "_links"}
        unknown = sorted(set(extra) - set(known))
        if unknown:
            raise ApiError(400, f"Field(s) {unknown} are not defined by event type {event_type['id']}")
        for name, value in extra.items():
            _check_value(known[name], value, event_type["id"])
        if current is None:
            missing = [n for n, f in known.items() if f.get("required") and n not in extra]
            if missing:
                raise ApiError(400, f"Required field(s) {missing} are missing", MISSING_BODY)
        else:
            locked = [n for n, f in known.items() if not f.get("updatable", True) and extra.get(n) != current.get(n)]
            if locked:
                raise ApiError(
                    400, f"Field(s) {locked} of event type {event_type['id']} are not updatable", INVALID_BODY
                )
        if event_type["id"] == STANDARD_TYPE:
            return {**STANDARD_FIELDS, **extra}
        return extra

    # -- event types ----------------------------------------------------------------------
    def get_type(self, type_id: str, status: int = 404) -> dict[str, Any]:
        """Return one event type.

        :param type_id: its id
        :param status: status when missing (400 when an event names it)
        :raises ApiError: when it does not exist
        """
        return lookup(self.types, type_id, f"Event type '{type_id}' not found", status=status)

    def create_type(self, body: Any) -> dict[str, Any]:
        """Create an event type; a given ``id`` must start with ``{tenant}.``.

        :param body: ``{id?, name, parentId?, ttl?, scope?, fields?}``
        :raises ApiError: 400 for invalid fields, 409 for a duplicate
        """
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise ApiError(400, "Event type field 'name' is required", MISSING_BODY)
        type_id = body.get("id") or str(uuid.uuid4())
        if body.get("id") and not str(type_id).startswith(f"{self.tenant}."):
            raise ApiError(400, f"Event type id must start with '{self.tenant}.'")
        if type_id in self.types or any(t["name"] == body["name"] for t in self.types.values()):
            raise ApiError(409, f"Event type '{type_id}' ('{body['name']}') already exists")
        self.types[type_id] = self._type(type_id, body, 0)
        return self.types[type_id]

    def patch_type(self, type_id: str, ops: Any, if_match: str | None) -> dict[str, Any]:
        """Apply JSON-patch ``add``/``replace`` ops on ``/scope``, ``/ttl``, ``/fields``, ``/fields/{n}/required``.

        :param type_id: its id
        :param ops: the operations
        :param if_match: current (integer) etag
        """
        current = self._custom_type(type_id)
        check_if_match(str(current["etag"]), if_match, self.stale_status, f"event type '{type_id}'")
        updated = {**current, "fields": [dict(f) for f in current["fields"]]}
        for op in ops if isinstance(ops, list) else [None]:
            _apply_op(updated, op)
        self.types[type_id] = self._type(type_id, updated, current["etag"] + 1)
        return self.types[type_id]

    def delete_type(self, type_id: str, if_match: str | None) -> None:
        """Delete a custom event type.

        :param type_id: its id
        :param if_match: current (integer) etag
        """
        current = self._custom_type(type_id)
        check_if_match(str(current["etag"]), if_match, self.stale_status, f"event type '{type_id}'")
        del self.types[type_id]

    def _custom_type(self, type_id: str) -> dict[str, Any]:
        current = self.get_type(type_id)
        if current["owner"] == "core":
            raise ApiError(403, f"Event type '{type_id}' is built in and read-only")
        return current

    def _type(self, type_id: str, body: dict[str, Any], etag: int) -> dict[str, Any]:
        scope = body.get("scope", "LOCAL")
        if scope not in ("LOCAL", "GLOBAL"):
            raise ApiError(400, "scope must be LOCAL or GLOBAL", INVALID_BODY)
        ttl = body.get("ttl", 35)
        if not isinstance(ttl, int) or ttl < 1:
            raise ApiError(400, "ttl must be a positive number of days", INVALID_BODY)
        return {
            "id": type_id, "name": body["name"], "parentId": body.get("parentId") or BASE_TYPE, "ttl": ttl,
            "scope": scope, "fields": [_field(f) for f in body.get("fields") or []], "owner": self.tenant,
            "etag": etag,
        }  # fmt: skip


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_iso(value)
    except TimeFormatError:
        return False
    return True


#: Rule: "the event DTO must match to the corresponding event type" (N:sdk/event/event-management.ts
#: ``PostEvent``); a value of a typed field must have that type. Not checked: STRING, LINK, UUID, ENUM.
VALUE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "INTEGER": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "DOUBLE": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "BOOLEAN": lambda v: isinstance(v, bool),
    "TIMESTAMP": _is_timestamp,
}


def _check_value(field: dict[str, Any], value: Any, type_id: str) -> None:
    """Refuse a value that does not have its field's type (:data:`VALUE_CHECKS`); ``null`` passes."""
    check = VALUE_CHECKS.get(field["type"])
    if value is not None and check is not None and not check(value):
        raise ApiError(
            400, f"Field '{field['name']}' of event type {type_id} is {field['type']}, not {value!r}", INVALID_BODY
        )


def _field(f: Any) -> dict[str, Any]:
    if not isinstance(f, dict) or not isinstance(f.get("name"), str) or f.get("type") not in FIELD_TYPES:
        raise ApiError(400, f"Every field needs a name and a type of {sorted(FIELD_TYPES)}: {f!r}", INVALID_BODY)
    return {
        "name": f["name"], "type": f["type"], "filterable": bool(f.get("filterable", False)),
        "required": bool(f.get("required", False)), "updatable": bool(f.get("updatable", True)),
        "values": list(f.get("values") or []),
    }  # fmt: skip


def _apply_op(target: dict[str, Any], op: Any) -> None:
    if not isinstance(op, dict) or op.get("op") not in ("add", "replace") or not isinstance(op.get("path"), str):
        raise ApiError(400, "Patch operations must be {op: add|replace, path, value}", INVALID_BODY)
    parts = op["path"].strip("/").split("/")
    value = op.get("value")
    if parts in (["scope"], ["ttl"]):
        target[parts[0]] = value
    elif parts == ["fields"]:
        target["fields"].extend(value if isinstance(value, list) else [value])
    elif len(parts) == 3 and parts[0] == "fields" and parts[1].isdigit() and parts[2] == "required":
        index = int(parts[1])
        if index >= len(target["fields"]):
            raise ApiError(400, f"No field at index {index}")
        target["fields"][index]["required"] = bool(value)
    else:
        raise ApiError(400, f"Unsupported patch path '{op['path']}'")


def _timestamp(value: Any) -> str:
    try:
        return format_ms(parse_iso(str(value)))
    except TimeFormatError as exc:
        raise ApiError(400, f"timestamp is not ISO 8601: {value!r}", INVALID_BODY) from exc
