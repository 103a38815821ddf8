"""TS Bulk: import jobs (id from body or Location, 2019 field names) and nextRecord reads."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests

from airflow_provider_mdsp.client.bulk import FINAL_STATES, normalize_job
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspResponseError, MdspTimeoutError

from .conftest import GATEWAY, query

BULK = f"{GATEWAY}/api/iottsbulk/v3"
ENTITY = "a" * 32
FILES = [
    {"filePath": "import/day1.json", "from": datetime(2024, 5, 1, tzinfo=timezone.utc), "to": "2024-05-02T00:00:00Z"}
]


def test_create_sends_the_documented_body_and_takes_the_id_from_location(client, requests_mock):
    api = requests_mock.post(f"{BULK}/importJobs", status_code=201, headers={"Location": f"{BULK}/importJobs/job-42"})
    job = client.bulk.create_import_job(ENTITY, "Vibration", FILES)
    assert job == {"id": "job-42"}
    assert api.last_request.json() == {
        "data": [
            {
                "entity": ENTITY,
                "propertySetName": "Vibration",
                "timeseriesFiles": [
                    {
                        "filePath": "import/day1.json",
                        "from": "2024-05-01T00:00:00.000Z",
                        "to": "2024-05-02T00:00:00.000Z",
                    }
                ],
            }
        ]
    }


def test_create_prefers_the_id_in_the_body(client, requests_mock):
    requests_mock.post(
        f"{BULK}/importJobs",
        status_code=201,
        json={"id": "body-id", "status": "SUBMITTED"},
        headers={"Location": "/x/other"},
    )
    assert client.bulk.create_import_job(ENTITY, "Vibration", FILES) == {"id": "body-id", "status": "SUBMITTED"}


def test_create_without_any_id_is_a_response_error(client, requests_mock):
    requests_mock.post(f"{BULK}/importJobs", status_code=201)
    with pytest.raises(MdspResponseError, match="no job id"):
        client.bulk.create_import_job(ENTITY, "Vibration", FILES)


def test_create_is_not_resent_after_a_timeout(client, requests_mock):
    api = requests_mock.post(f"{BULK}/importJobs", exc=requests.exceptions.ReadTimeout)
    with pytest.raises(MdspTimeoutError):
        client.bulk.create_import_job(ENTITY, "Vibration", FILES)
    assert api.call_count == 1


@pytest.mark.parametrize(
    "files", [[], [{"filePath": "a"}], [{"filePath": "a", "from": "2024-05-01T00:00:00Z", "to": "x"}]]
)
def test_bad_file_lists_are_refused_before_any_call(client, requests_mock, files):
    with pytest.raises(MdspConfigError):
        client.bulk.create_import_job(ENTITY, "Vibration", files)
    assert requests_mock.call_count == 0


def test_job_status_with_the_2019_field_names_is_normalised(client, requests_mock):
    legacy = {"jobId": "j1", "status": "SUCCESS", "jobStartTime": "s", "jobLastModified": "m", "message": "ok"}
    requests_mock.get(f"{BULK}/importJobs/j1", json=legacy)
    job = client.bulk.get_import_job("j1")
    assert job == {"id": "j1", "status": "SUCCESS", "startTime": "s", "lastModified": "m", "message": "ok"}
    assert job["status"] in FINAL_STATES


def test_current_names_win_over_legacy_ones():
    assert normalize_job({"id": "new", "jobId": "old"}) == {"id": "new"}


def test_final_states():
    assert frozenset({"SUCCESS", "ERROR"}) == FINAL_STATES


def test_bulk_read_follows_next_record(client, requests_mock):
    url = f"{BULK}/timeseries/{ENTITY}/Vibration"
    api = requests_mock.get(
        url,
        [
            {"json": {"records": [{"_time": "a"}], "nextRecord": f"{url}?from=a&to=z"}},
            {"json": {"records": [{"_time": "b"}]}},
        ],
    )
    got = list(
        client.bulk.iter_bulk_timeseries(
            ENTITY, "Vibration", from_="2024-05-01T00:00:00Z", to="2024-06-01T00:00:00Z", limit=1
        )
    )
    assert got == [{"_time": "a"}, {"_time": "b"}]
    assert query(api.request_history[0]) == {
        "from": "2024-05-01T00:00:00.000Z",
        "to": "2024-06-01T00:00:00.000Z",
        "limit": "1",
    }
    assert query(api.request_history[1]) == {"from": "a", "to": "z"}
