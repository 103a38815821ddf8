"""IoT File v4 Bulk Delete routes (see :mod:`.rules` for the rules and their sources).

Published: ``POST /fileDeleteRules`` (an array in, an array out) and ``GET /fileDeleteRules/``
(Siemens developer docs, IoT File bulk deletion samples). Gap choices: the base path
``/api/iotfile/v4`` (the docs name version 4.x but show paths only), the list as a bare array (like
the create answer), ``DELETE /fileDeleteRules/{id}`` answering 204, the scopes of IoT File v3
(``iot.fil.r`` to list, ``iot.fil.d`` to create or delete rules that delete files).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized_backend
from ...responses import json_response
from ...wire import read_json
from .rules import CREATED_STATUS

router = APIRouter(prefix="/api/iotfile/v4")


@router.post("/fileDeleteRules")
async def create_rules(request: Request) -> Response:
    """Create time-to-live rules, all or none."""
    rules = authorized_backend(request, "iot.fil.d").file_rules
    return json_response(rules.create(await read_json(request)), status=CREATED_STATUS)


@router.get("/fileDeleteRules/")
@router.get("/fileDeleteRules")
async def list_rules(request: Request) -> Response:
    """List the tenant's rules with their state."""
    return json_response(authorized_backend(request, "iot.fil.r").file_rules.list())


@router.delete("/fileDeleteRules/{rule_id}")
async def delete_rule(request: Request, rule_id: str) -> Response:
    """Delete a rule (gap: the call is not published)."""
    authorized_backend(request, "iot.fil.d").file_rules.delete(rule_id)
    return Response(status_code=204)
