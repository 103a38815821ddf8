"""Token endpoints and the bearer/scope check every ``/api/...`` route makes (§2).

* ``POST /oauth/token``: PIAM; Basic auth; form body or query string (Mendix sends
  ``grant_type`` in the query, S0); ``client_credentials`` (optionally with subtenant
  impersonation) and ``refresh_token``.
* ``GET /token_keys``: the public keys, signing key first (§2.4).
* ``POST /api/technicaltokenmanager/v3/oauth/token``: app credentials (§2.2).

Gaps chosen here: the Token Manager's error body is assumed OAuth-style; a mismatched
``appName``/``appVersion``/tenant answers 403 ``access_denied`` (the secret was right); an
unknown or expired refresh token answers 401 ``invalid_token`` as UAA does.
Not emulated: the ``authorization_code`` grant (see ``/_emulator/refresh-token``), the
``tenant`` header of S3, scopes narrowed by a ``scope`` request parameter.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, OAuthError, token_validation_failed
from .responses import json_response
from .wire import base_url

if TYPE_CHECKING:
    from .state import EmulatorState, TenantBackend

router = APIRouter()

# The one iam-action value the emulator accepts. It is NOT confirmed by any public source (§0):
# the emulator guesses as the client does, so this rule cannot catch a wrong value; a client that
# overrides it (connection extra iam_action) gets 400 here.
IMPERSONATION_ACTION = "client_credentials.tenant-impersonation"
APP_FIELDS = ("appName", "appVersion", "hostTenant", "userTenant")


@dataclass(frozen=True)
class Caller:
    """Who is calling, from a validated token.

    :param tenant: the ``ten`` claim
    :param client_id: the ``client_id`` claim
    :param scopes: the ``scope`` claim
    :param user_name: ``user_name`` of a user token
    :param subtenant: ``subtenant`` of an impersonation token
    """

    tenant: str
    client_id: str
    scopes: frozenset[str]
    user_name: str | None = None
    subtenant: str | None = None


def emulator_state(request: Request) -> EmulatorState:
    """Return the emulator state of the app serving ``request``.

    :param request: the request
    """
    state: EmulatorState = request.app.state.emulator
    return state


def authorize(request: Request, scope: str) -> Caller:
    """Validate the bearer token and require a scope.

    :param request: the request
    :param scope: the scope the operation needs
    :raises OAuthError: 401 ``token_validation_failed`` for a missing/invalid/expired token
    :raises ApiError: 403 in the service's error body when the scope is missing
    """
    header = request.headers.get("authorization", "")
    if header[:7].lower() != "bearer " or not header[7:].strip():
        raise token_validation_failed()
    claims = emulator_state(request).tokens.verify(header[7:].strip())
    if scope not in claims["scope"]:
        raise ApiError(403, f"The token lacks the scope '{scope}' this operation needs")
    return Caller(
        tenant=claims["ten"],
        client_id=str(claims.get("client_id", "")),
        scopes=frozenset(claims["scope"]),
        user_name=claims.get("user_name"),
        subtenant=claims.get("subtenant"),
    )


def authorized(request: Request, scope: str) -> tuple[Caller, TenantBackend]:
    """Authorize the request; return the caller and its tenant backend.

    :param request: the request
    :param scope: the scope the operation needs
    """
    caller = authorize(request, scope)
    return caller, emulator_state(request).backend(caller.tenant)


def authorized_backend(request: Request, scope: str) -> TenantBackend:
    """Authorize the request and return the caller's tenant backend.

    :param request: the request
    :param scope: the scope the operation needs
    """
    caller = authorize(request, scope)
    return emulator_state(request).backend(caller.tenant)


def decode_basic(value: str | None) -> tuple[str, str] | None:
    """Decode ``Basic``/``Bearer`` + base64(``id:secret``) into ``(id, secret)``.

    :param value: the header value
    """
    if not value or " " not in value:
        return None
    kind, encoded = value.strip().split(" ", 1)
    if kind.lower() not in ("basic", "bearer"):
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


async def _oauth_params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    body = await request.body()
    if body:
        params.update(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
    return params


def _token_body(token: str, claims: dict[str, Any], lifetime: int) -> dict[str, Any]:
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": " ".join(claims["scope"]),
        "jti": claims["jti"],
    }


@router.post("/oauth/token")
async def oauth_token(request: Request) -> Response:
    """Issue a PIAM token (client credentials, impersonation, refresh)."""
    state = emulator_state(request)
    params = await _oauth_params(request)
    grant = params.get("grant_type", "")
    creds = decode_basic(request.headers.get("authorization"))
    if creds is None and params.get("client_id"):
        creds = (params["client_id"], params.get("client_secret", ""))
    state.stats.count_token(creds[0] if creds else "unknown", grant or "none")
    if creds is None:
        raise OAuthError(401, "unauthorized", "Full authentication is required to access this resource")
    found = state.find_client(creds[0])
    if found is None or found[1].client_secret != creds[1]:
        raise OAuthError(401, "unauthorized", "Bad credentials")
    tenant, cred = found
    issuer = f"{base_url(request)}/oauth/token"
    if grant == "client_credentials":
        return _client_credentials(state, params, tenant.name, tenant.subtenants, cred, issuer)
    if grant == "refresh_token":
        return _refresh(state, params, cred.client_id, issuer)
    raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant or '(none)'}")


def _client_credentials(
    state: EmulatorState, params: dict[str, str], tenant: str, subtenants: tuple[str, ...], cred: Any, issuer: str
) -> Response:
    subtenant = None
    action = params.get("iam-action")
    if action is not None:
        if action != IMPERSONATION_ACTION:
            raise OAuthError(400, "invalid_request", f"Unsupported iam-action '{action}'")
        subtenant = params.get("subtenant")
        if not subtenant or subtenant not in subtenants:
            raise OAuthError(400, "invalid_request", f"Unknown subtenant '{subtenant}' of tenant '{tenant}'")
        if not cred.impersonation:
            raise OAuthError(403, "access_denied", "This client may not impersonate subtenants")
    token, claims = state.tokens.issue(
        client_id=cred.client_id,
        tenant=tenant,
        scopes=cred.scopes,
        grant_type="client_credentials",
        issuer=issuer,
        subtenant=subtenant,
    )
    body = _token_body(token, claims, claims["exp"] - claims["iat"])
    if subtenant:
        body["subtenant"] = subtenant
    return json_response(body)


def _refresh(state: EmulatorState, params: dict[str, str], client_id: str, issuer: str) -> Response:
    value = params.get("refresh_token")
    if not value:
        raise OAuthError(400, "invalid_request", "Missing parameter: refresh_token")
    grant = state.tokens.use_refresh_token(value, client_id)
    return json_response(
        issue_user_tokens(state, client_id, grant.tenant, grant.scopes, grant.user_name, issuer, "refresh_token")
    )


def issue_user_tokens(
    state: EmulatorState,
    client_id: str,
    tenant: str,
    scopes: tuple[str, ...],
    user_name: str | None,
    issuer: str,
    grant_type: str,
) -> dict[str, Any]:
    """Issue an access token plus a new (rotated) refresh token, as the code/refresh flows do.

    :param state: emulator state
    :param client_id: the OAuth client
    :param tenant: tenant of the tokens
    :param scopes: scopes of the access token
    :param user_name: the user, if any
    :param issuer: ``iss`` claim
    :param grant_type: grant recorded in the token
    """
    token, claims = state.tokens.issue(
        client_id=client_id,
        tenant=tenant,
        scopes=scopes,
        grant_type=grant_type,
        issuer=issuer,
        user_name=user_name,
    )
    body = _token_body(token, claims, claims["exp"] - claims["iat"])
    body["refresh_token"] = state.tokens.new_refresh_token(client_id, tenant, scopes, user_name)
    return body


@router.get("/token_keys")
async def token_keys(request: Request) -> Response:
    """Return the public signing keys (no credentials needed, §2.4)."""
    return json_response(emulator_state(request).tokens.token_keys())


@router.post("/api/technicaltokenmanager/v3/oauth/token")
async def app_token(request: Request) -> Response:
    """Issue a token for app credentials (Token Management Service, §2.2)."""
    state = emulator_state(request)
    header = request.headers.get("x-space-auth-key") or request.headers.get("authorization")
    creds = decode_basic(header)
    state.stats.count_token(creds[0] if creds else "unknown", "app_credentials")
    if creds is None:
        raise OAuthError(401, "unauthorized", "X-SPACE-AUTH-KEY: Basic base64(client_id:client_secret) is required")
    app = state.find_app(creds[0])
    if app is None or app.client_secret != creds[1]:
        raise OAuthError(401, "unauthorized", "Bad credentials")
    fields = await _app_fields(request)
    expected = {
        "appName": app.app_name,
        "appVersion": app.app_version,
        "hostTenant": app.host_tenant,
        "userTenant": app.user_tenant,
    }
    for key, value in expected.items():
        if fields[key] != value:
            raise OAuthError(403, "access_denied", f"{key} '{fields[key]}' does not match these app credentials")
    token, claims = state.tokens.issue(
        client_id=app.client_id,
        tenant=app.user_tenant,
        scopes=app.scopes,
        grant_type="client_credentials",
        issuer=f"{base_url(request)}/oauth/token",
    )
    return json_response(_token_body(token, claims, claims["exp"] - claims["iat"]))


async def _app_fields(request: Request) -> dict[str, str]:
    query = {k: v for k, v in request.query_params.items() if k in (*APP_FIELDS, "grant_type")}
    raw = await request.body()
    body: Any = {}
    if raw.strip():
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise OAuthError(400, "invalid_request", f"Body is not valid JSON: {exc.msg}") from exc
        if not isinstance(body, dict):
            raise OAuthError(400, "invalid_request", "Body must be a JSON object")
    if query and body:
        raise OAuthError(400, "invalid_request", "Send the app fields either in the body or in the query, not both")
    fields = {**query, **body}
    grant = fields.get("grant_type")
    if grant is not None and grant != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")
    missing = [k for k in APP_FIELDS if not isinstance(fields.get(k), str) or not fields[k]]
    if missing:
        raise OAuthError(400, "invalid_request", f"Missing field(s): {', '.join(missing)}")
    return fields
