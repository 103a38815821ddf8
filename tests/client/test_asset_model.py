"""Asset hierarchy and ensure: the exact requests (filter syntax, If-None-Match, If-Match, merge patch)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_mdsp.client.asset_model import MAX_PARENTS_PER_QUERY, aspect_type_differs, split_path
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspNotFoundError

from .conftest import GATEWAY, query

AM = f"{GATEWAY}/api/assetmanagement/v3"
KPI = {"name": "Kpi", "category": "dynamic", "variables": [{"name": "FlowMean", "dataType": "DOUBLE"}]}


def page(*assets, total_pages=1):
    body = {"page": {"totalPages": total_pages}}
    if assets:
        body["_embedded"] = {"assets": list(assets)}
    return body


def asset(asset_id, name, parent, type_id="t.Line"):
    return {"assetId": asset_id, "name": name, "parentId": parent, "typeId": type_id}


def test_a_path_is_resolved_one_name_at_a_time_below_the_root(client, requests_mock):
    requests_mock.get(f"{AM}/assets/root", json={"assetId": "root"})
    lookups = requests_mock.get(
        f"{AM}/assets", [{"json": page(asset("s", "Site-B", "root"))}, {"json": page(asset("l", "Line-B1", "s"))}]
    )
    assert client.asset_model.resolve_path("/Site-B/Line-B1")["assetId"] == "l"
    filters = [json.loads(query(r)["filter"]) for r in lookups.request_history]
    assert filters == [{"parentId": "root", "name": "Site-B"}, {"parentId": "s", "name": "Line-B1"}]


def test_a_missing_name_says_where_the_path_stops(client, requests_mock):
    requests_mock.get(f"{AM}/assets/root", json={"assetId": "root"})
    requests_mock.get(f"{AM}/assets", [{"json": page(asset("s", "Site-B", "root"))}, {"json": page()}])
    with pytest.raises(MdspNotFoundError, match="No asset named 'Line-X' under Site-B"):
        client.asset_model.resolve_path("Site-B/Line-X")


@pytest.mark.parametrize("bad", ["", "/", "a//b"])
def test_an_empty_path_part_is_a_config_error(bad):
    with pytest.raises(MdspConfigError):
        split_path(bad)


def test_a_level_of_many_parents_is_asked_with_the_documented_in_filter_in_batches(client, requests_mock):
    parents = [f"p{i}" for i in range(MAX_PARENTS_PER_QUERY + 1)]
    api = requests_mock.get(f"{AM}/assets", json=page())
    assert list(client.asset_model.iter_children(parents)) == []
    first, second = (json.loads(query(r)["filter"]) for r in api.request_history)
    assert first == {"parentId": {"in": {"value": parents[:MAX_PARENTS_PER_QUERY]}}}
    assert second == {"parentId": parents[-1]}
    assert query(api.request_history[0])["basicFieldsOnly"] == "true"


def test_descendants_carry_their_path_and_depth_and_the_type_filter_keeps_walking(client, requests_mock):
    requests_mock.get(
        f"{AM}/assets",
        [
            {"json": page(asset("l2", "Line-2", "s"), asset("l1", "Line-1", "s"))},
            {"json": page(asset("m1", "Motor-1", "l1", "t.Motor"), asset("p1", "Pump-1", "l1", "t.Pump"))},
            {"json": page()},
        ],
    )
    found = list(client.asset_model.iter_descendants("s", type_id="t.Motor", root_path="Site"))
    assert found == [
        {
            "assetId": "m1",
            "name": "Motor-1",
            "typeId": "t.Motor",
            "parentId": "l1",
            "path": "Site/Line-1/Motor-1",
            "depth": 2,
        }
    ]


def test_a_missing_aspect_type_is_created_with_if_none_match(client, requests_mock):
    requests_mock.get(f"{AM}/aspecttypes/demo.Kpi", status_code=404, json={"errors": [{"message": "no"}]})
    put = requests_mock.put(f"{AM}/aspecttypes/demo.Kpi", status_code=201, json={"id": "demo.Kpi", "etag": "0"})
    assert client.asset_model.ensure_aspect_type("demo.Kpi", KPI) == {
        "id": "demo.Kpi",
        "etag": "0",
        "action": "created",
    }
    assert put.last_request.headers["If-None-Match"] == "*"
    assert "If-Match" not in put.last_request.headers
    assert put.last_request.json() == KPI


def test_a_create_that_lost_its_reply_is_read_back_not_repeated(client, requests_mock):
    stored = {**KPI, "id": "demo.Kpi", "etag": "0"}
    requests_mock.get(f"{AM}/aspecttypes/demo.Kpi", [{"status_code": 404, "json": {}}, {"json": stored}])
    put = requests_mock.put(f"{AM}/aspecttypes/demo.Kpi", status_code=412, json={"errors": [{"message": "exists"}]})
    assert client.asset_model.ensure_aspect_type("demo.Kpi", KPI)["action"] == "unchanged"
    assert put.call_count == 1


def test_a_different_aspect_type_is_replaced_with_if_match(client, requests_mock):
    stored = {**KPI, "variables": [{"name": "FlowMean", "dataType": "INT"}], "etag": "3"}
    requests_mock.get(f"{AM}/aspecttypes/demo.Kpi", json=stored)
    put = requests_mock.put(f"{AM}/aspecttypes/demo.Kpi", json={"id": "demo.Kpi", "etag": "4"})
    assert client.asset_model.ensure_aspect_type("demo.Kpi", KPI)["action"] == "updated"
    assert put.last_request.headers["If-Match"] == "3"


def test_only_declared_keys_count_as_a_difference():
    stored = {**KPI, "scope": "private", "variables": [{"name": "FlowMean", "dataType": "DOUBLE", "unit": ""}]}
    assert not aspect_type_differs(stored, KPI)
    assert aspect_type_differs(stored, {**KPI, "variables": [*KPI["variables"], {"name": "X", "dataType": "INT"}]})


def test_an_aspect_is_added_to_an_asset_type_by_merge_patch_with_the_whole_list(client, requests_mock):
    requests_mock.get(
        f"{AM}/assettypes/demo.Pump",
        json={"etag": "7", "aspects": [{"name": "PumpData", "aspectType": {"id": "demo.PumpData"}}]},
    )
    patch = requests_mock.patch(f"{AM}/assettypes/demo.Pump", json={"id": "demo.Pump", "etag": "8"})
    result = client.asset_model.ensure_asset_type_aspect("demo.Pump", "Kpi", "demo.Kpi")
    assert result == {"id": "demo.Pump", "etag": "8", "action": "updated"}
    sent = patch.last_request
    assert (sent.headers["If-Match"], sent.headers["Content-Type"]) == ("7", "application/merge-patch+json")
    assert sent.json() == {
        "aspects": [{"name": "PumpData", "aspectTypeId": "demo.PumpData"}, {"name": "Kpi", "aspectTypeId": "demo.Kpi"}]
    }


def test_an_existing_asset_is_patched_only_where_it_differs(client, requests_mock):
    requests_mock.get(f"{AM}/assets", json=page(asset("a1", "Pump-9", "l", "demo.Pump")))
    requests_mock.get(
        f"{AM}/assets/a1", json={**asset("a1", "Pump-9", "l", "demo.Pump"), "description": "old", "etag": "2"}
    )
    patch = requests_mock.patch(f"{AM}/assets/a1", json={"assetId": "a1", "etag": "3"})
    made = client.asset_model.ensure_asset("l", "Pump-9", "demo.Pump", {"description": "new", "externalId": None})
    assert made == {"id": "a1", "etag": "3", "action": "updated"}
    assert patch.last_request.json() == {"description": "new"}
    assert patch.last_request.headers["If-Match"] == "2"


def test_a_missing_asset_is_created_under_its_parent(client, requests_mock):
    requests_mock.get(f"{AM}/assets", json=page())
    post = requests_mock.post(f"{AM}/assets", status_code=201, json={"assetId": "new", "etag": "0"})
    assert client.asset_model.ensure_asset("l", "Pump-9", "demo.Pump")["action"] == "created"
    assert post.last_request.json() == {"name": "Pump-9", "typeId": "demo.Pump", "parentId": "l"}
