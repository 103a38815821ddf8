"""Creating events under faults, including answers lost after the event was created, never duplicates one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.helpers.time import waits_on_emulator
from tests.resilience.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    FAULTS,
    RETRIES,
    TENANT,
    DropAfterProcessing,
    Served,
    client_for,
    injected,
)

pytestmark = pytest.mark.integration

EVENTS_PATH = "/api/eventmanagement/v3/events"
COUNT = 15


@pytest.fixture
def served() -> Iterator[tuple[Any, DropAfterProcessing]]:
    """The emulator with a quarter of successful event creations losing their answer, plus the usual faults."""
    from airflow_provider_mdsp.emulator import EmulatorHandle, create_app

    cutter = DropAfterProcessing(create_app(), 0.25, method="POST", path=EVENTS_PATH)
    with Served(cutter) as server:
        yield EmulatorHandle(server.url), cutter


def window_now() -> tuple[datetime, list[str]]:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    stamps = [(now - timedelta(seconds=COUNT - i)).isoformat().replace("+00:00", "Z") for i in range(COUNT)]
    return now, stamps


def correlation_counts(emu: Any, entity: str, since: datetime) -> Counter[str]:
    """Count the events of ``entity`` since ``since`` per correlation id, every version included."""
    emu.set_faults()
    client = client_for(emu.url)
    low = (since - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    high = (since + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    terms = {"entityId": entity, "timestamp": {"between": f"[{low}, {high})"}}
    return Counter(e["correlationId"] for e in client.events.iter_events(filter=terms, history=True, size=100))


def test_the_client_creates_each_event_exactly_once(served):
    emu, cutter = served
    entity = emu.demo_assets()["Pump-A1-1"]
    now, stamps = window_now()
    emu.set_faults(**FAULTS)
    client = client_for(emu.url)
    with waits_on_emulator(emu):
        created = [
            client.events.create_event(
                {"entityId": entity, "timestamp": stamp, "severity": 2, "description": f"resilience {i}"},
                sleep=lambda seconds: None,  # the emulator shows events at once
            )
            for i, stamp in enumerate(stamps)
        ]
    faults = injected(emu.stats())
    assert cutter.dropped > 0, "some events were created and their answer lost"
    assert faults["error"] > 0, faults
    ids = [e["correlationId"] for e in created]
    assert len(set(ids)) == COUNT
    counts = correlation_counts(emu, entity, now)
    assert counts == Counter({cid: 1 for cid in ids}), "exactly one event per correlation id, none lost"


def test_the_create_event_operator_creates_each_event_exactly_once(served, mdsp_connection, monkeypatch):
    from airflow_provider_mdsp.auth import clear_token_providers
    from airflow_provider_mdsp.operators.events import MdspCreateEventOperator

    monkeypatch.setattr("airflow_provider_mdsp.client.events.EVENT_VISIBILITY_WAITS", (0.0, 0.0))
    emu, cutter = served
    conn_id = mdsp_connection(
        "mdsp_faulty",
        host=emu.url,
        login=CLIENT_ID,
        password=CLIENT_SECRET,
        extra={"tenant": TENANT, "auth_url": emu.token_url, **RETRIES},
    )
    entity = emu.demo_assets()["Motor-A1"]
    now, stamps = window_now()
    emu.set_faults(**FAULTS)
    clear_token_providers()
    create = MdspCreateEventOperator(
        task_id="raise_alarms",
        mdsp_conn_id=conn_id,
        entity_id=entity,
        severity=1,
        description="resilience",
        events=[{"timestamp": stamp} for stamp in stamps],
    )
    with waits_on_emulator(emu):
        result = create.execute(context={})
    assert cutter.dropped > 0, "some events were created and their answer lost"
    assert result["created"] == COUNT
    counts = correlation_counts(emu, entity, now)
    assert len(counts) == COUNT
    assert set(counts.values()) == {1}, f"no duplicates: {counts}"
