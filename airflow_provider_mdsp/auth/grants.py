"""Grants: one function per token endpoint, each sending exactly one HTTP request.

The functions take a ready ``requests.Session`` (TLS verification, CA bundle and proxies are set on
it by the client layer, which also wraps retries around these calls) and return a
:class:`~airflow_provider_mdsp.auth.access_token.Token`. Request shapes follow the Node SDK's auth classes and
the Siemens token docs.

Errors are typed and name the connection field to check; 429 and 5xx become the API errors of
:func:`airflow_provider_mdsp.exceptions.api_error`, retried as its ``RETRY_STATUSES`` table says.
No message ever holds a secret or token.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import urljoin, urlsplit

import requests

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.auth.access_token import Token, jwt_claims, number_or_none, scopes_from
from airflow_provider_mdsp.auth.credentials import (
    SUBTENANT_IAM_ACTION,
    AppCredentials,
    Credentials,
    RefreshTokenCredentials,
    TenantCredentials,
    UserTokenCredentials,
    basic_auth_value,
)
from airflow_provider_mdsp.exceptions import (
    MdspAuthError,
    MdspConnectionError,
    MdspResponseError,
    MdspTimeoutError,
    MdspTokenExpiredError,
    api_error,
    body_excerpt,
    parse_error_body,
    redact_url,
)

log = logging.getLogger(__name__)

#: Lifetime assumed when a token response has no usable ``expires_in``: technical tokens live
#: 30 min (the PIAM client-credentials example response says ``expires_in`` 1800).
DEFAULT_EXPIRES_IN: float = 1800.0

#: Lifetime assumed for a user token whose JWT has no readable ``exp`` (an opaque token): it is
#: re-checked after this long; the gateway stays the judge and answers 401 once it has expired.
USER_TOKEN_ASSUMED_LIFETIME: float = 1800.0

_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"

# Connection fields to check when the token endpoint rejects the credentials, per flow.
_FIELDS_TO_CHECK = {
    "tenant_credentials": "the client ID and secret (connection `login` and `password`) and `tenant`",
    "subtenant": "the client ID and secret (connection `login` and `password`), `tenant` and `sub_tenant`",
    "app_credentials": "the client ID and secret (connection `login` and `password`), `app_name`, "
    "`app_version`, `host_tenant` and `user_tenant` (app credentials only work for the app version they "
    "were issued for)",
    "refresh_token": "the client ID and secret (connection `login` and `password`) and `refresh_token` "
    "(refresh tokens expire after 12 h)",
}


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    # Passed as ``auth=`` so a bearer ``auth`` set on the shared session cannot overwrite the
    # token request's own Authorization header.
    return request


def parse_token_response(body: Mapping[str, Any], *, at: float) -> Token:
    """Build a :class:`Token` from a token endpoint's JSON response.

    ``expires_in`` defaults to :data:`DEFAULT_EXPIRES_IN` when absent, not a number, or not positive;
    ``scope`` may be a space-separated string or a list, and falls back to the JWT's ``scope``
    claim; ``subtenant`` falls back to the JWT claim (Siemens developer docs, subtenant how-to).

    :param body: the decoded JSON object.
    :param at: when the request was sent; the expiry is counted from here, so it errs early.
    """
    access_token = body.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        keys = sorted(str(k) for k in body)
        raise MdspResponseError(f"The token response has no access_token (it has the keys {keys}).")
    expires_in = number_or_none(body.get("expires_in"))
    if expires_in is None or expires_in <= 0:
        expires_in = DEFAULT_EXPIRES_IN
    claims = jwt_claims(access_token)
    scope = body.get("scope") if body.get("scope") is not None else claims.get("scope")
    refresh = body.get("refresh_token")
    subtenant = body.get("subtenant") or claims.get("subtenant")
    return Token(
        access_token=access_token,
        expires_at=at + expires_in,
        issued_at=at,
        scopes=scopes_from(scope),
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        subtenant=str(subtenant) if subtenant else None,
    )


def fetch_tenant_token(session: requests.Session, creds: TenantCredentials, *, timeout: Any) -> Token:
    """Get a token with tenant service credentials (``client_credentials`` at PIAM, Node SDK ``credential-auth.ts``).

    With ``creds.sub_tenant`` the request adds ``iam-action`` (:data:`SUBTENANT_IAM_ACTION` unless
    ``creds.iam_action`` overrides it) and ``subtenant`` to impersonate it, and the token must name
    that subtenant (its ``subtenant`` field or claim, Siemens docs, subtenant how-to): a token of the tenant
    itself would read and write the tenant's data instead of the subtenant's.

    :raises MdspAuthError: the token does not name the subtenant asked for.

    :param session: the session to send through (TLS, CA bundle and proxies already set).
    :param creds: the tenant credentials.
    :param timeout: the ``requests`` timeout, seconds or ``(connect, read)``.
    """
    form = {"grant_type": "client_credentials"}
    if creds.sub_tenant:
        form.update({"iam-action": creds.iam_action or SUBTENANT_IAM_ACTION, "subtenant": creds.sub_tenant})
    headers = {"Authorization": "Basic " + basic_auth_value(creds.client_id, creds.client_secret)}
    headers.update({"Content-Type": _FORM, "Accept": _JSON})
    token = _request_token(session, creds, creds.token_url, headers, timeout, data=form)
    if creds.sub_tenant and token.subtenant != creds.sub_tenant:
        named = f"names subtenant '{token.subtenant}'" if token.subtenant else "names no subtenant"
        raise MdspAuthError(
            f"Asked to impersonate subtenant '{creds.sub_tenant}', but the token from {redact_url(creds.token_url)} "
            f"{named}, so it would reach other data. Check connection field 'sub_tenant', and 'iam_action' "
            f"(sent: '{form['iam-action']}')",
            code="subtenant_not_impersonated",
        )
    return token


def fetch_app_token(session: requests.Session, creds: AppCredentials, *, timeout: Any) -> Token:
    """Get a token with app credentials at the Token Management Service (Node SDK ``tokenmanager-auth.ts``).

    The body carries no ``grant_type``: Node and the official samples leave it out (Node SDK
    ``tokenmanager-auth.ts``, Siemens Token Manager samples).

    :param session: the session to send through (TLS, CA bundle and proxies already set).
    :param creds: the app credentials.
    :param timeout: the ``requests`` timeout, seconds or ``(connect, read)``.
    """
    headers = {"X-SPACE-AUTH-KEY": "Basic " + basic_auth_value(creds.client_id, creds.client_secret)}
    headers.update({"Content-Type": _JSON, "Accept": _JSON})
    body = {
        "appName": creds.app_name,
        "appVersion": creds.app_version,
        "hostTenant": creds.host_tenant,
        "userTenant": creds.user_tenant,
    }
    return _request_token(session, creds, creds.token_url, headers, timeout, json=body)


def refresh_access_token(
    session: requests.Session, creds: RefreshTokenCredentials, refresh_token: str, *, timeout: Any
) -> Token:
    """Exchange a refresh token for a new access token (``grant_type=refresh_token``; refresh tokens last 12 h).

    The refresh token goes in the form body, not the query string as in Siemens' mobile-app guide, so it never
    appears in
    a proxy's access log. A rotated refresh token in the response is kept on the returned token;
    otherwise the one sent is kept.

    :param session: the session to send through (TLS, CA bundle and proxies already set).
    :param creds: the client ID and secret and the token URL.
    :param refresh_token: the newest refresh token (the rotated one, once there is one).
    :param timeout: the ``requests`` timeout, seconds or ``(connect, read)``.
    """
    headers = {"Authorization": "Basic " + basic_auth_value(creds.client_id, creds.client_secret)}
    headers.update({"Content-Type": _FORM, "Accept": _JSON})
    if creds.tenant:
        headers["tenant"] = creds.tenant
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    token = _request_token(session, creds, creds.token_url, headers, timeout, data=form, extra_secrets=(refresh_token,))
    if token.refresh_token is None:
        token = dataclasses.replace(token, refresh_token=refresh_token)
    return token


def user_token(creds: UserTokenCredentials) -> Token:
    """Wrap a passed-through user token, reading ``exp``/``iat``/``scope`` from its JWT unverified.

    A token without a readable ``exp`` is assumed valid for :data:`USER_TOKEN_ASSUMED_LIFETIME`
    from now; the gateway still rejects it once it has really expired.

    :param creds: the user token.
    :raises MdspTokenExpiredError: the token has expired.
    """
    at = timeutil.epoch()
    claims = jwt_claims(creds.token)
    exp = number_or_none(claims.get("exp"))
    iat = number_or_none(claims.get("iat"))
    if exp is None:
        exp, iat = at + USER_TOKEN_ASSUMED_LIFETIME, at
    elif exp <= at:
        raise MdspTokenExpiredError(
            f"The user token in connection field `user_token` expired {int(at - exp)} s ago and cannot be "
            "renewed here; replace it with a fresh token.",
            code="token_expired",
        )
    subtenant = claims.get("subtenant")
    return Token(
        access_token=creds.token,
        expires_at=exp,
        issued_at=iat if iat is not None and iat < exp else at,
        scopes=scopes_from(claims.get("scope")),
        subtenant=str(subtenant) if subtenant else None,
    )


def obtain_token(
    session: requests.Session, creds: Credentials, *, timeout: Any, previous: Token | None = None
) -> Token:
    """Get a new token for any credential type; the one entry point the client layer calls.

    :param session: the session to send through (TLS, CA bundle and proxies already set).
    :param creds: the credentials; the flow is chosen by their type.
    :param timeout: the ``requests`` timeout, seconds or ``(connect, read)``.
    :param previous: the last token; the refresh flow sends its (rotated) refresh token.
    """
    if isinstance(creds, TenantCredentials):
        return fetch_tenant_token(session, creds, timeout=timeout)
    if isinstance(creds, AppCredentials):
        return fetch_app_token(session, creds, timeout=timeout)
    if isinstance(creds, RefreshTokenCredentials):
        refresh = previous.refresh_token if previous and previous.refresh_token else creds.refresh_token
        return refresh_access_token(session, creds, refresh, timeout=timeout)
    if isinstance(creds, UserTokenCredentials):
        return user_token(creds)
    raise TypeError(f"Unsupported credentials type {type(creds).__name__}")


def _request_token(
    session: requests.Session,
    creds: Credentials,
    url: str,
    headers: dict[str, str],
    timeout: Any,
    *,
    extra_secrets: tuple[str, ...] = (),
    **body: Any,
) -> Token:
    """Send one token request and turn the response into a Token or a typed error."""
    host = urlsplit(url).netloc.rpartition("@")[2] or url  # with its port: a wrong port is a common mistake
    secrets = (*creds.secrets, *extra_secrets)
    at = timeutil.epoch()
    log.debug("Requesting a token from %s (%s flow)", host, creds.flow)
    try:
        # Never follow a redirect: it would carry the client secret, X-SPACE-AUTH-KEY or refresh
        # token to whatever host the token endpoint names.
        response = session.post(
            url, headers=headers, timeout=timeout, auth=_keep_headers, allow_redirects=False, **body
        )
    except requests.Timeout as exc:
        raise MdspTimeoutError(f"The token request to {host} timed out ({type(exc).__name__}).") from None
    except requests.RequestException as exc:
        raise MdspConnectionError(f"Could not reach the token endpoint {host}: {_network_hint(exc)}") from None
    if 300 <= response.status_code < 400:
        response.close()
        raise _redirect_error(response, host, creds)
    if response.status_code >= 400:
        _raise_for_status(response, creds, url, host, secrets)
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        excerpt = body_excerpt(scrub(response.text, secrets))
        raise MdspResponseError(
            f"The token endpoint {host} answered HTTP {response.status_code} without a JSON object "
            f"(Content-Type {response.headers.get('Content-Type')!r}); is the token URL right? "
            f"Body starts: {excerpt[:200]!r}",
            status=response.status_code,
            body_excerpt=excerpt,
        )
    token = parse_token_response(payload, at=at)
    log.debug("Obtained a token from %s valid for %d s", host, int(token.lifetime))
    return token


def _redirect_error(response: requests.Response, host: str, creds: Credentials) -> MdspAuthError:
    target = urlsplit(urljoin(response.url or "", response.headers.get("Location") or ""))
    where = target.hostname or "an unnamed location"
    field = "host" if isinstance(creds, AppCredentials) else "auth_url"
    return MdspAuthError(
        f"The token endpoint {host} answered HTTP {response.status_code}, a redirect to {where}; token requests "
        f"never follow redirects, so no credential was sent there. Check connection field '{field}' "
        "(it must name the token endpoint itself)"
    )


def _network_hint(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.exceptions.SSLError):
        return (
            "TLS verification failed (SSLError); set connection field 'ca_bundle' to your organisation's "
            "CA bundle, or check 'proxy'."
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        return "the proxy refused or failed the request (ProxyError); check connection field 'proxy'."
    return f"{type(exc).__name__}; check connection fields 'host', 'auth_url' and 'proxy', and the network."


def _raise_for_status(
    response: requests.Response, creds: Credentials, url: str, host: str, secrets: tuple[str, ...]
) -> NoReturn:
    """Raise the typed error for a token endpoint's error status; every text is scrubbed."""
    status = response.status_code
    text = scrub(response.text, secrets)
    if status == 429 or status >= 500:
        raise api_error(status, text, response.headers, method="POST", url=url, reason=response.reason or "")
    code, message, _ = parse_error_body(text)
    detail = f" [{code}]" if code else ""
    detail += f": {message[:200]}" if message else ""
    url_field = "the connection field `auth_url`"
    if creds.flow == "app_credentials":
        url_field = "the connection field `host` (the Token Management Service URL is derived from it)"
    if status in (400, 401):
        msg = f"The token endpoint {host} rejected the credentials (HTTP {status}{detail}). Check "
        msg += _FIELDS_TO_CHECK.get(creds.flow, "the connection's credentials") + "."
    elif status == 403 and creds.flow == "app_credentials":
        # The Token Management Service answers 403 when the app name/version or tenants do not
        # match the credentials (e.g. an unknown appVersion), long before any role matters.
        msg = f"The Token Management Service {host} refused the request (HTTP 403{detail}). Check "
        msg += _FIELDS_TO_CHECK["app_credentials"] + "; roles matter only once these match."
    elif status == 403:
        msg = (
            f"The token endpoint {host} refused the request (HTTP 403{detail}): the credentials lack a "
            "role or scope for this"
            + (" subtenant impersonation" if creds.flow == "subtenant" else " token")
            + "; ask the tenant admin to grant it."
        )
    elif status == 404:
        msg = f"The token URL {redact_url(url)} was not found (HTTP 404); check {url_field}."
    else:
        msg = f"The token endpoint {host} answered HTTP {status}{detail}; check {url_field}."
    raise MdspAuthError(msg, status=status, code=code)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Return ``text`` with every secret replaced by ``***`` (a server may echo what it was sent).

    :param text: any text bound for a message or log.
    :param secrets: the strings to hide.
    """
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text
