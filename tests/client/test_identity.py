"""Identity Management: SCIM-paged users and the caller's own identity."""

from __future__ import annotations

from .conftest import GATEWAY, query

IM = f"{GATEWAY}/api/identitymanagement/v3"


def test_users_are_paged_with_filter_and_attributes(client, requests_mock):
    api = requests_mock.get(
        f"{IM}/Users",
        [
            {"json": {"totalResults": 3, "resources": [{"id": "u1"}, {"id": "u2"}]}},
            {"json": {"totalResults": 3, "resources": [{"id": "u3"}]}},
        ],
    )
    users = list(client.identity.iter_users(filter='userName eq "a@b.c"', attributes=["userName", "meta"], count=2))
    assert [u["id"] for u in users] == ["u1", "u2", "u3"]
    assert query(api.request_history[0]) == {
        "filter": 'userName eq "a@b.c"',
        "attributes": "userName,meta",
        "startIndex": "1",
        "count": "2",
    }
    assert query(api.request_history[1])["startIndex"] == "3"


def test_get_me(client, requests_mock):
    requests_mock.get(f"{IM}/Users/me", json={"id": "me"})
    assert client.identity.get_me() == {"id": "me"}
