"""MdspApiOperator: any endpoint, any paging style, same output policy."""

from __future__ import annotations

import json

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.generic import MdspApiOperator
from tests.helpers.mock_gateway import GATEWAY, api_calls, connect, query

EVENT_TYPES = f"{GATEWAY}/api/eventmanagement/v3/eventTypes"


@pytest.fixture
def gateway(mdsp_connection, requests_mock):
    return connect(mdsp_connection, requests_mock)


def test_a_plain_call_returns_the_json_body(gateway, requests_mock):
    requests_mock.get(f"{GATEWAY}/api/assetmanagement/v3/assets/root", json={"assetId": "r", "name": "acme"})
    endpoint = "/api/assetmanagement/v3/assets/root"
    op = MdspApiOperator(task_id="root", endpoint=endpoint, query={"includeShared": "true"})
    assert op.execute({}) == {"assetId": "r", "name": "acme"}
    assert query(api_calls(requests_mock)[0]) == {"includeShared": "true"}


def test_post_sends_json_and_headers(gateway, requests_mock):
    post = requests_mock.post(EVENT_TYPES, status_code=201, json={"id": "acme.Alarm"})
    op = MdspApiOperator(
        task_id="create",
        method="post",
        endpoint="/api/eventmanagement/v3/eventTypes",
        json={"name": "Alarm"},
        headers={"X-Trace": "1"},
    )
    assert op.execute({}) == {"id": "acme.Alarm"}
    assert json.loads(post.last_request.body) == {"name": "Alarm"}
    assert post.last_request.headers["X-Trace"] == "1"


def test_a_list_body_longer_than_the_bound_fails_unless_written_to_a_file(gateway, requests_mock, tmp_path):
    requests_mock.get(EVENT_TYPES, json=[{"id": i} for i in range(5)])
    op = MdspApiOperator(task_id="t", endpoint="/api/eventmanagement/v3/eventTypes", max_xcom_records=3)
    with pytest.raises(MdspConfigError, match="5 items") as err:
        op.execute({})
    assert err.value.field == "output_path"
    op.output_path = str(tmp_path / "types.jsonl")
    assert op.execute({})["records"] == 5
    assert len((tmp_path / "types.jsonl").read_text().splitlines()) == 5


def test_spring_paging_streams_every_page(gateway, requests_mock):
    pages = [
        {"_embedded": {"eventTypes": [{"id": "a"}, {"id": "b"}]}, "page": {"number": 0, "totalPages": 2}},
        {"_embedded": {"eventTypes": [{"id": "c"}]}, "page": {"number": 1, "totalPages": 2}},
    ]
    requests_mock.get(EVENT_TYPES, [{"json": p} for p in pages])
    op = MdspApiOperator(
        task_id="t", endpoint="/api/eventmanagement/v3/eventTypes", paging="spring", page_size=2, query={"sort": "id"}
    )
    result = op.execute({})
    assert [r["id"] for r in result["data"]] == ["a", "b", "c"]
    assert [query(c) for c in api_calls(requests_mock)] == [
        {"sort": "id", "page": "0", "size": "2"},
        {"sort": "id", "page": "1", "size": "2"},
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"method": "TRACE"}, "method"),
        ({"paging": "cursor"}, "paging"),
        ({"paging": "spring", "method": "POST"}, "paging"),
        ({"paging": "spring", "headers": {"X": "1"}}, "headers"),
        ({"output_format": "xlsx"}, "output_format"),
    ],
)
def test_bad_arguments_fail_at_parse_time(kwargs, field):
    with pytest.raises(MdspConfigError) as err:
        MdspApiOperator(task_id="t", endpoint="/x", **kwargs)
    assert err.value.field == field
