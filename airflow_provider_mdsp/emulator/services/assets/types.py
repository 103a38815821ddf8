"""Asset types and aspect types (Asset Management v3, §3). Rules and state, no HTTP.

Not emulated: ``PATCH /assettypes/{id}/variables``, file assignments on types, sharing and
``includeShared``, locks, type-id prefixes other than the tenant name, ``scope`` effects.
"""

from __future__ import annotations

import re
from typing import Any

from ...bodies import object_list, optional, optional_flag, required_text
from ...errors import INVALID_BODY, MISSING_BODY, ApiError
from .documents import Build, EtagDocuments

TYPE_ID = re.compile(r"^[A-Za-z0-9_.]{1,128}$")
DATA_TYPES = {"BOOLEAN", "INT", "LONG", "DOUBLE", "STRING", "TIMESTAMP", "BIG_STRING"}
MAX_LENGTH = {"STRING": 255, "BIG_STRING": 100_000}
CORE_TYPES = ("core.basicasset", "core.basicenterprise", "core.basicsite", "core.basicarea")


def _variable(v: dict[str, Any], where: str, with_quality: bool) -> dict[str, Any]:
    """Check and normalise one variable of an aspect type or asset type (§3).

    :param v: the variable as sent (a JSON object)
    :param where: where it sits, for messages, e.g. ``Aspect type 'demo.Oil' variables[0]``
    :param with_quality: aspect-type variables carry ``qualityCode``
    :raises ApiError: 400 naming the property
    """
    name = required_text(v, "name", where)
    data_type = required_text(v, "dataType", where)
    if data_type not in DATA_TYPES:
        raise ApiError(400, f"{where}: property 'dataType' must be one of {sorted(DATA_TYPES)}", INVALID_BODY)
    length = v.get("length")
    if data_type in MAX_LENGTH:
        length = MAX_LENGTH[data_type] if length is None else length
        if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= MAX_LENGTH[data_type]:
            raise ApiError(400, f"{where}: property 'length' must be 1..{MAX_LENGTH[data_type]}", INVALID_BODY)
    out = {
        "name": name,
        "dataType": data_type,
        "unit": optional(v, "unit", where, str) or "",
        "searchable": optional_flag(v, "searchable", where, False),
        "length": length,
        "defaultValue": v.get("defaultValue"),
    }
    if with_quality:
        out["qualityCode"] = optional_flag(v, "qualityCode", where, False)
    return out


def _variables(body: dict[str, Any], where: str, with_quality: bool) -> list[dict[str, Any]]:
    """Return the checked ``variables`` of a type body (``[]`` when absent)."""
    listed = object_list(body, "variables", where)
    return [_variable(v, f"{where} variables[{i}]", with_quality) for i, v in enumerate(listed)]


def file_assignments(body: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """Return the checked ``fileAssignments`` of an asset or asset type: a list of ``{key, fileId}`` (§3).

    :param body: the asset or asset type
    :param where: where it sits, for messages
    :raises ApiError: 400 naming the property
    """
    listed = object_list(body, "fileAssignments", where)
    for i, assignment in enumerate(listed):
        for key in ("key", "fileId"):
            required_text(assignment, key, f"{where} fileAssignments[{i}]")
    return list(listed)


def _described(body: dict[str, Any], where: str, type_id: str) -> dict[str, Any]:
    """Return the checked ``name``, ``description`` and ``scope`` of a type body, with their defaults."""
    return {
        "name": optional(body, "name", where, str) or type_id.split(".", 1)[-1],
        "scope": optional(body, "scope", where, str) or "private",
        "description": optional(body, "description", where, str) or "",
    }


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
        where = f"Aspect type '{type_id}'"
        category = optional(body, "category", where, str) or "dynamic"
        if category not in ("static", "dynamic"):
            raise ApiError(400, f"{where}: property 'category' must be 'static' or 'dynamic'", INVALID_BODY)
        return {
            "id": type_id,
            "tenantId": self.tenant,
            **_described(body, where, type_id),
            "category": category,
            "variables": _variables(body, where, True),
            "etag": etag,
        }

    def _asset_type(self, type_id: str, body: Any, etag: str, tenant_id: str | None = None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "An asset type must be a JSON object", INVALID_BODY)
        where = f"Asset type '{type_id}'"
        parent = optional(body, "parentTypeId", where, str) if "parentTypeId" in body else "core.basicasset"
        if parent is not None and parent not in self.asset_types:
            raise ApiError(400, f"{where}: parentTypeId '{parent}' does not exist", INVALID_BODY)
        return {
            "id": type_id,
            "tenantId": tenant_id or self.tenant,
            **_described(body, where, type_id),
            "parentTypeId": parent,
            "instantiable": optional_flag(body, "instantiable", where, True),
            "aspects": [
                self._type_aspect(a, f"{where} aspects[{i}]") for i, a in enumerate(object_list(body, "aspects", where))
            ],
            "variables": _variables(body, where, False),
            "fileAssignments": file_assignments(body, where),
            "etag": etag,
        }

    def _type_aspect(self, aspect: dict[str, Any], where: str) -> dict[str, str]:
        """Return ``{name, aspectTypeId}`` of an asset type's aspect, sent with an id or an ``aspectType``."""
        name = required_text(aspect, "name", where)
        nested = optional(aspect, "aspectType", where, dict) or {}
        aspect_type_id = optional(aspect, "aspectTypeId", where, str) or optional(
            nested, "id", f"{where} aspectType", str
        )
        if not aspect_type_id:
            raise ApiError(400, f"{where}: property 'aspectTypeId' is required", MISSING_BODY)
        if aspect_type_id not in self.aspect_types:
            raise ApiError(400, f"{where}: aspectTypeId {aspect_type_id!r} is not an aspect type", INVALID_BODY)
        return {"name": name, "aspectTypeId": aspect_type_id}

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
