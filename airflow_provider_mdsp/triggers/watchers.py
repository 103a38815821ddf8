"""Event triggers for Airflow's ``AssetWatcher``: start a DAG when Insights Hub has something new.

::

    from airflow.sdk import DAG, Asset, AssetWatcher
    from airflow_provider_mdsp.triggers.watchers import MdspNewEventsTrigger

    alarms = Asset(
        "pump_alarms",
        watchers=[AssetWatcher(name="pump_alarms", trigger=MdspNewEventsTrigger(type_id="demo.PumpAlarm"))],
    )
    with DAG("on_pump_alarm", schedule=[alarms]): ...

A watcher polls once per ``poll_interval`` in the triggerer, through the same client and token
cache as the tasks (every watcher in a triggerer shares one token per connection). Each poll that
finds something new fires **one** trigger event, a *batch*: all new events of the poll (up to
``max_events``), or the window of new time-series records. Airflow turns it into an asset event
whose ``extra["payload"]`` is the batch; it may start one run for several batches that arrive
close together, so a run handles every batch in its ``triggering_asset_events``
(:func:`~airflow_provider_mdsp.triggers.watch_state.watcher_payloads`).

Nothing is reported twice, also across a triggerer restart: a watcher keeps what it has reported
in Airflow's asset state store (Airflow 3.3 and later) and saves it *before* it fires. A triggerer
that dies between the save and the fire loses that one batch rather than repeating it. Before
Airflow 3.3, and for a trigger shared by several assets, the state lives in the triggerer's
memory only: a restarted triggerer then reports what is new from its own start on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspError
from airflow_provider_mdsp.timeutil import format_time, to_datetime, utcnow

if TYPE_CHECKING:
    from airflow_provider_mdsp.hooks.mdsp import MdspHook

# DAG files build these triggers at parse time: the client package (and with it requests) is
# imported only in the triggerer, inside the methods that poll.

#: Default seconds between two polls of a watcher.
DEFAULT_POLL_INTERVAL = 60.0
#: Default seconds an event may reach the service after its own timestamp and still be reported.
DEFAULT_LATENESS = 300.0
#: Default most events in one batch; more new events fire further batches at once.
DEFAULT_MAX_EVENTS = 100


class MdspWatcherTrigger(BaseEventTrigger):
    """Base of the watchers: poll in a thread once per interval, keep the state, fire one event per batch.

    Subclasses give :attr:`identity_fields` (what is watched), :meth:`initial_state` and :meth:`poll`.

    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    :param poll_interval: seconds between two polls.
    """

    def __init__(self, *, mdsp_conn_id: str = "mdsp_default", poll_interval: float = DEFAULT_POLL_INTERVAL) -> None:
        super().__init__()
        if float(poll_interval) <= 0:
            raise MdspConfigError(f"poll_interval must be above 0 seconds, not {poll_interval}", field="poll_interval")
        self.mdsp_conn_id = mdsp_conn_id
        self.poll_interval = float(poll_interval)
        self._memory: dict[str, Any] | None = None

    #: The attributes, besides ``mdsp_conn_id``, that define what is watched: each is the keyword
    #: argument of the same name, so they rebuild the trigger and key its saved state.
    identity_fields: tuple[str, ...] = ()

    def identity(self) -> dict[str, Any]:
        """Return the plain-JSON arguments that define what is watched (serialised with the trigger)."""
        return {"mdsp_conn_id": self.mdsp_conn_id, **{name: getattr(self, name) for name in self.identity_fields}}

    def initial_state(self, now: datetime) -> dict[str, Any]:
        """Return the state of a watcher that starts for the first time."""
        raise NotImplementedError

    def poll(self, hook: MdspHook, state: Mapping[str, Any], now: datetime) -> tuple[dict[str, Any] | None, dict]:
        """Make the poll's requests (blocking); return ``(payload or None, new state)``."""
        raise NotImplementedError

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the keyword arguments that rebuild this trigger."""
        kwargs = {**self.identity(), "poll_interval": self.poll_interval}
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    def state_key(self) -> str:
        """Return the key of this watcher's state in the asset state store."""
        from airflow_provider_mdsp.triggers import watch_state as ws

        return ws.state_key({"class": type(self).__qualname__, **self.identity()})

    async def load_state(self) -> dict[str, Any] | None:
        """Return the saved state, or ``None`` when this watcher has none yet."""
        store = self._store()
        if store is None:
            return self._memory
        value = await store.aget(self.state_key())
        return dict(value) if isinstance(value, Mapping) else None

    async def save_state(self, state: dict[str, Any]) -> None:
        """Save the state where a restarted triggerer finds it (the asset state store, else memory)."""
        self._memory = state
        store = self._store()
        if store is not None:
            await store.aset(self.state_key(), state)

    def _store(self) -> Any:
        """Return the asset state store accessor, or ``None`` where there is none (Airflow before 3.3)."""
        store = getattr(self, "asset_state_store", None)
        if store is None:
            return None
        try:
            store._single_accessor()  # several watched assets: no single place for the state
        except (ValueError, AttributeError):
            self.log.warning("This watcher serves several assets; its state is kept in memory only")
            self.asset_state_store = None
            return None
        return store

    async def pause(self, seconds: float) -> None:
        """Wait between two polls, on the provider's one clock."""
        await timeutil.async_sleep(seconds)

    def make_hook(self) -> MdspHook:
        """Build the hook in the triggerer process (its token cache is shared by all watchers there)."""
        from airflow_provider_mdsp.hooks.mdsp import MdspHook

        return MdspHook(mdsp_conn_id=self.mdsp_conn_id)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll once per interval for ever; fire one event per new batch, never the same one twice."""

        state = await self.load_state()
        if state is None:
            state = self.initial_state(utcnow())
            await self.save_state(state)  # a restart before the first report still starts from here
        hook = self.make_hook()
        try:
            while True:
                try:
                    payload, new_state = await asyncio.to_thread(self.poll, hook, state, utcnow())
                except MdspError as exc:  # a watcher outlives a bad poll: it tries again next interval
                    self.log.error(
                        "Poll of %s failed, trying again in %.0f s: %s", self.state_key(), self.poll_interval, exc
                    )
                    payload, new_state = None, state
                if new_state != state:
                    await self.save_state(new_state)  # saved before firing: a crash loses, never repeats
                    state = new_state
                if payload is not None:
                    yield TriggerEvent(payload)
                    if payload.get("more"):
                        continue  # the rest of a large batch goes out at once
                await self.pause(self.poll_interval)
        finally:
            hook.close()


class MdspNewEventsTrigger(MdspWatcherTrigger):
    """Fire when new Event Management events match a filter: one trigger event per batch of new events.

    An event is new when the watcher has not reported it and its ``timestamp`` is not older than
    the watcher's first start. Each poll asks for events stamped from the last poll minus
    ``lateness`` on, so an event stored a little after its own timestamp is still reported once.
    Superseded events of a correlation are included (``history=true``).

    :param type_id: only events of this type (e.g. ``demo.PumpAlarm``).
    :param entity_id: only events of this asset.
    :param severity: only standard events of this severity (an integer, as the service stores it).
    :param filter: further Event Management filter terms (a dict or JSON text), e.g.
        ``{"description": {"startsWith": "Pressure"}}``.
    :param start_after: ISO time from which events count as new on the first start (default: then).
    :param lateness: seconds an event may reach the service after its own timestamp.
    :param max_events: the most events in one batch.
    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    :param poll_interval: seconds between two polls.
    :returns: event payload ``{"kind": "events", "count", "event_ids", "events", "first_time",
        "last_time", "more"}``; ``events`` are the events as the service returns them, without links.
    """

    identity_fields = ("filter", "start_after", "lateness", "max_events")

    def __init__(
        self,
        *,
        type_id: str | None = None,
        entity_id: str | None = None,
        severity: int | None = None,
        filter: dict[str, Any] | str | None = None,
        start_after: str | None = None,
        lateness: float = DEFAULT_LATENESS,
        max_events: int = DEFAULT_MAX_EVENTS,
        mdsp_conn_id: str = "mdsp_default",
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__(mdsp_conn_id=mdsp_conn_id, poll_interval=poll_interval)
        if int(max_events) < 1:
            raise MdspConfigError(f"max_events must be 1 or more, not {max_events}", field="max_events")
        self.filter = event_filter(filter, type_id=type_id, entity_id=entity_id, severity=severity)
        self.start_after = checked_time(start_after, "start_after")
        self.lateness = float(lateness)
        self.max_events = int(max_events)

    def initial_state(self, now: datetime) -> dict[str, Any]:
        """Return the state of a first start: events from ``start_after`` (or now) on are new."""
        from airflow_provider_mdsp.triggers import watch_state as ws

        return ws.new_event_state(now, self.start_after)

    def poll(self, hook: MdspHook, state: Mapping[str, Any], now: datetime) -> tuple[dict[str, Any] | None, dict]:
        """Read the events of the lateness window, oldest first; report the unseen ones."""
        from airflow_provider_mdsp.triggers import watch_state as ws
        from airflow_provider_mdsp.triggers.checks import EVENT_PAGE_SIZE

        lateness = timedelta(seconds=self.lateness)
        low = ws.event_window_start(state, lateness)
        high = now + lateness  # events stamped a little ahead of this host's clock count too
        terms = {**self.filter, "timestamp": {"between": f"[{format_time(low)}, {format_time(high)})"}}
        found: list[dict[str, Any]] = []
        pages = hook.client.events.iter_event_pages(
            filter=terms, sort="timestamp,asc", history=True, size=EVENT_PAGE_SIZE
        )
        for page in pages:
            found.extend(page)
        fresh = ws.unseen_events(state, found)
        if not fresh:
            return None, ws.advance_event_state(state, [], checked=now, lateness=lateness)
        batch, more = fresh[: self.max_events], len(fresh) > self.max_events
        checked = to_datetime(state["checked"], name="checked") if more else now  # the rest: same window
        self.log.info("%d new event(s) match %s", len(batch), self.filter)
        return ws.events_report(batch, more=more), ws.advance_event_state(
            state, batch, checked=checked, lateness=lateness
        )


class MdspNewTimeSeriesTrigger(MdspWatcherTrigger):
    """Fire when an asset's aspect has records later than the last report: one trigger event per window.

    Each poll reads at most one record of ``(after, now - settle]``. When there is one, the
    watcher reports the window and the next one starts at its end, so the runs read adjoining
    windows ``(from, to]`` with no gap and no overlap; records written later with an earlier
    ``_time`` than a reported window are not reported.

    :param asset_id: the asset id.
    :param aspect: the aspect (property set) name.
    :param variables: only records with these variables.
    :param start_after: ISO time after which records count as new on the first start (default: then).
    :param settle: seconds to leave for written data to become readable (writes are asynchronous).
    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    :param poll_interval: seconds between two polls.
    :returns: event payload ``{"kind": "timeseries", "asset_id", "aspect", "from", "to", "first_time"}``.
    """

    identity_fields = ("asset_id", "aspect", "variables", "start_after", "settle")

    def __init__(
        self,
        *,
        asset_id: str,
        aspect: str,
        variables: list[str] | None = None,
        start_after: str | None = None,
        settle: float = 0.0,
        mdsp_conn_id: str = "mdsp_default",
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__(mdsp_conn_id=mdsp_conn_id, poll_interval=poll_interval)
        for name, value in (("asset_id", asset_id), ("aspect", aspect)):
            if not str(value or "").strip():
                raise MdspConfigError(f"{name} is required to watch time series", field=name)
        self.start_after = checked_time(start_after, "start_after")
        self.asset_id = asset_id
        self.aspect = aspect
        self.variables = list(variables) if variables else None
        self.settle = float(settle)

    def initial_state(self, now: datetime) -> dict[str, Any]:
        """Return the state of a first start: records after ``start_after`` (or now) are new."""
        from airflow_provider_mdsp.triggers import watch_state as ws

        return ws.new_timeseries_state(now, self.start_after)

    def poll(self, hook: MdspHook, state: Mapping[str, Any], now: datetime) -> tuple[dict[str, Any] | None, dict]:
        """Read at most one record of the next window; report the window when there is one."""
        from airflow_provider_mdsp.triggers import watch_state as ws

        window = ws.timeseries_window(state, now, timedelta(seconds=self.settle))
        if window is None:
            return None, dict(state)
        pages = hook.client.timeseries.iter_timeseries_pages(
            self.asset_id, self.aspect, from_=window[0], to=window[1], select=self.variables, limit=1, prefetch=0
        )
        try:
            first = next(iter(pages), [])
        finally:
            getattr(pages, "close", lambda: None)()
        if not first:
            return None, dict(state)
        self.log.info("New records of %s/%s after %s", self.asset_id, self.aspect, format_time(window[0]))
        report = ws.timeseries_report(self.asset_id, self.aspect, window, first[0].get("_time"))
        return report, {"after": report["to"]}


def checked_time(value: str | None, name: str) -> str | None:
    """Return an ISO 8601 time unchanged, so a bad one fails when the DAG is parsed, not in the triggerer.

    :raises MdspConfigError: not a time with a time zone.
    """
    return format_time(value, name=name) if value else None


def event_filter(
    filter: dict[str, Any] | str | None, *, type_id: str | None, entity_id: str | None, severity: int | None
) -> dict[str, Any]:
    """Merge the watcher's filter parameters into one Event Management filter (without a time term).

    :raises MdspConfigError: the filter is not a JSON object, or names a field twice with different values.
    """
    try:
        terms: Any = (json.loads(filter) if filter.strip() else {}) if isinstance(filter, str) else dict(filter or {})
    except ValueError:
        terms = None
    if not isinstance(terms, dict):
        raise MdspConfigError('filter must be a JSON object such as {"typeId": "…"}', field="filter")
    if "timestamp" in terms:
        raise MdspConfigError("filter must not have a timestamp term: the watcher sets the time itself", field="filter")
    given = {"typeId": type_id, "entityId": entity_id, "severity": None if severity is None else int(severity)}
    for key, value in given.items():
        if value in (None, ""):
            continue
        if key in terms and terms[key] != value:
            raise MdspConfigError(f"filter has {key}={terms[key]!r} but the parameter says {value!r}", field="filter")
        terms[key] = value
    return terms
