"""Asset Management v3: assets, their aspects and variables, asset types and aspect types (Node SDK ``sdk/asset``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from airflow_provider_mdsp.client.base import ApiClient
from airflow_provider_mdsp.client.converge import is_ambiguous
from airflow_provider_mdsp.client.pagination import Page, iter_items, iter_spring_pages
from airflow_provider_mdsp.client.paths import JsonFilter, filter_dict, flag, json_filter, segment
from airflow_provider_mdsp.exceptions import (
    MdspApiError,
    MdspConfigError,
    MdspConflictError,
    MdspConnectionError,
    MdspNotFoundError,
)

log = logging.getLogger(__name__)

BASE = "/api/assetmanagement/v3"
#: Page size for listings. The service defaults to 10; its docs recommend 200 (Siemens developer
#: docs, Asset Management pagination).
DEFAULT_PAGE_SIZE = 200
#: RFC 7396 JSON merge patch, the body type of every Asset Management PATCH (Node SDK ``sdk/asset``).
MERGE_PATCH = "application/merge-patch+json"


def asset_filter(filter: JsonFilter | None, type_id: str | None) -> str | None:
    """Return the asset search filter, with ``type_id`` and-combined into ``filter`` if both are given.

    :param filter: a filter dict or JSON string such as ``{"name": {"startsWith": "pump"}}``.
    :param type_id: exact asset type id, e.g. ``mytenant.Pump``; use ``{"hasType": …}`` in
        ``filter`` to include subtypes.
    """
    if type_id is None:
        return json_filter(filter)
    given = filter_dict(filter)
    if not given:
        return json_filter({"typeId": type_id})
    if "typeId" in given or "typeId" in (given.get("and") or {}):
        raise MdspConfigError("Give the asset type either in type_id or in filter, not both", field="type_id")
    # ``and`` takes an object whose keys are all required (Node SDK test ``asset-management-assets.spec.ts``).
    terms = dict(given["and"]) if set(given) == {"and"} and isinstance(given["and"], Mapping) else given
    return json_filter({"and": {"typeId": type_id, **terms}})


class AssetsClient(ApiClient):
    """Read and change assets, asset types and aspect types (Asset Management v3)."""

    # --- assets ---------------------------------------------------------------------------------
    def iter_asset_pages(
        self,
        *,
        filter: JsonFilter | None = None,
        type_id: str | None = None,
        sort: str | None = None,
        size: int = DEFAULT_PAGE_SIZE,
        include_shared: bool | None = None,
        basic_fields_only: bool | None = None,
    ) -> Iterator[Page]:
        """Yield pages of assets matching a filter.

        :param filter: a filter dict (JSON-encoded for you) or JSON string, e.g.
            ``{"name": {"startsWith": "pump"}}``.
        :param type_id: only assets of this exact type; and-combined with ``filter``.
        :param sort: e.g. ``name,asc``; the service sorts by name by default.
        :param size: assets per page.
        :param include_shared: include assets shared from other tenants.
        :param basic_fields_only: leave out variables, aspects and locations (faster).
        """
        params = {
            "filter": asset_filter(filter, type_id),
            "sort": sort,
            "includeShared": flag(include_shared),
            "basicFieldsOnly": flag(basic_fields_only),
        }
        return iter_spring_pages(self.transport, f"{BASE}/assets", "assets", params=params, size=size)

    def iter_assets(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Yield assets one by one; takes the arguments of :meth:`iter_asset_pages`."""
        return iter_items(self.iter_asset_pages(**kwargs))

    def get_asset(self, asset_id: str, *, include_shared: bool | None = None) -> dict[str, Any]:
        """Return one asset, including its ``etag``.

        :param asset_id: the asset id.
        :param include_shared: look among assets shared from other tenants too.
        """
        return self.transport.request_json(
            "GET", self._asset_path(asset_id), params={"includeShared": flag(include_shared)}
        )

    def get_root_asset(self) -> dict[str, Any]:
        """Return the tenant's root asset."""
        return self.transport.request_json("GET", f"{BASE}/assets/root")

    def create_asset(self, asset: Mapping[str, Any]) -> dict[str, Any]:
        """Create an asset once, even when the network fails mid-call, and return it with ``assetId`` and ``etag``.

        Creating is not idempotent. After an ambiguous failure (the answer was lost) or a 409
        (a sibling of that name exists: an earlier try, whose answer was lost, may have created
        it), the asset is looked up by ``name`` and ``parentId``; one of the same ``typeId`` is
        returned as the created asset. Anything else is raised.

        :param asset: at least ``name``, ``typeId`` and ``parentId``.
        """
        body = dict(asset)
        try:
            return self.transport.request_json("POST", f"{BASE}/assets", json=body)
        except (MdspApiError, MdspConnectionError) as exc:
            if not (is_ambiguous(exc) or isinstance(exc, MdspConflictError)):
                raise
            found = self._find_created(body)
            if found is None:
                raise
            return found

    def _find_created(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """Return the asset of this name, parent and type, if one exists (its creation's answer was lost)."""
        if not (body.get("name") and body.get("parentId") and body.get("typeId")):
            return None
        terms = {"and": {"name": {"eq": body["name"]}, "parentId": {"eq": body["parentId"]}}}
        for asset in self.iter_assets(filter=terms, size=10):
            if asset.get("name") == body["name"] and asset.get("typeId") == body["typeId"]:
                log.info("Asset %r under %s exists already (an answer was lost)", body["name"], body["parentId"])
                return asset
        return None

    def update_asset(self, asset_id: str, asset: Mapping[str, Any], *, etag: str | int | None = None) -> dict[str, Any]:
        """Replace an asset (PUT) and return the new version.

        The service requires ``If-Match`` (Node SDK ``sdk/asset``). Without ``etag`` the current one is read first; if a
        concurrent change wins the race (409/412), the asset is re-read and the update sent once more.
        With an explicit ``etag`` a conflict is raised as :class:`MdspConflictError`.

        :param asset_id: the asset id.
        :param asset: the full asset body (``name``, ``variables``, ``aspects`` …).
        :param etag: the version you read; ``None`` to use the current one.
        """
        path = self._asset_path(asset_id)
        return self._with_etag(
            asset_id, etag, lambda tag: self.transport.request_json("PUT", path, json=dict(asset), headers=tag)
        )

    def patch_asset(
        self, asset_id: str, changes: Mapping[str, Any], *, etag: str | int | None = None
    ) -> dict[str, Any]:
        """Change some fields of an asset with a JSON merge patch (RFC 7396) and return it.

        ETag handling is that of :meth:`update_asset`.

        :param asset_id: the asset id.
        :param changes: fields to set; ``None`` values remove a field.
        :param etag: the version you read; ``None`` to use the current one.
        """
        path, body = self._asset_path(asset_id), json.dumps(dict(changes)).encode()

        def send(tag: dict[str, str]) -> Any:
            headers = {**tag, "Content-Type": MERGE_PATCH}
            return self.transport.request_json("PATCH", path, data=body, headers=headers)

        return self._with_etag(asset_id, etag, send)

    def delete_asset(self, asset_id: str, *, etag: str | int | None = None, missing_ok: bool = True) -> bool:
        """Delete an asset (and, by the service's rules, only if it has no children).

        ETag handling is that of :meth:`update_asset`. A delete converges when repeated: an asset
        that is not there (a re-run, or a retry whose first answer was lost after the service
        deleted it) counts as deleted.

        :param asset_id: the asset id.
        :param etag: the version you read; ``None`` to use the current one.
        :param missing_ok: ``False`` raises :class:`~airflow_provider_mdsp.exceptions.MdspNotFoundError`
            for an asset that is not there.
        :return: ``True`` when this call deleted it, ``False`` when it was already gone.
        """
        path = self._asset_path(asset_id)
        try:
            return bool(
                self._with_etag(asset_id, etag, lambda tag: self._delete(path, missing_ok=missing_ok, headers=tag))
            )
        except MdspNotFoundError:  # reading the current ETag found no asset
            if not missing_ok:
                raise
            return False

    def iter_asset_aspects(self, asset_id: str, *, size: int = DEFAULT_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Yield the aspects of an asset, with their variables.

        :param asset_id: the asset id.
        :param size: aspects per page.
        """
        path = f"{self._asset_path(asset_id)}/aspects"
        return iter_items(iter_spring_pages(self.transport, path, "aspects", size=size))

    def iter_asset_variables(self, asset_id: str, *, size: int = DEFAULT_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Yield the variables of an asset across all its aspects.

        :param asset_id: the asset id.
        :param size: variables per page.
        """
        path = f"{self._asset_path(asset_id)}/variables"
        return iter_items(iter_spring_pages(self.transport, path, "variables", size=size))

    # --- types ----------------------------------------------------------------------------------
    def iter_asset_types(
        self, *, filter: JsonFilter | None = None, size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Yield asset types matching a filter.

        :param filter: a filter dict or JSON string, e.g. ``{"id": {"startsWith": "mytenant."}}``.
        :param size: types per page.
        """
        return self._iter_types("assettypes", "assetTypes", filter, size)

    def get_asset_type(self, type_id: str) -> dict[str, Any]:
        """Return one asset type.

        :param type_id: e.g. ``mytenant.Pump``.
        """
        return self.transport.request_json("GET", f"{BASE}/assettypes/{segment(type_id, name='type_id')}")

    def iter_aspect_types(
        self, *, filter: JsonFilter | None = None, size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Yield aspect types matching a filter.

        :param filter: a filter dict or JSON string.
        :param size: types per page.
        """
        return self._iter_types("aspecttypes", "aspectTypes", filter, size)

    def get_aspect_type(self, type_id: str) -> dict[str, Any]:
        """Return one aspect type with its variables.

        :param type_id: e.g. ``mytenant.Vibration``.
        """
        return self.transport.request_json("GET", f"{BASE}/aspecttypes/{segment(type_id, name='type_id')}")

    # --- helpers --------------------------------------------------------------------------------
    def _iter_types(self, path: str, key: str, filter: JsonFilter | None, size: int) -> Iterator[dict[str, Any]]:
        params = {"filter": json_filter(filter)}
        return iter_items(iter_spring_pages(self.transport, f"{BASE}/{path}", key, params=params, size=size))

    @staticmethod
    def _asset_path(asset_id: str) -> str:
        return f"{BASE}/assets/{segment(asset_id, name='asset_id')}"

    def _with_etag(self, asset_id: str, etag: str | int | None, send: Callable[[dict[str, str]], Any]) -> Any:
        """Send a write with ``If-Match``, reading the ETag first when the caller gave none."""
        if etag is not None:
            return send({"If-Match": str(etag)})
        try:
            return send({"If-Match": self._current_etag(asset_id)})
        except MdspConflictError:
            # Someone changed the asset between our read and our write. The caller did not pin a
            # version, so the intent is "change the current one": read again and try exactly once.
            return send({"If-Match": self._current_etag(asset_id)})

    def _current_etag(self, asset_id: str) -> str:
        etag = (self.get_asset(asset_id) or {}).get("etag")
        if etag is None:
            raise MdspConfigError(f"Asset {asset_id} came back without an etag; pass etag= explicitly", field="etag")
        return str(etag)
