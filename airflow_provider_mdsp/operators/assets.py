"""Operators for Asset Management: list, read and change assets."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.base import MdspBaseOperator, MdspReadOperator
from airflow_provider_mdsp.params import names_list

UPDATE_METHODS = ("patch", "put")


def parse_fields(fields: str | Iterable[str] | None) -> list[str] | None:
    """Return the asset keys to keep, from a list or a comma-separated string (``None``: keep all).

    :raises MdspConfigError: the list is empty after trimming.
    """
    if fields is None:
        return None
    names = names_list(fields)
    if not names:
        raise MdspConfigError("fields is empty; give asset keys such as 'assetId,name,typeId' or None", field="fields")
    return names


def project_pages(pages: Iterable[list[dict]], fields: list[str] | None) -> Iterator[list[dict]]:
    """Keep only ``fields`` of each asset, page by page; keys an asset lacks are left out."""
    for page in pages:
        yield page if fields is None else [{k: a[k] for k in fields if k in a} for a in page]


def asset_label(asset_id: Any, asset_name: Any = None) -> str:
    """Return how logs name an asset: ``Pump-A1-1 (63da…)`` with a name, else its id."""
    return f"{asset_name} ({asset_id})" if asset_name else str(asset_id)


def read_kwargs(asset: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``{"asset_id", "asset_name"}`` of a listed asset, the keyword arguments of one mapped read.

    Feeds ``.expand_kwargs()`` of the read operators from what :class:`MdspListAssetsOperator`
    (``fields=["assetId", "name"]``) or the hierarchy walk returns, so each mapped read is
    labelled by the asset's name (``map_index_template="{{ task.asset_name }}"``), e.g.
    ``.expand_kwargs(walk.output.map(read_kwargs))``.

    :param asset: an asset with ``assetId`` and, if known, ``name``.
    :raises MdspConfigError: the asset has no ``assetId``.
    """
    if not isinstance(asset, Mapping) or not asset.get("assetId"):
        raise MdspConfigError(
            f"Expected a listed asset with 'assetId' (and 'name'), got {str(asset)[:80]!r}", field="asset_id"
        )
    return {"asset_id": str(asset["assetId"]), "asset_name": asset.get("name") or None}


def asset_names(asset_ids: Iterable[str], *, mdsp_conn_id: str = "mdsp_default") -> dict[str, str | None]:
    """Return the name of each asset by its id, one lookup per distinct asset.

    For reads mapped over events (which carry only ``entityId``): with the names, each mapped
    read is labelled by its asset's name, e.g. ``"{{ task.asset_name }} around {{ task.from_time }}"``.

    :param asset_ids: asset ids, repeats allowed.
    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    """
    from airflow_provider_mdsp.hooks.mdsp import MdspHook

    assets = MdspHook(mdsp_conn_id=mdsp_conn_id).client.assets
    return {asset_id: assets.get_asset(asset_id).get("name") for asset_id in dict.fromkeys(asset_ids)}


def asset_summary(asset: Mapping[str, Any]) -> dict[str, Any]:
    """Return the small XCom value for a changed asset: ``{"assetId", "etag", "name"}``."""
    etag = asset.get("etag")
    return {"assetId": asset.get("assetId"), "etag": None if etag is None else str(etag), "name": asset.get("name")}


