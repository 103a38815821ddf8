"""Operators for the asset model: walk the hierarchy, and ensure aspect types, asset types and assets.

They wrap :class:`~airflow_provider_mdsp.client.asset_model.AssetModelClient`, whose docstring
names the sources. The ``ensure`` operators make re-runs safe: what exists as declared is left
alone, what differs is updated with ``If-Match``, and nothing is created twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.base import MdspBaseOperator, MdspListOperator
from airflow_provider_mdsp.params import names_list

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_mdsp.client.asset_model import AssetModelClient


def _mapping(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MdspConfigError(
            f"{name} must be a dict, got {type(value).__name__}; with a Jinja template set "
            "render_template_as_native_obj=True on the DAG",
            field=name,
        )
    return dict(value)


def _names(value: str | Iterable[str] | None) -> list[str]:
    return names_list(value)


def start_asset(model: AssetModelClient, asset_id: str | None, asset_path: str | None) -> tuple[str, str]:
    """Return ``(asset id, path)`` of the asset a walk starts at: the id, the path, or the root.

    :param model: the asset model client.
    :param asset_id: an asset id.
    :param asset_path: a path of names below the root, e.g. ``Site-B/Line-B1``.
    :raises MdspConfigError: both are given.
    """
    if asset_id and asset_path:
        raise MdspConfigError("Give asset_id or asset_path, not both", field="asset_path")
    if asset_path:
        return str(model.resolve_path(asset_path)["assetId"]), asset_path.strip("/")
    if asset_id:
        return str(asset_id), ""
    return str(model.assets.get_root_asset()["assetId"]), ""


class MdspListAssetHierarchyOperator(MdspListOperator):
    """List the children or all descendants of an asset, optionally of one type, ready for ``.expand()``.

    Starts at ``asset_id``, at ``asset_path`` (names below the root, e.g. ``Site-B/Line-B1``) or at
    the root; walks breadth first with one listing per level. Returns a list of
    ``{"assetId", "name", "typeId", "parentId", "path", "depth"}``, e.g.
    ``.expand(asset_id=walk.output.map(lambda a: a["assetId"]))``.

    :param asset_id: the asset to start below (templated).
    :param asset_path: or the path of names to it (templated).
    :param depth: ``1`` for the children only, ``None`` for every level below.
    :param type_id: only assets of this exact type, e.g. ``acme.Pump`` (templated).
    :param max_xcom_records: the most assets returned; more fails the task with advice.
    """

    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "asset_id", "asset_path", "type_id")

    def __init__(
        self,
        *,
        asset_id: str | None = None,
        asset_path: str | None = None,
        depth: int | None = None,
        type_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.asset_id = asset_id
        self.asset_path = asset_path
        self.depth = depth
        self.type_id = type_id

    def execute(self, context: Context) -> list[dict[str, Any]]:
        """Walk the hierarchy and return the assets found."""
        model = self.hook.client.asset_model
        root_id, root_path = start_asset(model, self.asset_id or None, self.asset_path or None)
        found = self.bounded_list(
            model.iter_descendants(root_id, max_depth=self.depth, type_id=self.type_id or None, root_path=root_path),
            what=f"assets below {root_path or root_id}",
            advice="narrow the walk with type_id, depth or a deeper asset_path, or raise max_xcom_records",
        )
        self.log.info("Found %d assets below %s", len(found), root_path or root_id)
        return found


class MdspEnsureAspectTypeOperator(MdspBaseOperator):
    """Ensure an aspect type exists as declared, and that some asset types carry it as an aspect.

    Creates the aspect type if missing, replaces it (``If-Match``) if it differs, and leaves it
    alone otherwise; then adds it to each of ``asset_type_ids`` under ``aspect_name`` unless it is
    there. A re-run changes nothing.

    :param type_id: the aspect type id, ``{tenant}.{name}`` (templated).
    :param aspect_type: the aspect type body: ``name``, ``category``, ``scope``, ``variables`` (templated).
    :param asset_type_ids: asset types to carry it, e.g. ``["acme.Pump"]`` (templated).
    :param aspect_name: the aspect's name on those types; defaults to the aspect type's ``name``.
    :returns: ``{"aspect_type": {"id", "etag", "action"}, "asset_types": [{"id", "etag", "action"}]}``.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "type_id",
        "aspect_type",
        "asset_type_ids",
        "aspect_name",
    )
    template_fields_renderers = {"aspect_type": "json"}

    def __init__(
        self,
        *,
        type_id: str,
        aspect_type: Mapping[str, Any],
        asset_type_ids: str | list[str] | None = None,
        aspect_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.type_id = type_id
        self.aspect_type = aspect_type
        self.asset_type_ids = asset_type_ids
        self.aspect_name = aspect_name

    def execute(self, context: Context) -> dict[str, Any]:
        """Ensure the aspect type, then the asset types' aspects."""
        body = _mapping(self.aspect_type, "aspect_type")
        model = self.hook.client.asset_model
        outcome = model.ensure_aspect_type(self.type_id, body)
        self.log.info("Aspect type %s: %s", self.type_id, outcome["action"])
        aspect_name = self.aspect_name or body.get("name") or self.type_id.split(".", 1)[-1]
        types = []
        for asset_type_id in _names(self.asset_type_ids):
            result = model.ensure_asset_type_aspect(asset_type_id, aspect_name, self.type_id)
            self.log.info("Asset type %s, aspect %s: %s", asset_type_id, aspect_name, result["action"])
            types.append(result)
        return {"aspect_type": outcome, "asset_types": types}


class MdspEnsureAssetOperator(MdspBaseOperator):
    """Ensure an asset of a type exists under a parent with the given fields; never a duplicate.

    Found by name under its parent; created if missing, merge-patched (``If-Match``) if a field
    differs, left alone otherwise.

    :param name: the asset's name (templated).
    :param type_id: its asset type (templated).
    :param parent_id: the parent asset id (templated).
    :param parent_path: or the parent's path of names below the root; neither: the root.
    :param fields: other fields, e.g. ``{"description": …, "externalId": …}`` (templated).
    :returns: ``{"id", "etag", "action"}`` where ``id`` is the asset id.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "name",
        "type_id",
        "parent_id",
        "parent_path",
        "fields",
    )
    template_fields_renderers = {"fields": "json"}

    def __init__(
        self,
        *,
        name: str,
        type_id: str,
        parent_id: str | None = None,
        parent_path: str | None = None,
        fields: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.type_id = type_id
        self.parent_id = parent_id
        self.parent_path = parent_path
        self.fields = fields

    def execute(self, context: Context) -> dict[str, Any]:
        """Find, create or update the asset."""
        model = self.hook.client.asset_model
        parent_id, _path = start_asset(model, self.parent_id or None, self.parent_path or None)
        outcome = model.ensure_asset(parent_id, self.name, self.type_id, _mapping(self.fields, "fields"))
        self.log.info("Asset %s (%s): %s", self.name, outcome["id"], outcome["action"])
        return outcome
