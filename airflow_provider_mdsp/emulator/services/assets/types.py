"""Asset types and aspect types (Asset Management v3, §3). Rules and state, no HTTP.

Not emulated: ``PATCH /assettypes/{id}/variables``, file assignments on types, sharing and
``includeShared``, locks, type-id prefixes other than the tenant name, ``scope`` effects.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import INVALID_BODY, ApiError
from .documents import Build, EtagDocuments

TYPE_ID = re.compile(r"^[A-Za-z0-9_.]{1,128}$")
DATA_TYPES = {"BOOLEAN", "INT", "LONG", "DOUBLE", "STRING", "TIMESTAMP", "BIG_STRING"}
MAX_LENGTH = {"STRING": 255, "BIG_STRING": 100_000}
CORE_TYPES = ("core.basicasset", "core.basicenterprise", "core.basicsite", "core.basicarea")


def _variable(v: Any, where: str, with_quality: bool) -> dict[str, Any]:
    if not isinstance(v, dict) or not isinstance(v.get("name"), str) or not v["name"]:
        raise ApiError(400, f"{where}: every variable needs a 'name'", INVALID_BODY)
    data_type = v.get("dataType")
    if data_type not in DATA_TYPES:
        raise ApiError(400, f"{where}.{v['name']}: dataType must be one of {sorted(DATA_TYPES)}", INVALID_BODY)
    length = v.get("length")
    if data_type in MAX_LENGTH:
        length = MAX_LENGTH[data_type] if length is None else length
        if not isinstance(length, int) or not 1 <= length <= MAX_LENGTH[data_type]:
            raise ApiError(400, f"{where}.{v['name']}: length must be 1..{MAX_LENGTH[data_type]}", INVALID_BODY)
    out = {
        "name": v["name"],
        "dataType": data_type,
        "unit": v.get("unit", ""),
        "searchable": bool(v.get("searchable", False)),
        "length": length,
        "defaultValue": v.get("defaultValue"),
    }
    if with_quality:
        out["qualityCode"] = bool(v.get("qualityCode", False))
    return out


class TypeDocuments(EtagDocuments):
    """Types of one kind (aspect types or asset types); a PUT names a custom id, ``{tenant}.<name>``.

    :param label: the kind as messages name it, e.g. ``Aspect type``
    :param tenant: tenant name (custom type ids must start with ``{tenant}.``)
    :param stale_status: status for a stale ``If-Match``
    :param build: ``(id, body, etag) -> type``; validates the body (raises 400)
    """

    def __init__(self, label: str, tenant: str, stale_status: int, build: Build) -> None:
        super().__init__(label, stale_status, build)
        self.tenant = tenant

    def put(
        self, doc_id: str, body: Any, if_match: str | None, if_none_match: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Create or replace a type, as :meth:`EtagDocuments.put` does, once its id is custom."""
        self.check_custom_id(doc_id)
        return super().put(doc_id, body, if_match, if_none_match)

    def check_custom_id(self, type_id: str) -> None:
        """Refuse an id that is not ``{tenant}.<name>`` in ``[A-Za-z0-9_.]``, 1-128 characters.

        :param type_id: the id
        :raises ApiError: 400
        """
        if not TYPE_ID.match(type_id) or not type_id.startswith(f"{self.tenant}."):
            raise ApiError(
                400, f"Type id '{type_id}' must be '{self.tenant}.<name>' using [A-Za-z0-9_.], 1-128 characters"
            )


class AssetTypeDocuments(TypeDocuments):
    """Asset types: the core types (``core.*``) are not the tenant's, so a PATCH too needs a custom id."""

    def patch(self, doc_id: str, patch: Any, if_match: str | None) -> dict[str, Any]:
        """Merge-patch an asset type, as :meth:`EtagDocuments.patch` does, once its id is custom."""
        self.check_custom_id(doc_id)
        return super().patch(doc_id, patch, if_match)


