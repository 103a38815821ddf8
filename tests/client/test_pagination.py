"""Paging: every style streams its pages, stops where the API says, and refuses foreign links."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.client.pagination import (
    iter_items,
    iter_link_pages,
    iter_next_record_pages,
    iter_offset_pages,
    iter_scim_pages,
    iter_spring_pages,
)
from airflow_provider_mdsp.exceptions import MdspError, MdspResponseError, MdspUnsafeLinkError

from .conftest import GATEWAY, query

ASSETS = f"{GATEWAY}/api/assetmanagement/v3/assets"
TS = f"{GATEWAY}/api/iottimeseries/v3/timeseries/e1/ps"


def spring_page(items, number, total_pages, key="assets"):
    body = {"page": {"size": 2, "number": number, "totalPages": total_pages, "totalElements": 9}, "_links": {}}
    if items is not None:
        body["_embedded"] = {key: items}
    return {"json": body}


def test_spring_pages_go_past_an_empty_page_in_the_middle(transport, requests_mock):
    api = requests_mock.get(ASSETS, [spring_page([1, 2], 0, 3), spring_page([], 1, 3), spring_page([3], 2, 3)])
    items = list(iter_items(iter_spring_pages(transport, ASSETS, "assets", size=2)))
    assert items == [1, 2, 3]
    assert [query(r)["page"] for r in api.request_history] == ["0", "1", "2"]
    assert {query(r)["size"] for r in api.request_history} == {"2"}


def test_spring_paging_stops_when_embedded_is_absent(transport, requests_mock):
    api = requests_mock.get(ASSETS, [spring_page(None, 0, 0)])
    assert list(iter_spring_pages(transport, ASSETS, "assets")) == [[]]
    assert api.call_count == 1


def test_spring_pages_are_fetched_lazily(transport, requests_mock):
    api = requests_mock.get(ASSETS, [spring_page([1], 0, 5)] * 5)
    pages = iter_spring_pages(transport, ASSETS, "assets")
    next(pages)
    assert api.call_count == 1


def test_link_pages_follow_the_link_header_until_it_is_absent(transport, requests_mock):
    requests_mock.get(
        TS,
        [
            {"json": [{"_time": "a"}], "headers": {"Link": f'<{TS}?from=a&to=z>; rel="next"'}},
            {
                "json": [{"_time": "b"}],
                "headers": {"Link": '</api/iottimeseries/v3/timeseries/e1/ps?from=b&to=z>; rel="next"'},
            },
            {"json": [{"_time": "c"}]},
        ],
    )
    pages = list(iter_link_pages(transport, TS, params={"from": "0", "to": "z"}))
    assert pages == [[{"_time": "a"}], [{"_time": "b"}], [{"_time": "c"}]]
    assert [query(r).get("from") for r in requests_mock.request_history] == ["0", "a", "b"]


def test_a_link_header_to_another_host_is_refused(transport, requests_mock):
    requests_mock.get(TS, json=[{"_time": "a"}], headers={"Link": '<https://evil.example/steal>; rel="next"'})
    pages = iter_link_pages(transport, TS)
    assert next(pages) == [{"_time": "a"}]
    with pytest.raises(MdspUnsafeLinkError):
        next(pages)
    assert requests_mock.call_count == 1


def test_a_link_that_repeats_a_page_stops_instead_of_looping(transport, requests_mock):
    requests_mock.get(TS, json=[], headers={"Link": f'<{TS}?from=a>; rel="next"'})
    with pytest.raises(MdspResponseError, match="repeats"):
        list(iter_link_pages(transport, TS))


def test_scim_pages_end_at_total_results(transport, requests_mock):
    users = f"{GATEWAY}/api/identitymanagement/v3/Users"
    api = requests_mock.get(
        users,
        [
            {"json": {"totalResults": 3, "resources": [{"id": 1}, {"id": 2}]}},
            {"json": {"totalResults": 3, "resources": [{"id": 3}]}},
        ],
    )
    items = list(iter_items(iter_scim_pages(transport, users, count=2)))
    assert items == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert [query(r)["startIndex"] for r in api.request_history] == ["1", "3"]


def test_scim_paging_stops_on_an_empty_page(transport, requests_mock):
    users = f"{GATEWAY}/api/identitymanagement/v3/Users"
    api = requests_mock.get(users, json={"totalResults": 50, "resources": []})
    assert list(iter_items(iter_scim_pages(transport, users))) == []
    assert api.call_count == 1


def test_file_search_goes_on_past_a_short_page_to_the_total_count(transport, requests_mock):
    files = f"{GATEWAY}/api/iotfile/v3/files/e1"
    # The service answers fewer than the limit asked for (it caps limit at 200, §0).
    api = requests_mock.get(
        files, [{"json": [1, 2], "headers": {"X-Total-Count": "5"}}, {"json": [3, 4]}, {"json": [5]}]
    )
    assert list(iter_items(iter_offset_pages(transport, files, limit=500))) == [1, 2, 3, 4, 5]
    assert [query(r)["offset"] for r in api.request_history] == ["0", "2", "4"]
    assert query(api.request_history[0])["count"] == "true"


def test_file_search_without_a_total_stops_at_an_empty_page(transport, requests_mock):
    files = f"{GATEWAY}/api/iotfile/v3/files/e1"
    api = requests_mock.get(files, [{"json": [1, 2]}, {"json": [3]}, {"json": []}])
    assert list(iter_items(iter_offset_pages(transport, files, limit=2))) == [1, 2, 3]
    assert [query(r)["offset"] for r in api.request_history] == ["0", "2", "3"]


def test_file_search_beyond_the_offset_cap_fails_before_the_first_page(transport, requests_mock):
    files = f"{GATEWAY}/api/iotfile/v3/files/e1"
    api = requests_mock.get(files, json=list(range(200)), headers={"X-Total-Count": "10201"})
    with pytest.raises(MdspError, match="Narrow the 'filter'"):
        next(iter_offset_pages(transport, files))
    assert api.call_count == 1


def test_file_search_without_a_total_stops_at_the_offset_cap(transport, requests_mock):
    files = f"{GATEWAY}/api/iotfile/v3/files/e1"
    api = requests_mock.get(files, json=list(range(2500)))
    pages = iter_offset_pages(transport, files, limit=2500)
    with pytest.raises(MdspError, match="Narrow the 'filter'"):
        for _ in pages:
            pass
    assert [query(r)["offset"] for r in api.request_history] == ["0", "2500", "5000", "7500", "10000"]


def test_next_record_pages_follow_until_absent_and_refuse_other_hosts(transport, requests_mock):
    bulk = f"{GATEWAY}/api/iottsbulk/v3/timeseries/e1/ps"
    requests_mock.get(
        bulk,
        [
            {"json": {"records": [1], "nextRecord": f"{bulk}?from=x"}},
            {"json": {"records": [2], "nextRecord": "https://elsewhere.example/x"}},
        ],
    )
    pages = iter_next_record_pages(transport, bulk, params={"from": "a", "to": "b"})
    assert next(pages) == [1]
    assert next(pages) == [2]
    with pytest.raises(MdspUnsafeLinkError):
        next(pages)
