"""Asset Management in the emulator refuses malformed bodies with a 400 naming the property, never a 500."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration

AM = "/api/assetmanagement/v3"
INVALID = "mdsp.core.generic.invalidRequestBodyProperty"
MISSING = "mdsp.core.generic.missingRequestBodyProperty"

#: (endpoint, body changes, property the message names, code): every Asset Management write with a body.
#: ``asset``/``assettype``/``aspecttype`` change an existing demo resource (PUT sends it whole with the
#: change, PATCH sends the change as a merge patch); ``new-*`` PUT a new type; ``assets`` is POST.
CASES = [
    ("POST assets", {"name": 5}, "name", INVALID),
    ("POST assets", {"typeId": ["demo.Pump"]}, "typeId", INVALID),
    ("POST assets", {"variables": 5}, "variables", INVALID),
    ("POST assets", {"variables": [5]}, "variables[0]", INVALID),
    ("POST assets", {"variables": [{"name": ["SerialNumber"], "value": "x"}]}, "name", INVALID),
    ("POST assets", {"location": "nowhere"}, "location", INVALID),
    ("POST assets", {"location": {"latitude": "north"}}, "latitude", INVALID),
    ("POST assets", {"aspects": "x"}, "aspects", INVALID),
    ("POST assets", {"aspects": [{"name": 5}]}, "name", INVALID),
    ("POST assets", {"aspects": [{"name": "PumpData", "variables": {}}]}, "variables", INVALID),
    ("POST assets", {"fileAssignments": [{"key": "manual"}]}, "fileId", MISSING),
    ("POST assets", {"description": ["x"]}, "description", INVALID),
    ("POST assets", {"twinType": ["performance"]}, "twinType", INVALID),
    ("PUT asset", {"name": 5}, "name", INVALID),
    ("PUT asset", {"variables": 5}, "variables", INVALID),
    ("PUT asset", {"location": "nowhere"}, "location", INVALID),
    ("PUT asset", {"aspects": "x"}, "aspects", INVALID),
    ("PUT asset", {"externalId": 7}, "externalId", INVALID),
    ("PATCH asset", {"name": None}, "name", MISSING),
    ("PATCH asset", {"name": 5}, "name", INVALID),
    ("PATCH asset", {"variables": 5}, "variables", INVALID),
    ("PATCH asset", {"location": "nowhere"}, "location", INVALID),
    ("PATCH asset", {"aspects": [None]}, "aspects[0]", INVALID),
    ("POST move", {"newParentId": 5}, "newParentId", INVALID),
    ("POST move", {}, "newParentId", MISSING),
    ("PUT new-assettype", {"aspects": ["PumpData"]}, "aspects[0]", INVALID),
    ("PUT new-assettype", {"aspects": 5}, "aspects", INVALID),
    ("PUT new-assettype", {"aspects": [None]}, "aspects[0]", INVALID),
    ("PUT new-assettype", {"aspects": [{"name": "P", "aspectTypeId": ["demo.PumpData"]}]}, "aspectTypeId", INVALID),
    ("PUT new-assettype", {"aspects": [{"name": "P", "aspectType": "demo.PumpData"}]}, "aspectType", INVALID),
    ("PUT new-assettype", {"aspects": [{"name": "P"}]}, "aspectTypeId", MISSING),
    ("PUT new-assettype", {"variables": 5}, "variables", INVALID),
    ("PUT new-assettype", {"variables": [{"name": "x", "dataType": ["STRING"]}]}, "dataType", INVALID),
    ("PUT new-assettype", {"parentTypeId": ["core.basicasset"]}, "parentTypeId", INVALID),
    ("PUT new-assettype", {"instantiable": "yes"}, "instantiable", INVALID),
    ("PUT assettype", {"aspects": ["PumpData"]}, "aspects[0]", INVALID),
    ("PATCH assettype", {"aspects": ["PumpData"]}, "aspects[0]", INVALID),
    ("PATCH assettype", {"aspects": 5}, "aspects", INVALID),
    ("PATCH assettype", {"aspects": [None]}, "aspects[0]", INVALID),
    ("PATCH assettype", {"aspects": [{"name": "P", "aspectTypeId": ["demo.PumpData"]}]}, "aspectTypeId", INVALID),
    ("PATCH assettype", {"aspects": [{"name": "P", "aspectType": "demo.PumpData"}]}, "aspectType", INVALID),
    ("PATCH assettype", {"fileAssignments": 5}, "fileAssignments", INVALID),
    ("PUT new-aspecttype", {"variables": 5}, "variables", INVALID),
    ("PUT new-aspecttype", {"variables": [{"name": "x", "dataType": ["DOUBLE"]}]}, "dataType", INVALID),
    ("PUT new-aspecttype", {"variables": [{"name": 5, "dataType": "DOUBLE"}]}, "name", INVALID),
    (
        "PUT new-aspecttype",
        {"variables": [{"name": "x", "dataType": "DOUBLE", "qualityCode": "y"}]},
        "qualityCode",
        INVALID,
    ),
    ("PUT new-aspecttype", {"category": ["static"]}, "category", INVALID),
    ("PUT aspecttype", {"variables": 5}, "variables", INVALID),
    ("PATCH aspecttype", {"variables": 5}, "variables", INVALID),
    ("PATCH aspecttype", {"variables": [{"name": "x", "dataType": ["DOUBLE"]}]}, "dataType", INVALID),
]


def _send(api, emu, ids, endpoint: str, change: dict):
    """Send one malformed write; return the response, the resource's URL and its etag before (``None`` if new)."""
    method, target = endpoint.split()
    existing = {
        "asset": f"{AM}/assets/{ids['Pump-A2-1']}",
        "move": f"{AM}/assets/{ids['Pump-A2-1']}",
        "assettype": f"{AM}/assettypes/demo.Pump",
        "aspecttype": f"{AM}/aspecttypes/demo.PumpData",
    }
    if target == "assets":
        body = {"name": "Malformed", "typeId": "demo.Pump", "parentId": ids["Line-A2"], **change}
        url = f"{emu.url}{AM}/assets?filter=" + json.dumps({"name": "Malformed"})
        return api.post(f"{emu.url}{AM}/assets", json=body, timeout=10), url, None
    if target.startswith("new-"):
        url = f"{emu.url}{AM}/{target[4:]}s/demo.Malformed"
        return api.put(url, json={"name": "Malformed", **change}, timeout=10), url, None
    url = f"{emu.url}{existing[target]}"
    current = api.get(url, timeout=10).json()
    headers = {"If-Match": str(current["etag"])}
    if target == "move":
        return api.post(f"{url}/move", json=change, headers=headers, timeout=10), url, current["etag"]
    if method == "PUT":
        whole = {k: v for k, v in current.items() if k != "_links"}
        return api.put(url, json={**whole, **change}, headers=headers, timeout=10), url, current["etag"]
    headers["Content-Type"] = "application/merge-patch+json"
    return api.patch(url, data=json.dumps(change), headers=headers, timeout=10), url, current["etag"]


@pytest.mark.parametrize(("endpoint", "change", "prop", "code"), CASES)
def test_a_malformed_body_is_a_400_naming_the_property(emu, api, ids, endpoint, change, prop, code):
    response, url, etag_before = _send(api, emu, ids, endpoint, change)
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["code"] == code
    assert f"'{prop}'" in error["message"]
    after = api.get(url, timeout=10)
    if etag_before is not None:
        assert after.json()["etag"] == etag_before  # nothing changed
    elif endpoint == "POST assets":
        assert "_embedded" not in after.json()  # nothing was created
    else:
        assert after.status_code == 404
