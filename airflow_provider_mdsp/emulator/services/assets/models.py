"""Assets of one tenant (Asset Management v3, §3). Rules and state, no HTTP.

Seeded asset ids are 32 lowercase hex characters derived from tenant and asset name
(:func:`asset_id_for`); assets created over the API get random ids of the same form. The
``etag`` is a counter rendered as a string, bumped on every change.

Not emulated: ``includeShared``/sharing, locks, ``basicFieldsOnly``, ``/location`` and
``/fileAssignments`` sub-resources, the AM ``/files`` store, billboard, ``/model/lock``,
soft-delete retention (a DELETE removes the asset at once), time zone rules.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from ...bodies import invalid, object_list, optional, required_text
from ...errors import INVALID_BODY, ApiError, check_if_match, lookup
from .documents import NO_MATCH, merge_patch, next_etag
from .types import TypeRegistry, file_assignments

ROOT_TYPE = "core.basicenterprise"
DEFAULT_TIMEZONE = "UTC"  # gap: the real default time zone is not in the reference
TWIN_TYPES = ("performance", "simulation")
IMMUTABLE = ("assetId", "tenantId", "typeId", "parentId", "timezone", "twinType")
ASSET = "Asset"  # where a body check's message says the property sits
TEXT_FIELDS = ("externalId", "description", "timezone", "subTenant")
LOCATION_TEXT = ("country", "region", "locality", "streetAddress", "postalCode")
LOCATION_NUMBERS = ("longitude", "latitude")


def asset_id_for(tenant: str, name: str) -> str:
    """Return the deterministic id of a seeded asset: md5 of ``"{tenant}/{name}"``.

    :param tenant: tenant name
    :param name: asset name (unique within the demo plant)
    """
    return hashlib.md5(f"{tenant}/{name}".encode(), usedforsecurity=False).hexdigest()


class AssetBackend:
    """All assets of a tenant, plus the type registry they refer to.

    :param tenant: tenant name
    :param types: the tenant's asset and aspect types
    :param stale_status: status for a stale ``If-Match``
    """

    def __init__(self, tenant: str, types: TypeRegistry, stale_status: int) -> None:
        self.tenant = tenant
        self.types = types
        self.stale_status = stale_status
        self.assets: dict[str, dict[str, Any]] = {}
        self.root_id = asset_id_for(tenant, tenant)
        self.assets[self.root_id] = self._document(
            self.root_id, {"name": tenant, "typeId": ROOT_TYPE, "description": f"Root of {tenant}"}, None
        )

    def root(self) -> dict[str, Any]:
        """Return the tenant's root asset."""
        return self.assets[self.root_id]

    def get(self, asset_id: str) -> dict[str, Any]:
        """Return one asset.

        :param asset_id: its id
        :raises ApiError: 404
        """
        return lookup(self.assets, asset_id, f"Asset '{asset_id}' not found", NO_MATCH)

    def all(self) -> list[dict[str, Any]]:
        """Return every asset."""
        return list(self.assets.values())

    def create(self, body: Any, asset_id: str | None = None) -> dict[str, Any]:
        """Create an asset under an existing parent.

        :param body: asset document with ``name``, ``typeId`` and ``parentId``
        :param asset_id: fixed id (seeding); a random 32-hex id otherwise
        :raises ApiError: 400 for missing or invalid fields, 409 for a duplicate sibling name
        """
        _check_object(body)
        for key in ("name", "typeId", "parentId"):
            required_text(body, key, ASSET)
        self.get(body["parentId"])
        asset_type = self.types.assets.get(body["typeId"])
        if not asset_type["instantiable"]:
            raise ApiError(400, f"Asset type '{body['typeId']}' is not instantiable", INVALID_BODY)
        self._check_unique_name(body["name"], body["parentId"], None)
        new_id = asset_id or uuid.uuid4().hex
        self.assets[new_id] = self._document(new_id, body, body["parentId"])
        return self.assets[new_id]

    def replace(self, asset_id: str, body: Any, if_match: str | None) -> dict[str, Any]:
        """Replace an asset's mutable fields (PUT).

        :param asset_id: its id
        :param body: the full asset document
        :param if_match: current etag
        """
        current = self._current(asset_id, if_match)
        _check_object(body)
        return self._store(current, body)

    def patch(self, asset_id: str, patch: Any, if_match: str | None) -> dict[str, Any]:
        """Apply an RFC 7396 merge patch to an asset.

        :param asset_id: its id
        :param patch: the patch
        :param if_match: current etag
        """
        current = self._current(asset_id, if_match)
        _check_object(patch)
        return self._store(current, merge_patch(current, patch))

    def delete(self, asset_id: str, if_match: str | None) -> None:
        """Delete an asset that has no children.

        Rule: "It's not possible to delete an asset if it has children" (N:sdk/asset/asset-management.ts
        ``DeleteAsset``). Gap: the status is not documented; ours is 409 ``conflict``, as for a type
        still in use.

        :param asset_id: its id
        :param if_match: current etag
        :raises ApiError: 400 for the root, 409 while the asset has children
        """
        self._current(asset_id, if_match)
        if asset_id == self.root_id:
            raise ApiError(400, "The root asset cannot be deleted")
        children = sorted(a["name"] for a in self.assets.values() if a["parentId"] == asset_id)
        if children:
            raise ApiError(409, f"Asset '{asset_id}' has children {children}: delete or move them first")
        del self.assets[asset_id]

    def move(self, asset_id: str, body: Any, if_match: str | None) -> dict[str, Any]:
        """Move an asset under a new parent (POST ``/assets/{id}/move``).

        :param asset_id: its id
        :param body: ``{"newParentId"}``
        :param if_match: current etag
        """
        current = self._current(asset_id, if_match)
        if not isinstance(body, dict):
            raise ApiError(400, "A move must be a JSON object with 'newParentId'", INVALID_BODY)
        new_parent_id = required_text(body, "newParentId", "Move")
        self.get(new_parent_id)
        if new_parent_id in self._subtree(asset_id):
            raise ApiError(400, "An asset cannot be moved below itself")
        self._check_unique_name(current["name"], new_parent_id, asset_id)
        current["parentId"] = new_parent_id
        current["etag"] = next_etag(current["etag"])
        return current

    def aspects(self, asset_id: str) -> list[dict[str, Any]]:
        """Return the aspects of an asset (from its type chain).

        :param asset_id: its id
        """
        asset = self.get(asset_id)
        return [
            {
                "name": name,
                "holdingAssetId": asset_id,
                "aspectTypeId": at["id"],
                "aspectTypeName": at["name"],
                "category": at["category"],
                "scope": at["scope"],
                "description": at["description"],
                "variables": at["variables"],
            }
            for name, at in self.types.aspects_of(asset["typeId"])
        ]

    def variables(self, asset_id: str) -> list[dict[str, Any]]:
        """Return every aspect variable of an asset, flattened.

        :param asset_id: its id
        """
        return [
            {**v, "aspectName": a["name"], "aspectTypeId": a["aspectTypeId"], "aspectTypeName": a["aspectTypeName"]}
            for a in self.aspects(asset_id)
            for v in a["variables"]
        ]

    def property_set(self, entity_id: str, name: str) -> dict[str, dict[str, Any]] | None:
        """Return ``{variable: definition}`` of an asset's aspect, ``None`` if it has none.

        :param entity_id: asset id
        :param name: aspect (property set) name
        :raises ApiError: 404 when the asset does not exist
        """
        asset = self.get(entity_id)
        for aspect_name, at in self.types.aspects_of(asset["typeId"]):
            if aspect_name == name:
                return {v["name"]: v for v in at["variables"]}
        return None

    def has_type(self, asset: dict[str, Any], type_id: Any) -> bool:
        """Tell whether an asset's type is ``type_id`` or derives from it (``hasType``).

        :param asset: the asset
        :param type_id: the type to test
        """
        return any(t["id"] == type_id for t in self.types.chain(asset["typeId"]))

    def uses_type(self, type_id: str) -> bool:
        """Tell whether any asset has this exact type.

        :param type_id: asset type id
        """
        return any(a["typeId"] == type_id for a in self.assets.values())

    def _store(self, current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        for key in IMMUTABLE:
            if key in body and body[key] != current[key]:
                raise ApiError(400, f"Asset field '{key}' cannot be changed", INVALID_BODY)
        # A merge patch with "name": null leaves no name: a 400 like a PUT without one.
        self._check_unique_name(required_text(body, "name", ASSET), current["parentId"], current["assetId"])
        updated = self._document(current["assetId"], {**current, **body}, current["parentId"])
        updated["etag"] = next_etag(current["etag"])
        self.assets[current["assetId"]] = updated
        return updated

    def _document(self, asset_id: str, body: dict[str, Any], parent_id: str | None) -> dict[str, Any]:
        twin = optional(body, "twinType", ASSET, str) or "performance"
        if twin not in TWIN_TYPES:
            raise ApiError(400, f"{ASSET}: property 'twinType' must be one of {TWIN_TYPES}", INVALID_BODY)
        _check_fields(body)
        names = {v["name"] for v in self.types.assets.get(body["typeId"])["variables"]}
        for i, v in enumerate(object_list(body, "variables", ASSET)):
            if required_text(v, "name", f"{ASSET} variables[{i}]") not in names:
                raise ApiError(
                    400, f"{ASSET}: variables[{i}] {v['name']!r} is not a variable of its type", INVALID_BODY
                )
        return {
            "assetId": asset_id,
            "tenantId": self.tenant,
            "name": body["name"],
            "externalId": body.get("externalId"),
            "description": body.get("description", ""),
            "location": body.get("location"),
            "variables": list(body.get("variables") or []),
            "aspects": list(body.get("aspects") or []),
            "fileAssignments": file_assignments(body, ASSET),
            "typeId": body["typeId"],
            "parentId": parent_id,
            "timezone": body.get("timezone") or DEFAULT_TIMEZONE,
            "twinType": twin,
            "subTenant": body.get("subTenant"),
            "locks": [],
            "deleted": None,
            "sharing": {"modes": []},
            "etag": body.get("etag", "0") if asset_id in self.assets else "0",
        }

    def _current(self, asset_id: str, if_match: str | None) -> dict[str, Any]:
        current = self.get(asset_id)
        check_if_match(current["etag"], if_match, self.stale_status, f"asset '{asset_id}'")
        return current

    def _check_unique_name(self, name: str, parent_id: str | None, own_id: str | None) -> None:
        for a in self.assets.values():
            if a["parentId"] == parent_id and a["name"] == name and a["assetId"] != own_id:
                raise ApiError(409, f"An asset named '{name}' already exists under '{parent_id}'")

    def _subtree(self, asset_id: str) -> list[str]:
        out, todo = [], [asset_id]
        while todo:
            current = todo.pop()
            out.append(current)
            todo.extend(a["assetId"] for a in self.assets.values() if a["parentId"] == current)
        return out


def _check_object(body: Any) -> None:
    """Refuse a body that is not a JSON object (400)."""
    if not isinstance(body, dict):
        raise ApiError(400, f"An asset must be a JSON object, not {type(body).__name__}", INVALID_BODY)


def _check_fields(body: dict[str, Any]) -> None:
    """Type-check an asset's optional fields as §3 lists them; raise a 400 naming the first bad one.

    ``location`` is an object of strings and two numbers, ``aspects`` a list of ``{name, variables}``;
    the other fields are strings (``fileAssignments`` is checked where it is stored).
    """
    for key in TEXT_FIELDS:
        optional(body, key, ASSET, str)
    location = optional(body, "location", ASSET, dict) or {}
    for key in LOCATION_TEXT:
        optional(location, key, f"{ASSET} location", str)
    for key in LOCATION_NUMBERS:
        value = location.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise invalid(f"{ASSET} location", key, "a number", value)
    for i, aspect in enumerate(object_list(body, "aspects", ASSET)):
        where = f"{ASSET} aspects[{i}]"
        required_text(aspect, "name", where)
        for j, variable in enumerate(object_list(aspect, "variables", where)):
            required_text(variable, "name", f"{where} variables[{j}]")
