"""Tenant Management v4: the subtenants of a tenant (``/api/tenantmanagement/v4/subtenants``).

Source: Node SDK sdk/tenant/tenant-management.ts ``GetSubtenants`` (``page``, ``size``) and
tenant-management-models.ts ``PageSubtenantResource``: a Spring Data page
``{content, first, last, number, numberOfElements, size, totalElements, totalPages}`` (no
``_embedded``), each subtenant ``{id, displayName, description, entityId, ETag}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from airflow_provider_mdsp.client.base import ApiClient
from airflow_provider_mdsp.client.pagination import Page, iter_content_pages, iter_items
from airflow_provider_mdsp.client.paths import segment

BASE = "/api/tenantmanagement/v4"
#: Subtenants per page (our choice; the service's default and maximum are not documented).
DEFAULT_PAGE_SIZE = 100


class TenantsClient(ApiClient):
    """Read the subtenants of the caller's tenant (Tenant Management v4)."""

    def iter_subtenant_pages(self, *, size: int = DEFAULT_PAGE_SIZE) -> Iterator[Page]:
        """Yield pages of subtenants ``{id, displayName, description, entityId, ETag}``.

        :param size: subtenants per page.
        """
        return iter_content_pages(self.transport, f"{BASE}/subtenants", size=size)

    def iter_subtenants(self, *, size: int = DEFAULT_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Yield every subtenant, across pages.

        :param size: subtenants per page.
        """
        return iter_items(self.iter_subtenant_pages(size=size))

    def get_subtenant(self, subtenant_id: str) -> dict[str, Any]:
        """Return one subtenant.

        :param subtenant_id: its id.
        """
        return self.transport.request_json("GET", f"{BASE}/subtenants/{segment(subtenant_id, name='subtenant_id')}")
