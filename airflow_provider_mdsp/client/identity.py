"""Identity Management v3: users of the tenant, SCIM-paged (Node SDK ``sdk/identity``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from airflow_provider_mdsp.client.base import ApiClient
from airflow_provider_mdsp.client.pagination import Page, iter_items, iter_scim_pages
from airflow_provider_mdsp.client.paths import csv

BASE = "/api/identitymanagement/v3"
#: Users per page; the service's default (Node SDK ``sdk/identity``).
DEFAULT_COUNT = 100


class IdentityClient(ApiClient):
    """List the tenant's users and read the caller's own identity (Identity Management v3)."""

    def iter_user_pages(
        self,
        *,
        filter: str | None = None,
        attributes: str | Iterable[str] | None = None,
        count: int = DEFAULT_COUNT,
    ) -> Iterator[Page]:
        """Yield pages of users.

        :param filter: a SCIM filter, e.g. ``userName eq "jane@example.com"``.
        :param attributes: attributes to return; ``userName,name,meta`` is advised for speed (Node SDK
        ``sdk/identity``).
        :param count: users per page.
        """
        params = {"filter": filter, "attributes": csv(attributes)}
        return iter_scim_pages(self.transport, f"{BASE}/Users", params=params, count=count)

    def iter_users(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Yield users one by one; takes the arguments of :meth:`iter_user_pages`."""
        return iter_items(self.iter_user_pages(**kwargs))

    def get_me(self) -> dict[str, Any]:
        """Return the user (or technical user) the token belongs to (``GET /Users/me``)."""
        return self.transport.request_json("GET", f"{BASE}/Users/me")
