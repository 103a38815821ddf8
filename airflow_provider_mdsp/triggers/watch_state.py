"""What the asset watchers remember between polls, and the pure decisions made on it.

A watcher's state is a small plain-JSON dict, kept in Airflow's asset state store (Airflow 3.3+)
so that a restarted triggerer carries on where the last one stopped instead of reporting the
same occurrence again. The functions here decide, without I/O, which window a poll reads and what
in its answer is new; :mod:`airflow_provider_mdsp.triggers.watchers` does the requests and the
storing. This module imports no Airflow.

Event state: ``{"since": ISO, "checked": ISO, "seen": {event id: event timestamp}}``

- ``since``: when the watcher first started; older events are never reported;
- ``checked``: the time of the last poll; the next poll reads events stamped from ``checked`` minus
  the lateness allowance on, so an event that reaches the service a little after its own timestamp
  is still reported;
- ``seen``: the ids already reported whose timestamps are still inside that allowance; older ones
  are dropped, as no later poll can return them.

Time-series state: ``{"after": ISO}``, the end of the last window reported; each report covers the
next window ``(after, end]``, so consecutive runs read adjoining windows with no gap and no overlap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_mdsp.timeutil import format_time, to_datetime

#: Prefix of the keys under which the watchers keep their state in the asset state store.
STATE_KEY_PREFIX = "mdsp_watch:"
#: Fields of an event that a watcher's report leaves out (links to the service, not data).
LEFT_OUT_FIELDS = ("_links",)


def state_key(identity: Mapping[str, Any]) -> str:
    """Return the state-store key of a watcher: a digest of what it watches (not of how often).

    Two watchers of the same asset with different filters keep separate states; changing only
    the poll interval keeps the state.

    :param identity: the arguments that define what is watched (connection, filter, asset, aspect).
    """
    text = json.dumps(dict(identity), sort_keys=True, default=str)
    return STATE_KEY_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:16]


def new_event_state(now: datetime, start_after: str | None = None) -> dict[str, Any]:
    """Return the state of an event watcher that starts now (or reports events from ``start_after`` on).

    :param now: the current time.
    :param start_after: ISO time; events stamped at or after it count as new. Default: ``now``.
    """
    since = format_time(start_after or now, name="start_after")
    return {"since": since, "checked": since, "seen": {}}


def event_window_start(state: Mapping[str, Any], lateness: timedelta) -> datetime:
    """Return the earliest event timestamp the next poll asks for: ``checked - lateness``, not before ``since``.

    :param state: the event state.
    :param lateness: how long after its timestamp an event may still reach the service.
    """
    since = to_datetime(state["since"], name="since")
    return max(since, to_datetime(state["checked"], name="checked") - lateness)


def unseen_events(state: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the events not reported before, oldest first, without :data:`LEFT_OUT_FIELDS`.

    :param state: the event state.
    :param events: the events the poll found.
    """
    seen = state.get("seen") or {}
    fresh: dict[str, dict[str, Any]] = {}
    for event in events:
        event_id = str(event.get("id") or "")
        if event_id and event_id not in seen and event_id not in fresh:
            fresh[event_id] = {k: v for k, v in event.items() if k not in LEFT_OUT_FIELDS}
    return sorted(fresh.values(), key=lambda e: (str(e.get("timestamp") or ""), e["id"]))


def advance_event_state(
    state: Mapping[str, Any], reported: Iterable[Mapping[str, Any]], *, checked: datetime, lateness: timedelta
) -> dict[str, Any]:
    """Return the state after a poll at ``checked`` that reported ``reported``.

    :param state: the state before the poll.
    :param reported: the events reported by this poll.
    :param checked: when the poll was made.
    :param lateness: the lateness allowance (ids older than ``checked - lateness`` are forgotten).
    """
    seen = {**(state.get("seen") or {}), **{str(e["id"]): str(e.get("timestamp") or "") for e in reported}}
    horizon = to_datetime(checked, name="checked") - lateness
    kept = {i: ts for i, ts in seen.items() if not ts or to_datetime(ts, name="timestamp") >= horizon}
    return {"since": state["since"], "checked": format_time(checked, name="checked"), "seen": kept}


def events_report(events: list[dict[str, Any]], *, more: bool) -> dict[str, Any]:
    """Return the trigger event payload of a batch of new events.

    :param events: the new events, oldest first.
    :param more: whether more new events wait for the next batch.
    :return: ``{"kind": "events", "count", "event_ids", "events", "first_time", "last_time", "more"}``.
    """
    times = [str(e["timestamp"]) for e in events if e.get("timestamp")]
    return {
        "kind": "events",
        "count": len(events),
        "event_ids": [e["id"] for e in events],
        "events": events,
        "first_time": times[0] if times else None,
        "last_time": times[-1] if times else None,
        "more": more,
    }


def new_timeseries_state(now: datetime, start_after: str | None = None) -> dict[str, Any]:
    """Return the state of a time-series watcher that reports data after ``start_after`` (default: now).

    :param now: the current time.
    :param start_after: ISO time; only records strictly later count.
    """
    return {"after": format_time(start_after or now, name="start_after")}


def timeseries_window(state: Mapping[str, Any], now: datetime, settle: timedelta) -> tuple[datetime, datetime] | None:
    """Return the window ``(after, now - settle]`` the next poll reads, or ``None`` when it is empty.

    :param state: the time-series state.
    :param now: the current time.
    :param settle: how long written data may take to become readable (writes are asynchronous).
    """
    start, end = to_datetime(state["after"], name="after"), now - settle
    return (start, end) if end > start else None


def timeseries_report(asset_id: str, aspect: str, window: tuple[datetime, datetime], first_time: Any) -> dict[str, Any]:
    """Return the trigger event payload for new records in ``window``.

    :return: ``{"kind": "timeseries", "asset_id", "aspect", "from", "to", "first_time"}``; a run
        reads exactly ``(from, to]``.
    """
    return {
        "kind": "timeseries",
        "asset_id": asset_id,
        "aspect": aspect,
        "from": format_time(window[0], name="from"),
        "to": format_time(window[1], name="to"),
        "first_time": first_time,
    }


def watcher_payloads(triggering_asset_events: Mapping[Any, Iterable[Any]] | None) -> list[dict[str, Any]]:
    """Return the watcher reports behind a run, oldest first, from its ``triggering_asset_events``.

    Airflow may start one run for several reports that arrived close together; a run handles every
    report this returns. A report delivered to several watched assets is returned once.

    :param triggering_asset_events: the run's ``triggering_asset_events`` (asset -> asset events).
    """
    found: list[tuple[str, dict[str, Any]]] = []
    for events in (triggering_asset_events or {}).values():
        for event in events:
            extra = getattr(event, "extra", None) or (event.get("extra") if isinstance(event, Mapping) else None)
            payload = (extra or {}).get("payload")
            if isinstance(payload, Mapping) and payload.get("kind") in ("events", "timeseries"):
                stamp = str(getattr(event, "timestamp", "") or "")
                found.append((stamp, dict(payload)))
    found.sort(key=lambda item: item[0])
    unique = {json.dumps(payload, sort_keys=True): payload for _, payload in found}  # one report, several assets
    return list(unique.values())
