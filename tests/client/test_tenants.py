"""Subtenants: Spring Data pages (``content``, ``last``), as N:sdk/tenant describes them."""

from __future__ import annotations

from .conftest import GATEWAY, query

TM = f"{GATEWAY}/api/tenantmanagement/v4"


def test_subtenants_are_paged_until_the_last_page(client, requests_mock):
    api = requests_mock.get(
        f"{TM}/subtenants",
        [
            {"json": {"content": [{"id": "s1"}], "last": False, "totalPages": 2}},
            {"json": {"content": [{"id": "s2"}], "last": True, "totalPages": 2}},
        ],
    )
    assert [s["id"] for s in client.tenants.iter_subtenants(size=1)] == ["s1", "s2"]
    assert [query(r) for r in api.request_history] == [{"page": "0", "size": "1"}, {"page": "1", "size": "1"}]


def test_a_page_without_markers_is_the_only_page(client, requests_mock):
    api = requests_mock.get(f"{TM}/subtenants", json={"content": [{"id": "s1"}]})
    assert [s["id"] for s in client.tenants.iter_subtenants()] == ["s1"]
    assert api.call_count == 1
