"""Operators for Event Management: query events of a time window, create events."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.base import MdspBaseOperator, MdspReadOperator, TimeWindowMixin
from airflow_provider_mdsp.timeutil import format_time, to_utc

if TYPE_CHECKING:
    from airflow.sdk import Context


#: Fields of a standard event an operator parameter maps to (Node SDK ``sdk/event``).
_EVENT_PARAMS = {
    "type_id": "typeId",
    "severity": "severity",
    "description": "description",
    "source": "source",
    "code": "code",
    "acknowledged": "acknowledged",
    "correlation_id": "correlationId",
}
#: How far around an event's timestamp a retried task looks for the event its earlier try created
#: (an event without a given timestamp got that try's "now"); see ``EventsClient.find_by_correlation``.
RETRY_LOOKUP_WINDOW = timedelta(days=7)


def window_term(start: Any, end: Any) -> dict[str, str]:
    """Return the ``timestamp`` filter term of the half-open window ``[start, end)`` (a ``between`` term).

    Consecutive runs' windows then neither overlap nor leave a gap.
    """
    return {"between": f"[{format_time(start)}, {format_time(end)})"}


class EventFilterMixin(BaseOperator):
    """Give an operator or sensor an Event Management filter: ``filter``, narrowed by ``type_id`` and ``entity_id``.

    A ``BaseOperator`` for the reason :class:`~airflow_provider_mdsp.operators.base.TimeWindowMixin` is:
    Airflow checks ``.partial()``/``.expand()`` arguments against operator classes' ``__init__`` only.

    :param filter: Event Management filter, a dict or JSON string (templated in the operator).
    :param type_id: only events of this type.
    :param entity_id: only events of this asset.
    """

    def __init__(
        self,
        *,
        filter: dict[str, Any] | str | None = None,
        type_id: str | None = None,
        entity_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filter = filter
        self.type_id = type_id
        self.entity_id = entity_id

    def event_filter(self, timestamp: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Return the filter to send, with a ``timestamp`` term when given (see ``compose_event_filter``)."""
        from airflow_provider_mdsp.client.events import compose_event_filter

        return compose_event_filter(self.filter, type_id=self.type_id, entity_id=self.entity_id, timestamp=timestamp)


