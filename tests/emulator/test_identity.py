"""Identity Management (SCIM) in the emulator."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

PREFIXES = ("/api/identitymanagement/v3", "/api/im/v3")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_users_default_count_and_shape(emu, api, prefix):
    body = api.get(f"{emu.url}{prefix}/Users", timeout=10).json()
    assert body["totalResults"] == 12
    assert body["itemsPerPage"] == 12
    assert body["startIndex"] == 1
    user = body["resources"][0]
    assert {"id", "userName", "name", "emails", "groups", "active", "meta"} <= set(user)


def test_start_index_paging_to_the_end(emu, api):
    names, start = [], 1
    while True:
        body = api.get(f"{emu.url}/api/im/v3/Users", params={"startIndex": start, "count": 5}, timeout=10).json()
        names += [u["userName"] for u in body["resources"]]
        start += body["itemsPerPage"]
        if start > body["totalResults"]:
            break
    assert len(names) == len(set(names)) == 12


def test_filter_attributes_and_get_by_id(emu, api):
    url = f"{emu.url}/api/identitymanagement/v3/Users"
    body = api.get(url, params={"filter": 'userName eq "Chen.Wei@demo.example"', "attributes": "userName"}).json()
    assert body["totalResults"] == 1
    user = body["resources"][0]
    assert set(user) == {"id", "userName", "schemas"}
    assert api.get(f"{url}/{user['id']}", timeout=10).json()["userName"] == "chen.wei@demo.example"
    missing = api.get(f"{url}/nope", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["status"] == "404"
    assert api.get(url, params={"filter": "userName like x"}, timeout=10).status_code == 400


def test_me_with_a_technical_token_is_404(emu, api):
    assert api.get(f"{emu.url}/api/im/v3/Users/me", timeout=10).status_code == 404
