"""Emulator-only endpoints under ``/_emulator/`` (no auth; the server listens on loopback).

* ``GET /_emulator/health``
* ``GET``/``PUT /_emulator/faults``: read or replace the fault settings
* ``GET /_emulator/stats``, ``POST /_emulator/stats/reset``: counters
* ``POST /_emulator/reset``: drop all tenant state and counters, and go back to wall time
* ``GET /_emulator/clock``, ``POST /_emulator/clock/advance`` ``{"seconds": N}``: the emulator's clock
  (:mod:`.clock`), so tests of expiry and job progress never sleep
* ``POST /_emulator/user-token``: a signed user token (for the pass-through flow)
* ``POST /_emulator/refresh-token``: what the authorization-code flow would have issued
* ``GET /_emulator/demo``: names and ids of the demo plant
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .auth import emulator_state, issue_user_tokens
from .config import ALL_SCOPES
from .errors import ApiError
from .faults import FaultSettings, FaultSettingsError
from .responses import json_response
from .timefmt import format_ms
from .wire import base_url, read_json

router = APIRouter(prefix="/_emulator")
USER_TOKEN_CLIENT = "mdsp-emulator-ui"  # noqa: S105 - client id recorded in emulator-issued user tokens
DEFAULT_USER = "alice.becker@demo.example"


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "Body must be a JSON object")
    return body


@router.get("/health")
async def health() -> Response:
    """Tell that the server is up."""
    return json_response({"status": "ok"})


@router.get("/faults")
async def get_faults(request: Request) -> Response:
    """Return the current fault settings."""
    return json_response(emulator_state(request).faults.settings.to_dict())


@router.put("/faults")
async def put_faults(request: Request) -> Response:
    """Replace the fault settings (omitted keys go back to off)."""
    body = await request.body()
    data = _object(await read_json(request)) if body.strip() else {}
    try:
        settings = FaultSettings.from_dict(data)
    except FaultSettingsError as exc:
        raise ApiError(400, str(exc)) from exc
    emulator_state(request).faults.configure(settings)
    return json_response(settings.to_dict())


@router.get("/stats")
async def get_stats(request: Request) -> Response:
    """Return the counters."""
    return json_response(emulator_state(request).stats.snapshot())


@router.post("/stats/reset")
async def reset_stats(request: Request) -> Response:
    """Zero the counters only."""
    emulator_state(request).stats.reset()
    return Response(status_code=204)


@router.post("/reset")
async def reset(request: Request) -> Response:
    """Drop all tenant state, refresh tokens and counters."""
    emulator_state(request).reset()
    return Response(status_code=204)


def _clock_body(request: Request) -> dict[str, Any]:
    clock = emulator_state(request).clock
    return {"now": format_ms(clock.now_ms()), "offset_s": clock.offset_s}


@router.get("/clock")
async def get_clock(request: Request) -> Response:
    """Return the emulator's time and how far it runs ahead of wall time."""
    return json_response(_clock_body(request))


@router.post("/clock/advance")
async def advance_clock(request: Request) -> Response:
    """Move the emulator's clock forward: ``{"seconds": N}``, N >= 0."""
    seconds = _object(await read_json(request)).get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ApiError(400, "seconds must be a number >= 0")
    try:
        emulator_state(request).clock.advance(float(seconds))
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc
    return json_response(_clock_body(request))


@router.post("/user-token")
async def user_token(request: Request) -> Response:
    """Sign a user token: ``{tenant, user_name, scopes?, lifetime_s?}``."""
    state = emulator_state(request)
    body = _object(await read_json(request))
    tenant = body.get("tenant", "demo")
    if state.config.tenant(tenant) is None:
        raise ApiError(400, f"Unknown tenant '{tenant}'")
    scopes = body.get("scopes") or list(ALL_SCOPES)
    lifetime = body.get("lifetime_s")
    if lifetime is not None and (not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime < 0):
        raise ApiError(400, "lifetime_s must be a whole number of seconds >= 0")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ApiError(400, "scopes must be a list of scope names")
    token, claims = state.tokens.issue(
        client_id=USER_TOKEN_CLIENT,
        tenant=tenant,
        scopes=scopes,
        grant_type="authorization_code",
        issuer=f"{base_url(request)}/oauth/token",
        user_name=body.get("user_name") or DEFAULT_USER,
        lifetime_s=lifetime,
    )
    return json_response({"access_token": token, "token_type": "Bearer", "expires_in": claims["exp"] - claims["iat"]})


@router.post("/refresh-token")
async def refresh_token(request: Request) -> Response:
    """Issue what the authorization-code flow would: access + refresh token (S3).

    Body ``{client_id, tenant?, user_name?, scopes?}``; the client must be a configured
    tenant credential, and must present its secret when it uses the refresh token.
    """
    state = emulator_state(request)
    body = _object(await read_json(request))
    found = state.find_client(str(body.get("client_id")))
    if found is None:
        raise ApiError(400, f"Unknown client_id {body.get('client_id')!r}")
    tenant, cred = found
    if body.get("tenant", tenant.name) != tenant.name:
        raise ApiError(400, f"Client {cred.client_id} belongs to tenant {tenant.name}")
    scopes = tuple(body.get("scopes") or cred.scopes)
    issued = issue_user_tokens(
        state,
        cred.client_id,
        tenant.name,
        scopes,
        body.get("user_name") or DEFAULT_USER,
        f"{base_url(request)}/oauth/token",
        "authorization_code",
    )
    return json_response(issued)


@router.get("/demo")
async def demo(request: Request) -> Response:
    """List the demo plant of a tenant (``?tenant=demo``): asset names, ids, types, aspects."""
    state = emulator_state(request)
    tenant = request.query_params.get("tenant", "demo")
    if state.config.tenant(tenant) is None:
        raise ApiError(404, f"Unknown tenant '{tenant}'")
    backend = state.backend(tenant)
    assets = [
        {
            "name": a["name"],
            "assetId": a["assetId"],
            "typeId": a["typeId"],
            "parentId": a["parentId"],
            "aspects": [name for name, _ in backend.types.aspects_of(a["typeId"])],
        }
        for a in backend.assets.all()
    ]
    return json_response({"tenant": tenant, "assets": assets})
