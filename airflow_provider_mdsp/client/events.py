"""Event Management v3: search and create events and event types (Node SDK ``sdk/event``)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.client.base import ApiClient
from airflow_provider_mdsp.client.converge import is_ambiguous
from airflow_provider_mdsp.client.pagination import Page, iter_items, iter_spring_pages
from airflow_provider_mdsp.client.paths import JsonFilter, filter_dict, flag, json_filter, segment
from airflow_provider_mdsp.exceptions import MdspApiError, MdspConfigError, MdspConnectionError
from airflow_provider_mdsp.timeutil import format_time, shift, utcnow

log = logging.getLogger(__name__)

BASE = "/api/eventmanagement/v3"
#: Events per page: the service's maximum (Node SDK ``sdk/event/event-management.ts`` ``GetEvents``, from the spec).
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = MAX_PAGE_SIZE
#: POSTs of one event at most, counting the first; each resend follows a lookup that found nothing.
CREATE_EVENT_ATTEMPTS = 3
#: Waits before each lookup after an ambiguous failure. Events become visible about 100 ms after
#: creation (Node SDK ``sdk/event``); the search is eventually consistent, so a second, longer look follows a miss.
EVENT_VISIBILITY_WAITS = (0.5, 2.0)
#: Half-width of the timestamp window of a lookup for an event sent with that very timestamp (after an
#: ambiguous create, or an event job's body): see :meth:`EventsClient.find_by_correlation`.
EXACT_LOOKUP_WINDOW = timedelta(seconds=1)


def compose_event_filter(
    filter: JsonFilter | None,
    *,
    type_id: str | None = None,
    entity_id: str | None = None,
    timestamp: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge ``type_id``, ``entity_id`` and a ``timestamp`` term into an Event Management filter.

    :param filter: the user's filter, a dict or a JSON string (Event Management filter syntax).
    :param type_id: adds ``typeId`` (one type per search, equality only; Siemens docs, Event Management filtering).
    :param entity_id: adds ``entityId``.
    :param timestamp: adds a ``timestamp`` term, e.g. ``{"between": "[from, to)"}``.
    :raises MdspConfigError: the filter already has a different value for the same field.
    """
    terms = filter_dict(filter)
    for key, value, name in (("typeId", type_id, "type_id"), ("entityId", entity_id, "entity_id")):
        if value in (None, ""):
            continue
        if key in terms and terms[key] != value:
            raise MdspConfigError(
                f"filter has {key}={terms[key]!r} but {name}={value!r}; give it in one place only", field=name
            )
        terms[key] = value
    if timestamp is not None:
        if "timestamp" in terms and terms["timestamp"] != timestamp:
            raise MdspConfigError(
                f"filter already has a timestamp term {terms['timestamp']!r}; drop it, or drop the time "
                "parameters (from_time/to_time, after)",
                field="filter",
            )
        terms["timestamp"] = dict(timestamp)
    return terms