class MdspQueryEventsOperator(EventFilterMixin, TimeWindowMixin, MdspReadOperator):
    """Read every event matching a filter in a time window, into XCom or a file.

    The window ``[from_time, to_time)`` becomes a ``timestamp`` ``between`` term of the filter; by
    default it is the run's data interval (see :func:`~airflow_provider_mdsp.operators.base.resolve_window`).
    If ``filter`` has its own ``timestamp`` term and no time is given, that term is used instead.
    Pages are read to the end and streamed to ``output_path``; without it at most
    ``max_xcom_records`` events are returned, more raise a clear error (nothing is cut silently).

    Returns ``{"records", "first_time", "last_time", "data", "from", "to"}`` without ``output_path``,
    else ``{"path", "records", "format", "bytes", "first_time", "last_time", "from", "to"}``.

    Output: ``output_path`` (a file, written atomically; templated), ``output_format`` and
    ``max_xcom_records``, as :class:`~airflow_provider_mdsp.operators.base.MdspReadOperator` describes.

    :param filter: Event Management filter, a dict or JSON string (templated), e.g. ``{"severity": 1}``.
    :param type_id: only events of this type (templated).
    :param entity_id: only events of this asset (templated).
    :param from_time: window start, inclusive (templated; default ``data_interval_start``).
    :param to_time: window end, exclusive (templated; default ``data_interval_end``).
    :param lookback: window length for runs without a data interval.
    :param sort: sort order; oldest first by default.
    :param history: include earlier events of the same correlation (the service keeps only the
        newest per correlation, entity and type otherwise).
    :param page_size: events per request (at most 100).
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "filter",
        "type_id",
        "entity_id",
        "from_time",
        "to_time",
        "sort",
    )
    template_fields_renderers = {"filter": "json"}

    def __init__(
        self,
        *,
        sort: str = "timestamp,asc",
        history: bool = False,
        page_size: int = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sort = sort
        self.history = history
        self.page_size = page_size

    def build_filter(self, context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str | None]]:
        """Return the filter to send and the window it covers (``from``/``to``, ``None`` if the filter's own)."""
        from airflow_provider_mdsp.client.paths import filter_dict

        own = filter_dict(self.filter).get("timestamp")
        explicit = self.from_time not in (None, "") or self.to_time not in (None, "")
        if own is not None and not explicit:
            self.log.info("Using the filter's own timestamp term %s instead of the data interval", own)
            return self.event_filter(), {"from": None, "to": None}
        start, end = self.window(context)
        return self.event_filter(window_term(start, end)), {"from": format_time(start), "to": format_time(end)}

    def execute(self, context: Context) -> dict[str, Any]:
        """Page through the matching events and deliver them to XCom or ``output_path``."""
        terms, window = self.build_filter(context)
        self.log.info("Reading events matching %s", terms)
        pages = self.hook.client.events.iter_event_pages(
            filter=terms, sort=self.sort or None, history=self.history, size=self.page_size
        )
        summary = self.deliver(
            pages,
            time_field="timestamp",
            what="events",
        )
        return {**summary, **window}


class MdspCreateEventOperator(MdspBaseOperator):
    """Create one event, or several, and return their ids.

    Each event gets a ``correlationId`` derived from the task instance and its position unless one is
    given, so a retried task is recognised: it first looks for the event its earlier try created and
    creates only the missing ones. Within a try, the client never duplicates an event after an
    ambiguous network failure either. Returns ``{"created": n, "existing": m, "event_ids": [...]}``:
    ``created`` counts the events this try made, ``existing`` those an earlier try had made.

    :param entity_id: the asset the event is about (templated).
    :param type_id: a custom event type; without it the event is a standard event (templated).
    :param timestamp: the event's time (templated; default: the run's ``data_interval_end``, else now).
    :param severity: standard events: 1 (error), 2 (warning), 3 (information) … (templated).
    :param description: free text (templated).
    :param source: where the event comes from (templated).
    :param code: an event code (templated).
    :param acknowledged: whether the event is acknowledged.
    :param correlation_id: groups events of one occurrence (templated).
    :param fields: more fields of a custom event type, merged into the event (templated).
    :param events: several events as Event Management dicts (templated); the parameters above are
        defaults for the keys an event leaves out.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "entity_id",
        "type_id",
        "timestamp",
        "severity",
        "description",
        "source",
        "code",
        "correlation_id",
        "fields",
        "events",
    )
    template_fields_renderers = {"fields": "json", "events": "json"}

    def __init__(
        self,
        *,
        entity_id: str | None = None,
        type_id: str | None = None,
        timestamp: Any = None,
        severity: int | None = None,
        description: str | None = None,
        source: str | None = None,
        code: str | None = None,
        acknowledged: bool | None = None,
        correlation_id: str | None = None,
        fields: dict[str, Any] | None = None,
        events: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entity_id = entity_id
        self.type_id = type_id
        self.timestamp = timestamp
        self.severity = severity
        self.description = description
        self.source = source
        self.code = code
        self.acknowledged = acknowledged
        self.correlation_id = correlation_id
        self.fields = fields
        self.events = events

    def build_events(self, context: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Return the event bodies to create, defaults and correlation ids filled in."""
        if self.events is not None and not isinstance(self.events, list):
            raise MdspConfigError("events must be a list of event dicts", field="events")
        if self.fields is not None and not isinstance(self.fields, Mapping):
            raise MdspConfigError("fields must be a dict of event fields", field="fields")
        defaults: dict[str, Any] = {**(self.fields or {})}
        for param, key in _EVENT_PARAMS.items():
            value = getattr(self, param)
            if value not in (None, ""):
                defaults[key] = value
        if self.entity_id:
            defaults["entityId"] = self.entity_id
        moment = to_utc(self.timestamp, "timestamp") or to_utc(context.get("data_interval_end"), "data_interval_end")
        if moment is not None:
            defaults["timestamp"] = format_time(moment)
        bodies = []
        for index, event in enumerate(self.events if self.events is not None else [{}]):
            if not isinstance(event, Mapping):
                raise MdspConfigError(f"events[{index}] is not a dict", field="events")
            body = {**defaults, **event}
            if not str(body.get("entityId") or "").strip():
                raise MdspConfigError(f"events[{index}] has no entityId; set entity_id", field="entity_id")
            body.setdefault("correlationId", self._correlation_id(context, index))
            bodies.append(body)
        return bodies

    def execute(self, context: Context) -> dict[str, Any]:
        """Create the events (skipping those an earlier try of this task created) and return their ids."""
        from airflow_provider_mdsp.timeutil import format_time, utcnow

        events = self.hook.client.events
        retry = int(getattr(context.get("ti"), "try_number", 1) or 1) > 1
        ids, existing = [], 0
        for body in self.build_events(context):
            body.setdefault("timestamp", format_time(utcnow()))
            found = events.find_by_correlation(body, window=RETRY_LOOKUP_WINDOW) if retry else None
            if found is not None:
                self.log.info("Event %s exists from an earlier try; not creating it again", found.get("id"))
                ids.append(str(found.get("id")))
                existing += 1
                continue
            created = events.create_event(body)
            ids.append(str(created.get("id")))
        self.log.info("Created %d event(s), %d from an earlier try: %s", len(ids) - existing, existing, ", ".join(ids))
        return {"created": len(ids) - existing, "existing": existing, "event_ids": ids}

    def _correlation_id(self, context: Mapping[str, Any], index: int) -> str:
        ti = context.get("ti")
        run_id = context.get("run_id") or getattr(ti, "run_id", None)
        if run_id is None:
            return str(uuid.uuid4())
        map_index = getattr(ti, "map_index", -1)
        key = f"airflow:{self.dag_id}/{run_id}/{self.task_id}/{map_index}/{index}"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, key))
