"""Asset Management v3 in the emulator: paging, filters, ETags, types."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.integration

AM = "/api/assetmanagement/v3"


def _all_pages(api, url: str, params: dict) -> tuple[list[dict], list[dict]]:
    """Follow _links.next to the last page; return (items, page bodies)."""
    items, bodies = [], []
    response = api.get(url, params=params, timeout=10)
    while True:
        assert response.status_code == 200
        body = response.json()
        bodies.append(body)
        items += body.get("_embedded", {}).get("assets", [])
        nxt = body["_links"].get("next")
        if nxt is None:
            return items, bodies
        response = api.get(nxt["href"], timeout=10)


def test_root_asset(emu, api):
    root = api.get(f"{emu.url}{AM}/assets/root", timeout=10).json()
    assert re.fullmatch(r"[0-9a-f]{32}", root["assetId"])
    assert root["name"] == "demo"
    assert root["parentId"] is None
    assert root["etag"] == "0"


def test_spring_paging_to_the_last_page(emu, api):
    # Compared with one large page, not the seed's count: other tests of this module add assets.
    everything = api.get(f"{emu.url}{AM}/assets", params={"size": 200}, timeout=10).json()
    total = everything["page"]["totalElements"]
    assert total >= 1 + 2 + 4 + 8 + 4 + 1  # at least the seed: root, sites, lines, pumps, motors, bench-motor
    items, bodies = _all_pages(api, f"{emu.url}{AM}/assets", {"size": 4})
    assert bodies[0]["page"]["totalElements"] == total
    assert [a["assetId"] for a in items] == [a["assetId"] for a in everything["_embedded"]["assets"]]
    assert len(items) == total == len({a["assetId"] for a in items})
    assert len(bodies) == bodies[0]["page"]["totalPages"] == -(-total // 4)
    assert [b["page"]["number"] for b in bodies] == list(range(len(bodies)))
    assert "prev" not in bodies[0]["_links"]
    assert {"self", "first", "prev", "last"} <= set(bodies[-1]["_links"])
    assert [a["name"] for a in items] == sorted(a["name"] for a in items)


def test_default_page_size_is_10(emu, api):
    body = api.get(f"{emu.url}{AM}/assets", timeout=10).json()
    assert body["page"]["size"] == 10
    assert len(body["_embedded"]["assets"]) == 10


def test_embedded_is_absent_when_nothing_matches(emu, api):
    body = api.get(f"{emu.url}{AM}/assets", params={"filter": json.dumps({"name": "nothing"})}, timeout=10).json()
    assert "_embedded" not in body
    assert body["page"]["totalElements"] == 0


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"name": "Pump-A1-1"}, 1),
        ({"name": {"eq": "Site-B"}}, 1),
        ({"name": {"startsWith": "Pump-"}}, 8),
        ({"name": {"endsWith": "-2"}}, 4),
        ({"name": {"in": ["Site-A", "Site-B", "none"]}}, 2),
        ({"typeId": {"in": {"value": ["demo.Motor"]}}}, 4),
        ({"and": {"typeId": "demo.Pump", "name": {"startsWith": "Pump-B"}}}, 4),
        ({"or": {"typeId": "demo.Motor", "name": "bench-motor"}}, 5),
        ({"hasType": "demo.Pump"}, 8),
        ({"hasType": "core.basicsite"}, 2),
        ({"and": {"deleted": None, "name": {"startsWith": "Line"}}}, 4),
    ],
)
def test_filters(emu, api, flt, expected):
    body = api.get(f"{emu.url}{AM}/assets", params={"filter": json.dumps(flt), "size": 50}, timeout=10).json()
    assert body["page"]["totalElements"] == expected


def test_bad_filter_is_400_with_asset_error_body(emu, api):
    r = api.get(f"{emu.url}{AM}/assets", params={"filter": '{"name":{"like":"x"}}'}, timeout=10)
    assert r.status_code == 400
    error = r.json()["errors"][0]
    assert {"code", "logref", "message"} <= set(error)


def test_sort_descending(emu, api):
    body = api.get(f"{emu.url}{AM}/assets", params={"sort": "name,desc", "size": 50}, timeout=10).json()
    names = [a["name"] for a in body["_embedded"]["assets"]]
    assert names == sorted(names, reverse=True)


def test_if_none_match_gives_304(emu, api, ids):
    url = f"{emu.url}{AM}/assets/{ids['Pump-A1-1']}"
    first = api.get(url, timeout=10)
    assert first.headers["ETag"] == '"0"'
    assert api.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=10).status_code == 304


def test_create_update_delete_with_etags(emu, api, ids):
    body = {"name": "Pump-new", "typeId": "demo.Pump", "parentId": ids["Line-B2"], "description": "x"}
    created = api.post(f"{emu.url}{AM}/assets", json=body, timeout=10)
    assert created.status_code == 201
    asset = created.json()
    url = f"{emu.url}{AM}/assets/{asset['assetId']}"
    assert api.post(f"{emu.url}{AM}/assets", json=body, timeout=10).status_code == 409  # sibling name taken
    update = {**body, "description": "updated"}
    assert api.put(url, json=update, timeout=10).status_code == 400  # If-Match missing
    stale = api.put(url, json=update, headers={"If-Match": '"7"'}, timeout=10)
    assert stale.status_code == 412
    assert stale.json()["errors"][0]["message"]
    put = api.put(url, json=update, headers={"If-Match": '"0"'}, timeout=10)
    assert put.status_code == 200
    assert put.json()["etag"] == "1"
    patch = api.patch(
        url,
        data=json.dumps({"externalId": "ext-1"}),
        headers={"If-Match": "1", "Content-Type": "application/merge-patch+json"},
        timeout=10,
    )
    assert patch.json()["externalId"] == "ext-1"
    assert patch.json()["description"] == "updated"
    assert api.delete(url, headers={"If-Match": "1"}, timeout=10).status_code == 412
    assert api.delete(url, headers={"If-Match": "2"}, timeout=10).status_code == 204
    gone = api.get(url, timeout=10)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["code"].endswith("noMatch")


def test_type_and_parent_cannot_change_on_put(emu, api, ids):
    url = f"{emu.url}{AM}/assets/{ids['Motor-A2']}"
    asset = api.get(url, timeout=10).json()
    r = api.put(url, json={**asset, "typeId": "demo.Pump"}, headers={"If-Match": asset["etag"]}, timeout=10)
    assert r.status_code == 400


def test_move(emu, api, ids):
    body = {"name": "Mover", "typeId": "demo.Line", "parentId": ids["Site-A"]}
    asset = api.post(f"{emu.url}{AM}/assets", json=body, timeout=10).json()
    moved = api.post(
        f"{emu.url}{AM}/assets/{asset['assetId']}/move",
        json={"newParentId": ids["Site-B"]},
        headers={"If-Match": "0"},
        timeout=10,
    )
    assert moved.status_code == 200
    assert moved.json()["parentId"] == ids["Site-B"]


def test_aspects_and_variables_of_a_pump(emu, api, ids):
    base = f"{emu.url}{AM}/assets/{ids['Pump-A1-1']}"
    aspects = api.get(f"{base}/aspects", timeout=10).json()["_embedded"]["aspects"]
    assert [a["name"] for a in aspects] == ["PumpData"]
    variables = api.get(f"{base}/variables", timeout=10).json()["_embedded"]["variables"]
    by_name = {v["name"]: v for v in variables}
    assert set(by_name) == {"FlowRate", "Pressure", "Temperature"}
    assert by_name["Pressure"]["qualityCode"] is True
    assert by_name["Temperature"]["unit"] == "°C"


def test_aspect_type_and_asset_type_lifecycle(emu, api):
    aspect = {"name": "Oil", "category": "dynamic", "variables": [{"name": "Level", "dataType": "DOUBLE", "unit": "%"}]}
    url = f"{emu.url}{AM}/aspecttypes/demo.Oil"
    assert api.put(url, json=aspect, timeout=10).status_code == 201
    assert api.put(url, json=aspect, headers={"If-None-Match": "*"}, timeout=10).status_code == 412
    assert api.put(url, json=aspect, headers={"If-Match": "0"}, timeout=10).json()["etag"] == "1"
    bad = api.put(f"{emu.url}{AM}/aspecttypes/other.Oil", json=aspect, timeout=10)
    assert bad.status_code == 400
    asset_type = {
        "name": "Tank",
        "parentTypeId": "core.basicasset",
        "aspects": [{"name": "Oil", "aspectTypeId": "demo.Oil"}],
    }
    type_url = f"{emu.url}{AM}/assettypes/demo.Tank"
    assert api.put(type_url, json=asset_type, timeout=10).status_code == 201
    assert api.delete(url, headers={"If-Match": "1"}, timeout=10).status_code == 409  # still used
    listed = api.get(f"{emu.url}{AM}/assettypes", params={"filter": '{"id":"demo.Tank"}'}, timeout=10).json()
    assert listed["_embedded"]["assetTypes"][0]["aspects"][0]["aspectTypeId"] == "demo.Oil"
    merge = {"If-Match": "0", "Content-Type": "application/merge-patch+json"}
    patched = api.patch(type_url, data=json.dumps({"description": "oil tank"}), headers=merge, timeout=10)
    assert (patched.status_code, patched.headers["ETag"], patched.json()["description"]) == (200, '"1"', "oil tank")
    assert patched.json()["_links"]["self"]["href"].endswith(f"{AM}/assettypes/demo.Tank")
    assert api.delete(type_url, headers={"If-Match": "1"}, timeout=10).status_code == 204
    stale = api.patch(url, data=json.dumps({"description": "x"}), headers=merge, timeout=10)
    assert stale.status_code == 412
    patched = api.patch(url, data=json.dumps({"description": "x"}), headers={**merge, "If-Match": "1"}, timeout=10)
    assert (patched.status_code, patched.headers["ETag"]) == (200, '"2"')
    assert patched.json()["_links"]["self"]["href"].endswith(f"{AM}/aspecttypes/demo.Oil")
    assert api.delete(url, headers={"If-Match": "2"}, timeout=10).status_code == 204


def test_unknown_asset_is_404(emu, api):
    assert api.get(f"{emu.url}{AM}/assets/{'0' * 32}", timeout=10).status_code == 404


def test_an_asset_with_children_cannot_be_deleted(emu, api, ids):
    # N:sdk/asset/asset-management.ts DeleteAsset: "not possible to delete an asset if it has children".
    url = f"{emu.url}{AM}/assets/{ids['Line-B2']}"
    refused = api.delete(url, headers={"If-Match": api.get(url, timeout=10).json()["etag"]}, timeout=10)
    assert refused.status_code == 409
    assert "children" in refused.json()["errors"][0]["message"]
    for name in ("Line-B2", "Motor-B2", "Pump-B2-1", "Pump-B2-2"):
        assert api.get(f"{emu.url}{AM}/assets/{ids[name]}", timeout=10).status_code == 200, name
    body = {"name": "Leaf", "typeId": "demo.Line", "parentId": ids["Site-A"]}
    parent = api.post(f"{emu.url}{AM}/assets", json=body, timeout=10).json()
    child = {"name": "Leaf-pump", "typeId": "demo.Pump", "parentId": parent["assetId"]}
    child = api.post(f"{emu.url}{AM}/assets", json=child, timeout=10).json()
    parent_url = f"{emu.url}{AM}/assets/{parent['assetId']}"
    assert api.delete(parent_url, headers={"If-Match": "0"}, timeout=10).status_code == 409
    child_url = f"{emu.url}{AM}/assets/{child['assetId']}"
    assert api.delete(child_url, headers={"If-Match": "0"}, timeout=10).status_code == 204
    assert api.delete(parent_url, headers={"If-Match": "0"}, timeout=10).status_code == 204
    assert api.get(parent_url, timeout=10).status_code == 404