class MdspListAssetsOperator(MdspReadOperator):
    """List the assets matching a filter, all pages, into XCom or ``output_path``.

    Choose ``fields`` (e.g. ``["assetId", "name", "typeId", "parentId"]``) to keep XCom small:
    a full asset carries its variables, aspects and location.

    Output: ``output_path`` (a file, written atomically; templated), ``output_format`` and
    ``max_xcom_records``, as :class:`~airflow_provider_mdsp.operators.base.MdspReadOperator` describes.

    :param filter: an Asset Management filter, as a dict or JSON string, e.g.
        ``{"name": {"startsWith": "pump"}}``; templated.
    :param type_id: only assets of this exact type, e.g. ``acme.Pump``; and-combined with ``filter``.
    :param sort: e.g. ``name,asc``.
    :param page_size: assets per page (the service's default is 10; 200 is recommended).
    :param fields: asset keys to keep, as a list or ``"assetId,name"``; ``None`` keeps everything.
    :param include_shared: include assets shared from other tenants.
    :param basic_fields_only: ask the service to leave out variables, aspects and locations.
    :returns: ``{"records": n, "data": [assets]}``, or with ``output_path``
        ``{"path", "records", "format", "bytes"}``.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "filter",
        "type_id",
        "sort",
        "fields",
    )
    template_fields_renderers = {"filter": "json"}

    def __init__(
        self,
        *,
        filter: Mapping[str, Any] | str | None = None,
        type_id: str | None = None,
        sort: str | None = None,
        page_size: int = 200,
        fields: str | list[str] | None = None,
        include_shared: bool | None = None,
        basic_fields_only: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filter = filter
        self.type_id = type_id
        self.sort = sort
        self.page_size = page_size
        self.fields = fields
        self.include_shared = include_shared
        self.basic_fields_only = basic_fields_only

    def execute(self, context: Any) -> dict:
        """Page through the matching assets and deliver them."""
        fields = parse_fields(self.fields)
        pages = self.hook.client.assets.iter_asset_pages(
            filter=self.filter or None,
            type_id=self.type_id or None,
            sort=self.sort or None,
            size=self.page_size,
            include_shared=self.include_shared,
            basic_fields_only=self.basic_fields_only,
        )
        result = self.deliver(
            project_pages(pages, fields),
            time_field=None,
            what="assets",
        )
        # Assets have no time: drop the always-empty time range from the summary.
        result.pop("first_time", None)
        result.pop("last_time", None)
        self.log.info("Listed %d assets%s", result["records"], f" into {result['path']}" if "path" in result else "")
        return result


class MdspGetAssetOperator(MdspBaseOperator):
    """Read one asset (with its ``etag``) into XCom.

    :param asset_id: the asset id; templated.
    :param include_shared: look among assets shared from other tenants too.
    """

    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "asset_id")

    def __init__(self, *, asset_id: str, include_shared: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asset_id = asset_id
        self.include_shared = include_shared

    def execute(self, context: Any) -> dict:
        """Return the asset as the service sends it."""
        return self.hook.client.assets.get_asset(self.asset_id, include_shared=self.include_shared)


class MdspUpdateAssetOperator(MdspBaseOperator):
    """Change an asset: merge ``changes`` into it (PATCH) or replace it (PUT); ETags are handled for you.

    Without ``etag`` the current version is read first and a lost race is retried once by the
    client; with ``etag`` a concurrent change fails the task with a conflict error.

    :param asset_id: the asset id; templated.
    :param changes: for ``patch``, the fields to set (``None`` removes one, RFC 7396); for ``put``,
        the full asset; templated.
    :param etag: the version the change is based on, or ``None`` for the current one.
    :param method: ``patch`` or ``put``.
    :returns: ``{"assetId", "etag", "name"}`` of the new version.
    """

    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "asset_id", "changes", "etag")
    template_fields_renderers = {"changes": "json"}

    def __init__(
        self,
        *,
        asset_id: str,
        changes: Mapping[str, Any],
        etag: str | int | None = None,
        method: str = "patch",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if str(method).lower() not in UPDATE_METHODS:
            raise MdspConfigError(f"method must be 'patch' or 'put', not {method!r}", field="method")
        self.asset_id = asset_id
        self.changes = changes
        self.etag = etag
        self.method = str(method).lower()

    def execute(self, context: Any) -> dict:
        """Send the change and return the new version's id, etag and name."""
        if not isinstance(self.changes, Mapping):
            raise MdspConfigError(
                f"changes must be a dict, got {type(self.changes).__name__}; with a Jinja template set "
                "render_template_as_native_obj=True on the DAG",
                field="changes",
            )
        assets = self.hook.client.assets
        etag = self.etag if self.etag not in (None, "") else None
        if self.method == "put":
            asset = assets.update_asset(self.asset_id, self.changes, etag=etag)
        else:
            asset = assets.patch_asset(self.asset_id, self.changes, etag=etag)
        summary = asset_summary(asset or {})
        self.log.info("Asset %s is now at etag %s", summary["assetId"] or self.asset_id, summary["etag"])
        return summary