class TypeRegistry:
    """Aspect types and asset types of one tenant: ``aspects`` and ``assets`` hold each kind.

    :param tenant: tenant name (custom type ids must start with ``{tenant}.``)
    :param stale_status: status for a stale ``If-Match``
    """

    def __init__(self, tenant: str, stale_status: int) -> None:
        self.tenant = tenant
        self.aspects = TypeDocuments("Aspect type", tenant, stale_status, self._aspect_type)
        self.assets = AssetTypeDocuments("Asset type", tenant, stale_status, self._asset_type)
        for type_id in CORE_TYPES:
            parent = None if type_id == "core.basicasset" else "core.basicasset"
            body = {"name": type_id.split(".")[1], "parentTypeId": parent, "instantiable": True}
            self.asset_types[type_id] = self._asset_type(type_id, body, "0", tenant_id="core")

    @property
    def aspect_types(self) -> dict[str, dict[str, Any]]:
        """Aspect types by id."""
        return self.aspects.items

    @property
    def asset_types(self) -> dict[str, dict[str, Any]]:
        """Asset types by id, the core types included."""
        return self.assets.items

    def delete_aspect_type(self, type_id: str, if_match: str | None) -> None:
        """Delete an aspect type that no asset type uses.

        :param type_id: its id
        :param if_match: current etag
        """
        self.aspects.current(type_id, if_match)
        users = [t["id"] for t in self.asset_types.values() if any(a["aspectTypeId"] == type_id for a in t["aspects"])]
        if users:
            raise ApiError(409, f"Aspect type '{type_id}' is used by asset type(s) {users}")
        del self.aspect_types[type_id]

    def delete_asset_type(self, type_id: str, if_match: str | None, in_use: bool) -> None:
        """Delete an asset type no asset and no other type uses.

        :param type_id: its id
        :param if_match: current etag
        :param in_use: whether an asset has this type
        """
        self.assets.check_custom_id(type_id)
        self.assets.current(type_id, if_match)
        children = [t for t in self.asset_types.values() if t.get("parentTypeId") == type_id]
        if in_use or children:
            raise ApiError(409, f"Asset type '{type_id}' is still used by assets or child types")
        del self.asset_types[type_id]

    def _aspect_type(self, type_id: str, body: Any, etag: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "An aspect type must be a JSON object", INVALID_BODY)
        category = body.get("category", "dynamic")
        if category not in ("static", "dynamic"):
            raise ApiError(400, "category must be 'static' or 'dynamic'", INVALID_BODY)
        variables = [_variable(v, "variables", True) for v in body.get("variables") or []]
        return {
            "id": type_id,
            "tenantId": self.tenant,
            "name": body.get("name") or type_id.split(".", 1)[-1],
            "category": category,
            "scope": body.get("scope", "private"),
            "description": body.get("description", ""),
            "variables": variables,
            "etag": etag,
        }

    def _asset_type(self, type_id: str, body: Any, etag: str, tenant_id: str | None = None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "An asset type must be a JSON object", INVALID_BODY)
        parent = body.get("parentTypeId", "core.basicasset")
        if parent is not None and parent not in self.asset_types:
            raise ApiError(400, f"parentTypeId '{parent}' does not exist", INVALID_BODY)
        aspects = []
        for a in body.get("aspects") or []:
            aspect_type_id = a.get("aspectTypeId") or (a.get("aspectType") or {}).get("id")
            if not isinstance(a.get("name"), str) or aspect_type_id not in self.aspect_types:
                raise ApiError(400, f"aspects: unknown aspect type {aspect_type_id!r}", INVALID_BODY)
            aspects.append({"name": a["name"], "aspectTypeId": aspect_type_id})
        return {
            "id": type_id,
            "tenantId": tenant_id or self.tenant,
            "name": body.get("name") or type_id.split(".", 1)[-1],
            "description": body.get("description", ""),
            "parentTypeId": parent,
            "instantiable": bool(body.get("instantiable", True)),
            "scope": body.get("scope", "private"),
            "aspects": aspects,
            "variables": [_variable(v, "variables", False) for v in body.get("variables") or []],
            "fileAssignments": list(body.get("fileAssignments") or []),
            "etag": etag,
        }

    # -- resolution -----------------------------------------------------------------------
    def chain(self, type_id: str) -> list[dict[str, Any]]:
        """Return the type and its ancestors, nearest first.

        :param type_id: asset type id
        """
        out, seen = [], set()
        current: str | None = type_id
        while current and current in self.asset_types and current not in seen:
            seen.add(current)
            out.append(self.asset_types[current])
            current = self.asset_types[current].get("parentTypeId")
        return out

    def aspects_of(self, type_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Return ``(aspect name, aspect type)`` of a type, inherited ones included.

        :param type_id: asset type id
        """
        out = []
        for t in reversed(self.chain(type_id)):
            for a in t["aspects"]:
                out.append((a["name"], self.aspect_types[a["aspectTypeId"]]))
        return out

    def render_asset_type(self, t: dict[str, Any], exploded: bool) -> dict[str, Any]:
        """Return an asset type in wire form (``exploded`` adds inherited aspects/variables).

        :param t: stored asset type
        :param exploded: include what parent types contribute
        """
        out = dict(t)
        chain = self.chain(t["id"]) if exploded else [t]
        out["aspects"] = [
            {
                "name": a["name"],
                "aspectTypeId": a["aspectTypeId"],
                "aspectType": self.aspect_types.get(a["aspectTypeId"]),
            }
            for ty in reversed(chain)
            for a in ty["aspects"]
        ]
        out["variables"] = [v for ty in reversed(chain) for v in ty["variables"]]
        return out
