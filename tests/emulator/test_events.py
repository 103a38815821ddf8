"""Event Management v3 in the emulator: events, filters, paging, history, event types."""

from __future__ import annotations

import json

import pytest

from .conftest import iso, minute_now

pytestmark = pytest.mark.integration

EM = "/api/eventmanagement/v3"
DAY = 86_400_000
STANDARD = "com.siemens.mindsphere.eventmgmt.event.type.MindSphereStandardEvent"


def _search(api, emu, **params):
    if "filter" in params:
        params["filter"] = json.dumps(params["filter"])
    r = api.get(f"{emu.url}{EM}/events", params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_seeded_events_are_visible(emu, api, ids):
    body = _search(api, emu, size=100)
    events = body["_embedded"]["events"]
    types = {e["typeId"] for e in events}
    assert {"demo.PumpAlarm", STANDARD} <= types
    alarms = [e for e in events if e["typeId"] == "demo.PumpAlarm"]
    assert all(e["entityId"] == ids["Pump-A1-1"] and e["temperature"] > 80 for e in alarms)
    assert [e["timestamp"] for e in events] == sorted((e["timestamp"] for e in events), reverse=True)


def test_create_get_and_correct_an_event(emu, api, ids):
    body = {"entityId": ids["Motor-A1"], "timestamp": iso(minute_now()), "description": "test"}
    created = api.post(f"{emu.url}{EM}/events", json=body, timeout=10)
    assert created.status_code == 201
    event = created.json()
    assert event["typeId"] == STANDARD
    assert event["etag"] == 0
    assert event["severity"] == 20
    url = event["_links"]["self"]["href"]
    assert api.get(url, timeout=10).json()["description"] == "test"
    fix = {**event, "description": "fixed"}
    assert api.put(url, json=fix, timeout=10).status_code == 400  # If-Match required
    assert api.put(url, json=fix, headers={"If-Match": "5"}, timeout=10).status_code == 412
    put = api.put(url, json=fix, headers={"If-Match": "0"}, timeout=10)
    assert put.json()["etag"] == 1
    assert put.json()["description"] == "fixed"
    moved = api.put(url, json={**fix, "entityId": ids["Motor-A2"]}, headers={"If-Match": "1"}, timeout=10)
    assert moved.status_code == 400


def test_missing_fields_are_400_in_the_event_error_body(emu, api):
    r = api.post(f"{emu.url}{EM}/events", json={"timestamp": iso(minute_now())}, timeout=10)
    assert r.status_code == 400
    assert set(r.json()[0]) == {"logref", "message"}


def test_paging_to_the_last_page(emu, api, ids):
    entity = ids["Line-B1"]
    now = minute_now()
    for k in range(25):
        api.post(f"{emu.url}{EM}/events", json={"entityId": entity, "timestamp": iso(now - k * 1000)}, timeout=10)
    first = _search(api, emu, filter={"entityId": entity}, size=10)
    assert first["page"] == {"size": 10, "totalElements": 25, "totalPages": 3, "number": 0}
    seen = []
    for page in range(first["page"]["totalPages"]):
        seen += _search(api, emu, filter={"entityId": entity}, size=10, page=page)["_embedded"]["events"]
    assert len({e["id"] for e in seen}) == 25
    assert _search(api, emu, filter={"entityId": entity})["page"]["size"] == 20
    too_big = api.get(f"{emu.url}{EM}/events", params={"size": 501}, timeout=10)
    assert too_big.status_code == 400


def test_timestamp_filters_and_the_default_7_day_window(emu, api, ids):
    entity = ids["Line-B2"]
    now = minute_now()
    for age_days in (1, 3, 10):
        api.post(f"{emu.url}{EM}/events", json={"entityId": entity, "timestamp": iso(now - age_days * DAY)}, timeout=10)
    assert _search(api, emu, filter={"entityId": entity})["page"]["totalElements"] == 2
    between = {"timestamp": {"between": f"[{iso(now - 11 * DAY)}, {iso(now - 2 * DAY)})"}}
    assert _search(api, emu, filter={"entityId": entity, **between})["page"]["totalElements"] == 2
    before = {"timestamp": {"before": iso(now - 2 * DAY)}}
    assert _search(api, emu, filter={"entityId": entity, **before})["page"]["totalElements"] == 2
    after = {"timestamp": {"after": iso(now - 2 * DAY)}}
    assert _search(api, emu, filter={"entityId": entity, **after})["page"]["totalElements"] == 1


def test_in_filter_and_sort(emu, api, ids):
    flt = {"entityId": {"in": {"value": [ids["Motor-B2"], ids["Pump-B1-2"]]}}}
    events = _search(api, emu, filter=flt, sort="timestamp,asc")["_embedded"]["events"]
    assert len(events) == 2
    assert events[0]["timestamp"] < events[1]["timestamp"]
    by_parent = _search(api, emu, filter={"parentAssetId": ids["Line-A1"], "typeId": "demo.PumpAlarm"})
    assert by_parent["page"]["totalElements"] == 3


def test_history_keeps_every_status_of_a_correlation(emu, api, ids):
    entity = ids["Site-B"]
    now = minute_now()
    for k, state in enumerate(("open", "ack", "closed")):
        body = {
            "entityId": entity,
            "timestamp": iso(now - (3 - k) * 1000),
            "correlationId": "c-1",
            "description": state,
        }
        api.post(f"{emu.url}{EM}/events", json=body, timeout=10)
    latest = _search(api, emu, filter={"entityId": entity})["_embedded"]["events"]
    assert [e["description"] for e in latest] == ["closed"]
    everything = _search(api, emu, filter={"entityId": entity}, history="true")
    assert everything["page"]["totalElements"] == 3


def test_event_type_lifecycle(emu, api, ids):
    body = {"id": "demo.Leak", "name": "Leak", "fields": [{"name": "litres", "type": "DOUBLE", "required": True}]}
    created = api.post(f"{emu.url}{EM}/eventTypes", json=body, timeout=10)
    assert created.status_code == 201
    assert created.json()["owner"] == "demo"
    assert api.post(f"{emu.url}{EM}/eventTypes", json={**body, "id": "acme.Leak"}, timeout=10).status_code == 400
    event = {"entityId": ids["Pump-A2-2"], "timestamp": iso(minute_now()), "typeId": "demo.Leak"}
    assert api.post(f"{emu.url}{EM}/events", json=event, timeout=10).status_code == 400  # litres required
    assert api.post(f"{emu.url}{EM}/events", json={**event, "litres": 2.5}, timeout=10).status_code == 201
    url = f"{emu.url}{EM}/eventTypes/demo.Leak"
    ops = [
        {"op": "replace", "path": "/ttl", "value": 10},
        {"op": "replace", "path": "/fields/0/required", "value": False},
    ]
    patched = api.patch(url, json=ops, headers={"If-Match": "0"}, timeout=10)
    assert patched.status_code == 200
    assert patched.json()["ttl"] == 10
    assert patched.json()["etag"] == 1
    listed = api.get(f"{emu.url}{EM}/eventTypes", params={"filter": '{"name":"Leak"}'}, timeout=10).json()
    assert listed["_embedded"]["eventTypes"][0]["id"] == "demo.Leak"
    assert api.delete(url, headers={"If-Match": "0"}, timeout=10).status_code == 412
    assert api.delete(url, headers={"If-Match": "1"}, timeout=10).status_code == 204
    assert api.get(url, timeout=10).status_code == 404


def test_a_page_of_more_than_100_events_is_refused(emu, api):
    assert api.get(f"{emu.url}{EM}/events", params={"size": 100}, timeout=10).status_code == 200
    refused = api.get(f"{emu.url}{EM}/events", params={"size": 101}, timeout=10)
    assert refused.status_code == 400  # §0: the spec's maximum is 100
    assert isinstance(refused.json(), list)
    assert {"logref", "message"} <= set(refused.json()[0])
    assert api.get(f"{emu.url}{EM}/eventTypes", params={"size": 101}, timeout=10).status_code == 400


def test_the_call_counters_name_event_and_type_routes_by_their_id_parameter(emu, api):
    api.get(f"{emu.url}{EM}/events/no-such-event", timeout=10)
    api.get(f"{emu.url}{EM}/eventTypes/demo.NoSuchType", timeout=10)
    api.delete(f"{emu.url}{EM}/eventTypes/demo.NoSuchType", timeout=10)
    calls = emu.stats()["calls"]
    assert f"GET {EM}/events/{{event_id}}" in calls
    assert f"GET {EM}/eventTypes/{{type_id}}" in calls
    assert f"DELETE {EM}/eventTypes/{{type_id}}" in calls, "the same spelling for every route of a resource"


@pytest.mark.parametrize(
    "flt",
    [
        {"typeId": {"in": {"value": ["demo.PumpAlarm", STANDARD]}}},
        {"typeId": ["demo.PumpAlarm", STANDARD]},
        {"typeId": {"startsWith": "demo.Pump"}},
        {"typeId": {"endsWith": "Alarm"}},
        {"or": [{"typeId": "demo.PumpAlarm"}, {"typeId": STANDARD}]},
        {"or": {"typeId": "demo.PumpAlarm", "entityId": "x"}},
        {"typeId": "demo.PumpAlarm", "and": {"typeId": "demo.PumpAlarm"}},
        {"typeId": {"or": [{"eq": "demo.PumpAlarm"}, {"eq": STANDARD}]}},
        {"typeId": "core.basicevent"},
        {"typeId": "BaseEvent"},
    ],
)
def test_a_search_names_one_type_id_by_equality_only(emu, api, flt):
    # §6: "One typeId only (equality)" (DOC api-eventmanagement-references-filtering); N:sdk/event
    # GetEvents: no typeId under and/or, equality only, not BaseEvent.
    refused = api.get(f"{emu.url}{EM}/events", params={"filter": json.dumps(flt)}, timeout=10)
    assert refused.status_code == 400, refused.text
    assert "typeId" in refused.json()[0]["message"]


@pytest.mark.parametrize(
    "flt",
    [
        {"typeId": "demo.PumpAlarm"},
        {"typeId": {"eq": "demo.PumpAlarm"}},
        {"and": {"typeId": "demo.PumpAlarm", "variable": "Temperature"}},
    ],
)
def test_one_type_id_by_equality_is_searched(emu, api, flt):
    found = _search(api, emu, filter=flt, size=100)["_embedded"]["events"]
    assert found
    assert {e["typeId"] for e in found} == {"demo.PumpAlarm"}


def test_only_core_standard_and_filterable_custom_fields_can_be_filtered_on(emu, api, ids):
    # DOC api-eventmanagement-references-filtering: core fields, the standard ones and custom fields
    # declared filterable (a field's filterable defaults to false, §6).
    fields = [{"name": "secret", "type": "STRING"}, {"name": "open", "type": "STRING", "filterable": True}]
    assert api.post(
        f"{emu.url}{EM}/eventTypes", json={"id": "demo.Vault", "name": "Vault", "fields": fields}, timeout=10
    ).ok
    event = {"entityId": ids["Pump-B2-1"], "timestamp": iso(minute_now()), "typeId": "demo.Vault"}
    assert api.post(f"{emu.url}{EM}/events", json={**event, "secret": "abc", "open": "abc"}, timeout=10).ok
    assert _search(api, emu, filter={"typeId": "demo.Vault", "open": "abc"})["page"]["totalElements"] == 1
    assert _search(api, emu, filter={"severity": 20, "source": "", "code": "", "acknowledged": False})
    for flt in ({"secret": "abc"}, {"and": {"open": "abc", "secret": "abc"}}, {"description": "x"}, {"nothing": 1}):
        refused = api.get(f"{emu.url}{EM}/events", params={"filter": json.dumps(flt)}, timeout=10)
        assert refused.status_code == 400, flt
        assert "cannot be filtered on" in refused.json()[0]["message"]
    # N:sdk/event GetEvents: sort is "supported only on filterable fields".
    assert _search(api, emu, filter={"typeId": "demo.Vault"}, sort="open,desc")["page"]["totalElements"] == 1
    for sort in ("secret", "secret,asc", "description,desc"):
        refused = api.get(f"{emu.url}{EM}/events", params={"sort": sort}, timeout=10)
        assert refused.status_code == 400, sort
        assert "sort" in refused.json()[0]["message"]
    job = api.post(
        f"{emu.url}{EM}/deleteEventsJobs", json={"filter": {"typeId": "demo.Vault", "secret": "abc"}}, timeout=10
    )
    assert job.status_code == 400


def test_a_field_declared_not_updatable_keeps_its_value(emu, api, ids):
    # §6: event type fields carry "updatable" (default true); a PUT may not change one declared false.
    fields = [{"name": "locked", "type": "INTEGER", "updatable": False}, {"name": "free", "type": "STRING"}]
    assert api.post(
        f"{emu.url}{EM}/eventTypes", json={"id": "demo.Sealed", "name": "Sealed", "fields": fields}, timeout=10
    ).ok
    body = {"entityId": ids["Pump-B2-2"], "timestamp": iso(minute_now()), "typeId": "demo.Sealed", "locked": 3}
    event = api.post(f"{emu.url}{EM}/events", json=body, timeout=10).json()
    url = event["_links"]["self"]["href"]
    for change in ({"locked": 5}, {"locked": None}):
        refused = api.put(url, json={**event, **change}, headers={"If-Match": "0"}, timeout=10)
        assert refused.status_code == 400, change
        assert "'locked'" in refused.json()[0]["message"]
    dropped = {k: v for k, v in event.items() if k != "locked"}
    assert api.put(url, json=dropped, headers={"If-Match": "0"}, timeout=10).status_code == 400
    fixed = api.put(url, json={**event, "free": "fixed"}, headers={"If-Match": "0"}, timeout=10)
    assert fixed.status_code == 200
    assert (fixed.json()["locked"], fixed.json()["free"], fixed.json()["etag"]) == (3, "fixed", 1)


def test_a_typed_field_takes_only_values_of_its_type(emu, api, ids):
    # N:sdk/event/event-management.ts PostEvent: "the event DTO must match to the corresponding event type".
    fields = [
        {"name": n, "type": t} for n, t in (("n", "INTEGER"), ("d", "DOUBLE"), ("b", "BOOLEAN"), ("t", "TIMESTAMP"))
    ]
    body = {"id": "demo.Typed", "name": "Typed", "fields": fields}
    assert api.post(f"{emu.url}{EM}/eventTypes", json=body, timeout=10).ok
    base = {"entityId": ids["Motor-A2"], "timestamp": iso(minute_now()), "typeId": "demo.Typed"}
    good = {"n": 5, "d": 5, "b": False, "t": iso(minute_now())}
    created = api.post(f"{emu.url}{EM}/events", json={**base, **good}, timeout=10)
    assert created.status_code == 201
    assert api.post(f"{emu.url}{EM}/events", json={**base, "d": 2.5, "n": None}, timeout=10).status_code == 201
    bad = [
        ("n", "5"),
        ("n", 1.5),
        ("n", True),
        ("d", "x"),
        ("d", True),
        ("b", "true"),
        ("b", 1),
        ("t", "noon"),
        ("t", 5),
    ]
    for name, value in bad:
        refused = api.post(f"{emu.url}{EM}/events", json={**base, name: value}, timeout=10)
        assert refused.status_code == 400, (name, value)
        assert f"'{name}'" in refused.json()[0]["message"]
    event = created.json()
    put = api.put(event["_links"]["self"]["href"], json={**event, "n": "6"}, headers={"If-Match": "0"}, timeout=10)
    assert put.status_code == 400
    standard = {"entityId": ids["Motor-A2"], "timestamp": iso(minute_now()), "severity": "high"}
    assert api.post(f"{emu.url}{EM}/events", json=standard, timeout=10).status_code == 400