class EventsClient(ApiClient):
    """Search and create events and event types (Event Management v3)."""

    def iter_event_pages(
        self,
        *,
        filter: JsonFilter | None = None,
        sort: str | None = None,
        history: bool | None = None,
        size: int = DEFAULT_PAGE_SIZE,
        include_shared: bool | None = None,
    ) -> Iterator[Page]:
        """Yield pages of events matching a filter.

        Without a ``timestamp`` term the service searches only the last 7 days, and without
        ``history=True`` it keeps only the newest event per (correlationId, entityId, typeId) (Siemens docs,
        Event Management filtering).

        :param filter: a filter dict (JSON-encoded for you) or JSON string, e.g.
            ``{"entityId": "…", "timestamp": {"between": "[2024-01-01T00:00:00Z, 2024-02-01T00:00:00Z)"}}``.
        :param sort: e.g. ``timestamp,asc``; the service sorts by timestamp descending by default.
        :param history: include earlier events of the same correlation.
        :param size: events per page, at most 100.
        :param include_shared: include events of assets shared from other tenants.
        :raises MdspConfigError: ``size`` above 100, which the service refuses.
        """
        check_page_size(size)
        params = {
            "filter": json_filter(filter),
            "sort": sort,
            "history": flag(history),
            "includeShared": flag(include_shared),
        }
        return iter_spring_pages(self.transport, f"{BASE}/events", "events", params=params, size=size)

    def iter_events(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Yield events one by one; takes the arguments of :meth:`iter_event_pages`."""
        return iter_items(self.iter_event_pages(**kwargs))

    def get_event(self, event_id: str) -> dict[str, Any]:
        """Return one event.

        :param event_id: the event id.
        """
        return self.transport.request_json("GET", f"{BASE}/events/{segment(event_id, name='event_id')}")

    def create_event(
        self, event: Mapping[str, Any], *, sleep: Callable[[float], None] = timeutil.sleep
    ) -> dict[str, Any]:
        """Create an event once, even when the network fails mid-call, and return it.

        Creating is not idempotent, so a POST is never resent blindly. The event gets a
        ``correlationId`` (a uuid4) unless it has one, and a ``timestamp`` (now) unless it has one.
        After an ambiguous failure (a read timeout, a connection dropped after sending, 502 or 504)
        this waits for the event to become visible (about 100 ms, Node SDK ``sdk/event``), looks it up by ``entityId``,
        ``correlationId`` and ``typeId`` with ``history=true`` and a window around its ``timestamp``,
        and returns it if found. Only when it is not found is the POST sent again, at most
        :data:`CREATE_EVENT_ATTEMPTS` times in all; then the last error is raised.

        :param event: ``entityId`` and ``timestamp`` at least; ``typeId`` for a custom event type,
            else a standard event with ``severity``, ``description``, ``source``, ``code`` …
        :param sleep: the sleep function, injectable for tests.
        :raises MdspConfigError: ``entityId`` is missing or ``timestamp`` is not a time.
        """
        body = self._event_body(event)
        for attempt in range(1, CREATE_EVENT_ATTEMPTS + 1):
            try:
                return self.transport.request_json("POST", f"{BASE}/events", json=body)
            except (MdspApiError, MdspConnectionError) as exc:
                if not is_ambiguous(exc):
                    raise
                log.warning(
                    "Creating event %s failed ambiguously (%s); checking whether it exists",
                    body["correlationId"],
                    exc,
                )
                found = self._find_created(body, sleep)
                if found is not None:
                    return found
                if attempt == CREATE_EVENT_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _find_created(self, body: Mapping[str, Any], sleep: Callable[[float], None]) -> dict[str, Any] | None:
        """Look up an event just sent, after waits for the search to catch up."""
        for wait in EVENT_VISIBILITY_WAITS:
            sleep(wait)
            found = self.find_by_correlation(body, window=EXACT_LOOKUP_WINDOW)
            if found is not None:
                return found
        return None

    def find_by_correlation(self, event: Mapping[str, Any], *, window: timedelta) -> dict[str, Any] | None:
        """Return the event with this event's ``correlationId`` and ``entityId`` (and ``typeId``), or ``None``.

        The one lookup by correlation id: after an ambiguous create, and before a retried task creates
        events again. It searches with ``history=true`` (the service otherwise keeps only the newest
        event per correlation) and a ``timestamp`` term ``[timestamp - window, timestamp + window)``:
        without one only the last 7 days are searched (Siemens docs, Event Management filtering). An
        event without a ``timestamp`` is looked for in those 7 days. A hit must carry the same
        correlation id, whatever the service made of the filter.

        :param event: ``entityId``, ``correlationId`` and ``timestamp``; ``typeId`` for a custom type.
        :param window: how far from the event's ``timestamp`` to look: :data:`EXACT_LOOKUP_WINDOW` when it
            is the timestamp the event was sent with, wider when an earlier try may have sent another
            (e.g. one defaulted to that try's "now").
        """
        terms: dict[str, Any] = {"entityId": event["entityId"], "correlationId": event["correlationId"]}
        if event.get("typeId"):
            terms["typeId"] = event["typeId"]
        if event.get("timestamp"):
            span = window.total_seconds()
            low, high = shift(event["timestamp"], seconds=-span), shift(event["timestamp"], seconds=span)
            terms["timestamp"] = {"between": f"[{low}, {high})"}
        for candidate in self.iter_events(filter=terms, history=True, size=10):
            if candidate.get("correlationId") == event["correlationId"]:
                return dict(candidate)
        return None

    @staticmethod
    def _event_body(event: Mapping[str, Any]) -> dict[str, Any]:
        body = dict(event)
        if not str(body.get("entityId") or "").strip():
            raise MdspConfigError("An event needs an 'entityId' (the asset id)", field="entityId")
        body["timestamp"] = format_time(body.get("timestamp") or utcnow(), name="timestamp")
        body["correlationId"] = str(body.get("correlationId") or uuid.uuid4())
        return body

    def iter_event_types(
        self, *, filter: JsonFilter | None = None, size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Yield event types matching a filter.

        :param filter: a filter dict or JSON string.
        :param size: event types per page, at most 100.
        """
        check_page_size(size)
        params = {"filter": json_filter(filter)}
        return iter_items(
            iter_spring_pages(self.transport, f"{BASE}/eventTypes", "eventTypes", params=params, size=size)
        )

    def get_event_type(self, type_id: str) -> dict[str, Any]:
        """Return one event type.

        :param type_id: e.g. ``mytenant.PumpAlarm``.
        """
        return self.transport.request_json("GET", f"{BASE}/eventTypes/{segment(type_id, name='type_id')}")

    def create_event_type(self, event_type: Mapping[str, Any]) -> dict[str, Any]:
        """Create an event type and return it.

        :param event_type: ``name``, ``fields`` and optionally ``id`` (starting with the tenant),
            ``parentId``, ``ttl``, ``scope`` (Node SDK ``sdk/event``).
        """
        return self.transport.request_json("POST", f"{BASE}/eventTypes", json=dict(event_type))


def check_page_size(size: int) -> None:
    """Refuse a page size Event Management would answer with 400 (more than 100 per page; Node SDK ``GetEvents``).

    :param size: items per page.
    :raises MdspConfigError: naming ``size`` and the allowed range.
    """
    if not 1 <= int(size) <= MAX_PAGE_SIZE:
        raise MdspConfigError(
            f"size must be 1..{MAX_PAGE_SIZE} (Event Management's page maximum), got {size}", field="size"
        )
