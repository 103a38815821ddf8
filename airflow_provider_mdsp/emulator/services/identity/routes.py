"""Identity Management v3 SCIM routes (§8), served at ``/api/identitymanagement/v3`` and
``/api/im/v3`` (S1 uses the short path).

``startIndex`` is 1-based, ``count`` defaults to 100 (at most 500 here; gap), and the list key
is lowercase ``resources`` as the Node SDK's tests show.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorize, emulator_state
from ...responses import json_response
from ...wire import query_int
from .models import LIST_SCHEMA, IdentityBackend, project

DEFAULT_COUNT = 100
MAX_COUNT = 500
router = APIRouter()


def _identity(request: Request) -> tuple[IdentityBackend, str | None]:
    caller = authorize(request, "im.r")
    return emulator_state(request).backend(caller.tenant).identity, caller.user_name


async def list_users(request: Request) -> Response:
    """List users (SCIM paging with ``startIndex``/``count``)."""
    identity, _ = _identity(request)
    start = query_int(request, "startIndex", 1, minimum=1)
    count = query_int(request, "count", DEFAULT_COUNT, minimum=0, maximum=MAX_COUNT)
    params = request.query_params
    found = identity.search(
        params.get("filter"), params.get("sortBy"), (params.get("sortOrder") or "").lower() == "descending"
    )
    page = found[start - 1 : start - 1 + count]
    return json_response(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": len(found),
            "itemsPerPage": len(page),
            "startIndex": start,
            "resources": [project(u, params.get("attributes")) for u in page],
        }
    )


async def me(request: Request) -> Response:
    """Return the user of a user token."""
    identity, user_name = _identity(request)
    return json_response(identity.by_name(user_name))


async def get_user(request: Request) -> Response:
    """Return one user by id."""
    identity, _ = _identity(request)
    user = identity.get(request.path_params["user_id"])
    return json_response(project(user, request.query_params.get("attributes")))


for prefix in ("/api/identitymanagement/v3", "/api/im/v3"):
    router.add_api_route(f"{prefix}/Users", list_users, methods=["GET"])
    router.add_api_route(f"{prefix}/Users/me", me, methods=["GET"])
    router.add_api_route(f"{prefix}/Users/{{user_id}}", get_user, methods=["GET"])
