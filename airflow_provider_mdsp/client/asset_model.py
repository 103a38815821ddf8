"""Asset Management v3: walk the asset hierarchy, and declare the model a DAG writes into ("ensure").

Sources:

* Children are found with ``{"parentId": {"in": {"value": [...]}}}``: the ``in`` function takes an
  object with ``value`` (Siemens developer docs, Asset Management filtering); names are unique among
  siblings, so ``{"parentId", "name"}`` finds one asset.
* ``PUT /aspecttypes/{id}`` creates or replaces; ``If-None-Match: *`` makes it create-only;
  ``If-Match`` is required to replace (Node SDK ``sdk/asset/asset-management.ts`` ``PutAspectType``).
* ``PATCH /assettypes/{id}`` is an RFC 7396 merge patch with ``If-Match``; a merge patch replaces an
  array whole, so the full ``aspects`` list is sent (Node SDK ``sdk/asset`` ``PatchAssetType``).

Every ``ensure_*`` returns ``{"id", "etag", "action"}`` with ``action`` one of ``created``,
``updated`` and ``unchanged``: a re-run of the same DAG changes nothing and creates nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from airflow_provider_mdsp.client.assets import BASE, DEFAULT_PAGE_SIZE, MERGE_PATCH, AssetsClient
from airflow_provider_mdsp.client.base import ApiClient
from airflow_provider_mdsp.client.paths import segment
from airflow_provider_mdsp.client.transport import Transport
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspConflictError, MdspNotFoundError

#: Parent ids per ``in`` filter while walking: keeps each query string well under URL limits.
MAX_PARENTS_PER_QUERY = 50
#: Keys of an aspect-type variable compared by :func:`aspect_type_differs` (the aspect type's shape, Node SDK
#: ``sdk/asset/asset-models.ts``).
VARIABLE_KEYS = ("dataType", "unit", "searchable", "length", "qualityCode", "defaultValue")
#: Keys of a hierarchy entry returned by :meth:`AssetModelClient.iter_descendants`.
NODE_KEYS = ("assetId", "name", "typeId", "parentId")


def split_path(path: str) -> list[str]:
    """Return the asset names of a path such as ``Site-B/Line-B1`` (below the root).

    :param path: names separated by ``/``; a leading ``/`` is ignored.
    :raises MdspConfigError: the path is empty or has an empty name.
    """
    names = str(path or "").strip().strip("/").split("/")
    if not names or any(not n.strip() for n in names):
        raise MdspConfigError(f"asset_path must look like 'Site-B/Line-B1', got {path!r}", field="asset_path")
    return [n.strip() for n in names]


def _variables_by_name(variables: Iterable[Mapping[str, Any]] | None) -> dict[str, Mapping[str, Any]]:
    return {str(v.get("name")): v for v in variables or []}


def aspect_type_differs(current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """Tell whether the stored aspect type lacks something ``desired`` states.

    Only what ``desired`` names is compared, so defaults the service fills in (``length`` of a
    STRING, ``unit`` "") do not count as a change.

    :param current: the aspect type as the service returned it.
    :param desired: the aspect type body the DAG declares.
    """
    for key in ("name", "category", "scope", "description"):
        if key in desired and desired[key] != current.get(key):
            return True
    have = _variables_by_name(current.get("variables"))
    want = _variables_by_name(desired.get("variables"))
    if set(want) != set(have):
        return True
    return any(key in spec and spec[key] != have[name].get(key) for name, spec in want.items() for key in VARIABLE_KEYS)


def asset_changes(current: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """Return the merge patch that makes ``current`` hold what ``desired`` states (empty: nothing to do).

    :param current: the asset as the service returned it.
    :param desired: the asset fields the DAG declares (``description``, ``externalId``, ``variables`` …).
    """
    return {k: v for k, v in desired.items() if current.get(k) != v}


class AssetModelClient(ApiClient):
    """Walk the asset hierarchy and ensure aspect types, asset types and assets exist as declared.

    :param transport: the transport to the gateway.
    """

    def __init__(self, transport: Transport) -> None:
        super().__init__(transport)
        self.assets = AssetsClient(transport)

    # --- hierarchy ------------------------------------------------------------------------------
    def find_child(self, parent_id: str, name: str) -> dict[str, Any] | None:
        """Return the child of ``parent_id`` named ``name``, or ``None`` (names are unique per parent).

        :param parent_id: the parent asset id.
        :param name: the child's name.
        """
        found = self.assets.iter_assets(filter={"parentId": parent_id, "name": name}, size=2)
        return next(iter(found), None)

    def resolve_path(self, path: str) -> dict[str, Any]:
        """Return the asset at a path of names below the root, e.g. ``Site-B/Line-B1``.

        :param path: names separated by ``/``.
        :raises MdspNotFoundError: a name on the path does not exist, naming the missing part.
        """
        asset = self.assets.get_root_asset()
        walked: list[str] = []
        for name in split_path(path):
            child = self.find_child(str(asset["assetId"]), name)
            if child is None:
                under = "/".join(walked) or "the root asset"
                raise MdspNotFoundError(404, f"No asset named {name!r} under {under} (asset_path {path!r})")
            walked.append(name)
            asset = child
        return asset

    def iter_children(self, parent_ids: Iterable[str], *, size: int = DEFAULT_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Yield the direct children of some assets, a batch of parents per query.

        :param parent_ids: parent asset ids.
        :param size: assets per page.
        """
        ids = [str(i) for i in parent_ids]
        for start in range(0, len(ids), MAX_PARENTS_PER_QUERY):
            chunk = ids[start : start + MAX_PARENTS_PER_QUERY]
            term: Any = chunk[0] if len(chunk) == 1 else {"in": {"value": chunk}}
            yield from self.assets.iter_assets(filter={"parentId": term}, size=size, basic_fields_only=True)

    def iter_descendants(
        self,
        root_id: str,
        *,
        max_depth: int | None = None,
        type_id: str | None = None,
        root_path: str = "",
        size: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Yield the assets below ``root_id`` breadth first, nearest level first.

        Each is ``{"assetId", "name", "typeId", "parentId", "path", "depth"}``.

        One listing per level (per batch of parents), however wide the level is.

        :param root_id: the asset to start below.
        :param max_depth: 1 for children only; ``None`` for every level.
        :param type_id: yield only assets of this exact type (the walk still passes through others).
        :param root_path: the path of ``root_id``, prefixed to each ``path``.
        :param size: assets per page.
        """
        if max_depth is not None and max_depth < 1:
            raise MdspConfigError(
                f"max_depth must be 1 or more, or None for all levels, not {max_depth}", field="depth"
            )
        level, paths, depth = [str(root_id)], {str(root_id): root_path.strip("/")}, 0
        while level and (max_depth is None or depth < max_depth):
            depth += 1
            children = sorted(self.iter_children(level, size=size), key=lambda a: (paths[a["parentId"]], a["name"]))
            for child in children:
                parent_path = paths[child["parentId"]]
                paths[child["assetId"]] = f"{parent_path}/{child['name']}" if parent_path else child["name"]
                if type_id is None or child.get("typeId") == type_id:
                    node = {k: child.get(k) for k in NODE_KEYS}
                    yield {**node, "path": paths[child["assetId"]], "depth": depth}
            level = [c["assetId"] for c in children]

    # --- ensure ---------------------------------------------------------------------------------
    def put_aspect_type(
        self, type_id: str, body: Mapping[str, Any], *, etag: str | None = None, create_only: bool = False
    ) -> dict[str, Any]:
        """Create (``create_only``: ``If-None-Match: *``) or replace (``If-Match: etag``) an aspect type.

        :param type_id: ``{tenant}.{name}``.
        :param body: the aspect type (``name``, ``category``, ``scope``, ``variables`` …).
        :param etag: the current etag, required to replace.
        :param create_only: fail with a conflict if it exists.
        """
        headers = {"If-None-Match": "*"} if create_only else {"If-Match": str(etag)}
        path = f"{BASE}/aspecttypes/{segment(type_id, name='type_id')}"
        return self.transport.request_json("PUT", path, json=dict(body), headers=headers)

    def patch_asset_type(self, type_id: str, changes: Mapping[str, Any], *, etag: str) -> dict[str, Any]:
        """Merge-patch an asset type with ``If-Match`` (RFC 7396; arrays are replaced whole).

        :param type_id: the asset type id.
        :param changes: the patch.
        :param etag: the current etag.
        """
        path = f"{BASE}/assettypes/{segment(type_id, name='type_id')}"
        headers = {"If-Match": str(etag), "Content-Type": MERGE_PATCH}
        return self.transport.request_json("PATCH", path, data=json.dumps(dict(changes)).encode(), headers=headers)

    def ensure_aspect_type(self, type_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Make the aspect type exist as declared: create it, replace it when it differs, else leave it.

        A create whose reply was lost is found on the retry (``If-None-Match: *`` answers a conflict
        and the type is read back), so nothing is created twice.

        :param type_id: ``{tenant}.{name}``.
        :param body: the aspect type as the DAG declares it.
        """
        current = self._get_or_none(f"{BASE}/aspecttypes/{segment(type_id, name='type_id')}")
        if current is None:
            try:
                created = self.put_aspect_type(type_id, body, create_only=True)
                return _outcome(type_id, created, "created")
            except MdspConflictError:
                current = self.assets.get_aspect_type(type_id)
        if not aspect_type_differs(current, body):
            return _outcome(type_id, current, "unchanged")
        return _outcome(type_id, self.put_aspect_type(type_id, body, etag=current.get("etag")), "updated")

    def ensure_asset_type_aspect(self, asset_type_id: str, aspect_name: str, aspect_type_id: str) -> dict[str, Any]:
        """Make an asset type carry the aspect ``aspect_name`` of type ``aspect_type_id``.

        :param asset_type_id: the asset type, e.g. ``demo.Pump``.
        :param aspect_name: the aspect's name on the type, e.g. ``Kpi``.
        :param aspect_type_id: the aspect type, e.g. ``demo.Kpi``.
        :raises MdspConfigError: the type already has an aspect of that name with another aspect type.
        """
        current = self.assets.get_asset_type(asset_type_id)
        aspects = [{"name": a["name"], "aspectTypeId": _aspect_type_id(a)} for a in current.get("aspects") or []]
        same_name = [a for a in aspects if a["name"] == aspect_name]
        if same_name and same_name[0]["aspectTypeId"] == aspect_type_id:
            return _outcome(asset_type_id, current, "unchanged")
        if same_name:
            raise MdspConfigError(
                f"Asset type {asset_type_id} already has an aspect {aspect_name!r} of type "
                f"{same_name[0]['aspectTypeId']}, not {aspect_type_id}; choose another aspect name",
                field="aspect_name",
            )
        changes = {"aspects": [*aspects, {"name": aspect_name, "aspectTypeId": aspect_type_id}]}
        return _outcome(asset_type_id, self.patch_asset_type(asset_type_id, changes, etag=current["etag"]), "updated")

    def ensure_asset(
        self, parent_id: str, name: str, type_id: str, fields: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Make an asset named ``name`` of type ``type_id`` exist under ``parent_id``, with ``fields``.

        Found by name under its parent (names are unique there). A create answered with a conflict
        (a lost reply, or a concurrent run) is read back instead of failing.

        :param parent_id: the parent asset id.
        :param name: the asset's name.
        :param type_id: its asset type.
        :param fields: other fields to hold, e.g. ``{"description": …, "externalId": …}``.
        :raises MdspConfigError: an asset of that name exists with another type.
        """
        wanted = dict(fields or {})
        current = self.find_child(parent_id, name)
        if current is None:
            try:
                body = {**wanted, "name": name, "typeId": type_id, "parentId": parent_id}
                return _outcome(name, self.assets.create_asset(body), "created", key="assetId")
            except MdspConflictError:
                current = self.find_child(parent_id, name)
                if current is None:
                    raise
        if current.get("typeId") != type_id:
            raise MdspConfigError(
                f"Asset {name!r} under {parent_id} has type {current.get('typeId')}, not {type_id}", field="type_id"
            )
        changes = asset_changes(self.assets.get_asset(current["assetId"]), wanted)
        if not changes:
            return _outcome(name, current, "unchanged", key="assetId")
        patched = self.assets.patch_asset(current["assetId"], changes)
        return _outcome(name, patched, "updated", key="assetId")

    def _get_or_none(self, path: str) -> dict[str, Any] | None:
        try:
            return self.transport.request_json("GET", path)
        except MdspNotFoundError:
            return None


def _aspect_type_id(aspect: Mapping[str, Any]) -> Any:
    return aspect.get("aspectTypeId") or (aspect.get("aspectType") or {}).get("id")


def _outcome(name: str, doc: Mapping[str, Any] | None, action: str, *, key: str = "id") -> dict[str, Any]:
    doc = doc or {}
    etag = doc.get("etag")
    return {"id": str(doc.get(key) or name), "etag": None if etag is None else str(etag), "action": action}
