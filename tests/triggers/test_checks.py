"""The checks shared by poke and deferrable modes: exact requests, filter composition, result shapes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_mdsp.client.events import compose_event_filter
from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.hooks.mdsp import MdspHook
from airflow_provider_mdsp.triggers import checks
from tests.helpers.gateway import ASSET, BULK, EM, TS, events_page, query, sent_filter

NOW = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)


def test_new_timeseries_is_one_read_of_one_record_after_the_point(gateway, requests_mock):
    api = requests_mock.get(
        f"{TS}/{ASSET}/Vibration",
        json=[{"_time": "2024-05-01T10:00:01.000Z", "speed": 3}],
        headers={"Link": f'<{TS}/{ASSET}/Vibration?from=x>; rel="next"'},
    )
    got = checks.check_new_timeseries(
        MdspHook(), ASSET, "Vibration", "2024-05-01T10:00:00Z", ["speed", "temp"], now=NOW
    )
    assert got == {
        "asset_id": ASSET,
        "aspect": "Vibration",
        "after": "2024-05-01T10:00:00.000Z",
        "to": "2024-05-01T12:00:00.000Z",
        "first_time": "2024-05-01T10:00:01.000Z",
    }
    assert api.call_count == 1  # the next-page link is not followed: one record answers the question
    assert query(api.last_request) == {
        "from": "2024-05-01T10:00:00.000Z",
        "to": "2024-05-01T12:00:00.000Z",
        "limit": "1",
        "select": "speed,temp",
    }


def test_no_new_timeseries_is_none_and_a_future_point_costs_no_request(gateway, requests_mock):
    api = requests_mock.get(f"{TS}/{ASSET}/Vibration", json=[])
    hook = MdspHook()
    assert checks.check_new_timeseries(hook, ASSET, "Vibration", "2024-05-01T10:00:00Z", now=NOW) is None
    assert checks.check_new_timeseries(hook, ASSET, "Vibration", "2024-05-01T12:00:00Z", now=NOW) is None
    assert api.call_count == 1


def test_events_check_reads_oldest_first_and_reports_ids_count_and_times(gateway, requests_mock):
    events = [{"id": "e1", "timestamp": "2024-05-01T10:00:00.000Z"}, {"id": "e2", "timestamp": "2024-05-01T11:00:00Z"}]
    api = requests_mock.get(f"{EM}/events", json=events_page(events))
    got = checks.check_events(MdspHook(), {"typeId": "acme.Alarm"})
    assert got == {
        "count": 2,
        "event_ids": ["e1", "e2"],
        "first_time": "2024-05-01T10:00:00.000Z",
        "last_time": "2024-05-01T11:00:00Z",
        "truncated": False,
    }
    q = query(api.last_request)
    assert (q["sort"], q["page"], q["size"]) == ("timestamp,asc", "0", "100")
    assert sent_filter(api.last_request) == {"typeId": "acme.Alarm"}


def test_events_check_stops_at_max_matches_and_says_more_matched(gateway, requests_mock):
    first = [{"id": f"e{i}", "timestamp": f"2024-05-01T10:00:0{i}Z"} for i in range(3)]
    api = requests_mock.get(
        f"{EM}/events", [{"json": events_page(first, total_pages=5)}, {"json": events_page([{"id": "late"}], 5)}]
    )
    got = checks.check_events(MdspHook(), {}, max_matches=2)
    assert (got["count"], got["event_ids"], got["truncated"]) == (2, ["e0", "e1"], True)
    assert api.call_count == 1
    assert query(api.last_request)["size"] == "3"


def test_events_check_without_match_is_none(gateway, requests_mock):
    requests_mock.get(f"{EM}/events", json=events_page([]))
    assert checks.check_events(MdspHook(), {"entityId": ASSET}) is None
    with pytest.raises(MdspConfigError) as err:
        checks.check_events(MdspHook(), {}, max_matches=0)
    assert err.value.field == "max_matches"


def test_compose_event_filter_merges_parameters_into_a_dict_or_json_filter():
    window = {"between": "[2024-05-01T00:00:00.000Z, 2024-05-02T00:00:00.000Z)"}
    got = compose_event_filter('{"severity": 1}', type_id="acme.Alarm", entity_id=ASSET, timestamp=window)
    assert got == {"severity": 1, "typeId": "acme.Alarm", "entityId": ASSET, "timestamp": window}
    same = compose_event_filter({"typeId": "acme.Alarm"}, type_id="acme.Alarm")
    assert same == {"typeId": "acme.Alarm"}


@pytest.mark.parametrize(
    ("flt", "kwargs", "field"),
    [
        ({"typeId": "acme.Other"}, {"type_id": "acme.Alarm"}, "type_id"),
        ({"entityId": "b"}, {"entity_id": "a"}, "entity_id"),
        ({"timestamp": {"after": "2024-01-01T00:00:00Z"}}, {"timestamp": {"after": "2024-02-01T00:00:00Z"}}, "filter"),
        ("not json", {}, "filter"),
    ],
)
def test_compose_event_filter_refuses_conflicts(flt, kwargs, field):
    with pytest.raises(MdspConfigError) as err:
        compose_event_filter(flt, **kwargs)
    assert err.value.field == field


def test_bulk_job_check_is_none_until_final_then_a_summary(gateway, requests_mock):
    requests_mock.get(
        f"{BULK}/importJobs/job-1",
        [
            {"json": {"id": "job-1", "status": "SUBMITTED"}},
            {"json": {"id": "job-1", "status": "IN_PROGRESS"}},
            {
                "json": {
                    "jobId": "job-1",
                    "status": "SUCCESS",
                    "message": "ok",
                    "jobStartTime": "s",
                    "jobLastModified": "m",
                }
            },
        ],
    )
    hook = MdspHook()
    assert checks.check_bulk_job(hook, "job-1") is None
    assert checks.check_bulk_job(hook, "job-1") is None
    done = checks.check_bulk_job(hook, "job-1")
    assert done == {"job_id": "job-1", "status": "SUCCESS", "message": "ok", "startTime": "s", "lastModified": "m"}
    assert checks.bulk_job_failure(done) is None


def test_a_job_in_error_is_final_and_its_failure_names_the_jobs_message():
    summary = checks.job_summary({"id": "job-9", "status": "ERROR", "message": "File import/day1.json not found"})
    assert checks.bulk_job_failure(summary) == "Bulk import job job-9 ended in ERROR: File import/day1.json not found"
