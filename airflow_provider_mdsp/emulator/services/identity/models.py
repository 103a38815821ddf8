"""Identity Management v3 users (SCIM, §8). Rules and state, no HTTP.

Filters support ``<attribute> <eq|sw|ew|co> "value"`` joined by ``and`` (``userName`` compares
case-insensitively, as SCIM says). Not emulated: writes (POST/PUT/DELETE), ``/Groups``,
``subtenant`` scoping, ``or``/``not``/``pr`` filters, nested attributes in filters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ...errors import ApiError
from ...timefmt import format_ms
from ...tokens import user_id

LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
_TERM = re.compile(r'^\s*(\w+)\s+(eq|sw|ew|co)\s+"([^"]*)"\s*$', re.IGNORECASE)
_CREATED = format_ms(1_700_000_000_000)  # a fixed creation time keeps seeded users deterministic


class IdentityBackend:
    """Users of one tenant.

    :param tenant: tenant name
    """

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.users: list[dict[str, Any]] = []

    def add_user(
        self, user_name: str, given: str = "", family: str = "", groups: list[str] | None = None
    ) -> dict[str, Any]:
        """Add a user with a deterministic id.

        :param user_name: login name (an e-mail address)
        :param given: given name
        :param family: family name
        :param groups: group display names
        """
        user = {
            "schemas": [USER_SCHEMA],
            "id": user_id(self.tenant, user_name),
            "userName": user_name,
            "name": {"familyName": family, "givenName": given},
            "emails": [{"value": user_name}],
            "groups": [{"display": g, "value": g} for g in groups or []],
            "active": True,
            "meta": {"created": _CREATED, "lastModified": _CREATED, "version": 0},
            "subtenants": [],
        }
        self.users.append(user)
        return user

    def add_users(self, names: tuple[str, ...] | list[str]) -> None:
        """Add users by user name.

        :param names: user names
        """
        for name in names:
            self.add_user(name)

    def get(self, user_id_: str) -> dict[str, Any]:
        """Return a user by id.

        :param user_id_: SCIM id
        :raises ApiError: 404
        """
        found = next((u for u in self.users if u["id"] == user_id_), None)
        if found is None:
            raise ApiError(404, f"User {user_id_} not found")
        return found

    def by_name(self, user_name: str | None) -> dict[str, Any]:
        """Return the user with a user name (``/Users/me``).

        :param user_name: the token's ``user_name``
        :raises ApiError: 404 for technical tokens or unknown users
        """
        found = next((u for u in self.users if user_name and u["userName"].lower() == user_name.lower()), None)
        if found is None:
            raise ApiError(404, "The token belongs to no user of this tenant")
        return found

    def search(self, filter_text: str | None, sort_by: str | None, descending: bool) -> list[dict[str, Any]]:
        """Return the users a SCIM filter matches, sorted.

        :param filter_text: e.g. ``userName eq "x"``
        :param sort_by: attribute to sort by (default ``userName``)
        :param descending: sort order
        """
        tests = [_term(t) for t in re.split(r"\s+and\s+", filter_text, flags=re.IGNORECASE)] if filter_text else []
        found = [u for u in self.users if all(t(u) for t in tests)]
        key = sort_by or "userName"
        return sorted(found, key=lambda u: str(u.get(key, "")).lower(), reverse=descending)


def project(user: dict[str, Any], attributes: str | None) -> dict[str, Any]:
    """Keep only the requested attributes (``id`` always stays).

    :param user: the user
    :param attributes: comma separated attribute names
    """
    if not attributes:
        return user
    keep = {a.strip().split(".")[0] for a in attributes.split(",")} | {"id", "schemas"}
    return {k: v for k, v in user.items() if k in keep}


def _term(text: str) -> Callable[[dict[str, Any]], bool]:
    match = _TERM.match(text)
    if match is None:
        raise ApiError(400, f'Unsupported SCIM filter {text!r}; use: attribute eq|sw|ew|co "value"')
    attribute, op, value = match.group(1), match.group(2).lower(), match.group(3).lower()

    def test(user: dict[str, Any]) -> bool:
        actual = next((v for k, v in user.items() if k.lower() == attribute.lower()), None)
        if not isinstance(actual, (str, bool, int)):
            return False
        text = str(actual).lower()
        if op == "eq":
            return text == value
        if op == "sw":
            return text.startswith(value)
        if op == "ew":
            return text.endswith(value)
        return value in text

    return test
