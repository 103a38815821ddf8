"""Turn the fields of an ``mdsp`` Airflow Connection into validated client settings and credentials.

Pure functions over plain values, so every rule is tested without Airflow or a network, and every
mistake is reported before the first request: the message names the connection field and the fix,
and never echoes a secret.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_mdsp.auth import (
    AppCredentials,
    Credentials,
    RefreshTokenCredentials,
    TenantCredentials,
    UserTokenCredentials,
    piam_token_url,
    tms_token_url,
)
from airflow_provider_mdsp.client.settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_TIME,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_RESPONSE_TIMEOUT,
    MAX_RESPONSE_MB,
    MAX_RETRIES_LIMIT,
    MAX_SECONDS,
    ClientSettings,
    normalize_gateway_url,
)
from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.get_provider_info import AUTH_TYPES, CONN_FIELDS

#: App credential client IDs look like ``{hostTenant}-{appName}-{appVersion}[-suffix]``
#: (mindsphere/python-code-snippets, Authentication/README.md); used to fill in missing app fields.
_APP_CLIENT_ID = re.compile(r"^(?P<host>[a-z0-9]+)-(?P<app>.+?)-(?P<version>\d+\.\d+\.\d+)(?:-.+)?$")
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}
#: What Airflow's UI and API show in place of a value it hides; saved back, it is never the real value.
AIRFLOW_MASK = "***"
#: Extra fields renamed so that Airflow's masker (which hides any key containing "token") leaves them
#: readable; an old name is answered with its new one.
RENAMED_FIELDS = {"token_url": "auth_url", "shared_token_cache": "shared_cache"}


@dataclass(frozen=True)
class ConnectionConfig:
    """Everything a client needs, read and checked from one Airflow Connection.

    :param settings: gateway, timeouts, TLS, proxy, retries.
    :param credentials: the credentials of the chosen auth type.
    :param tenant: the tenant the data belongs to (user tenant for app credentials), if known.
    :param shared_cache: share tokens between processes on one worker host.
    """

    settings: ClientSettings
    credentials: Credentials
    tenant: str | None
    shared_cache: bool = False


def parse_extra(raw: Any) -> dict[str, Any]:
    """Return a connection's ``extra`` as a dict, refusing every other shape with the field named.

    Airflow turns unparsable JSON into ``{}`` silently, and a list, number, ``true`` or a JSON
    object encoded twice (a string) would otherwise fail deep inside with ``AttributeError``.

    :param raw: ``Connection.extra`` as stored (JSON text), or an already decoded value.
    :raises MdspConfigError: ``extra`` is not a JSON object; the message never shows its content.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            raise MdspConfigError(
                'Connection field \'extra\' is not valid JSON; it must be a JSON object like {"tenant": "acme"}',
                field="extra",
            ) from None
    if isinstance(value, Mapping):
        return dict(value)
    raise MdspConfigError(
        f'Connection field \'extra\' must be a JSON object like {{"tenant": "acme"}}, not {_shape(value)}',
        field="extra",
    )


def _shape(value: Any) -> str:
    """Name the JSON type of a value for a message, without showing the value."""
    if isinstance(value, str):
        return "a JSON string (was the object encoded twice?)"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a JSON list"
    return "null" if value is None else type(value).__name__


def read_extra(extra: Any) -> dict[str, Any]:
    """Return the extras under their plain names, accepting the ``extra__mdsp__`` legacy prefix.

    :param extra: ``Connection.extra_dejson`` (or the raw ``extra`` text).
    :raises MdspConfigError: ``extra`` is not a JSON object.
    """
    extra = parse_extra(extra)
    out: dict[str, Any] = {}
    for key, value in extra.items():
        name = key.removeprefix("extra__mdsp__")
        if value is not None and value != "":
            out[name] = value
    return out


def config_from_connection(
    host: str | None, login: str | None, password: str | None, extra: Mapping[str, Any] | str | None
) -> ConnectionConfig:
    """Validate a connection's fields and build its :class:`ConnectionConfig`.

    :param host: the Gateway URL field.
    :param login: the Client ID field.
    :param password: the Client Secret field.
    :param extra: the connection's extras (the form's other fields), as a dict or as stored (JSON text).
    :raises MdspConfigError: a field is missing or malformed; the message names it.
    """
    fields = read_extra(extra)
    _refuse_masked({"host": host, "login": login, "password": password, **fields})
    unknown = sorted(set(fields) - set(CONN_FIELDS))
    if unknown:
        renamed = [f"'{old}' is now '{RENAMED_FIELDS[old]}'" for old in unknown if old in RENAMED_FIELDS]
        hint = f" ({'; '.join(renamed)})" if renamed else ""
        raise MdspConfigError(
            f"Unknown connection extra field(s) {', '.join(unknown)}{hint}; known fields: {', '.join(CONN_FIELDS)}",
            field=unknown[0],
        )
    settings = _settings(host, fields)
    auth_type = _optional(fields, "auth_type") or "tenant_credentials"
    if auth_type not in AUTH_TYPES:
        raise MdspConfigError(
            f"Connection field 'auth_type' is {auth_type!r}; use one of: {', '.join(AUTH_TYPES)}",
            field="auth_type",
        )
    if "sub_tenant" in fields and not _optional(fields, "sub_tenant"):
        # A blank subtenant would silently read the parent tenant's data.
        raise MdspConfigError(
            "Connection field 'sub_tenant' is blank; clear it to use the tenant itself, or name the subtenant",
            field="sub_tenant",
        )
    if fields.get("sub_tenant") and auth_type != "tenant_credentials":
        raise MdspConfigError(
            "Connection field 'sub_tenant' only works with auth_type tenant_credentials", field="sub_tenant"
        )
    if _optional(fields, "iam_action") and not _optional(fields, "sub_tenant"):
        raise MdspConfigError(
            "Connection field 'iam_action' only applies to subtenant impersonation; set 'sub_tenant' too "
            "or leave 'iam_action' empty",
            field="iam_action",
        )
    builder = _BUILDERS[auth_type]
    credentials, tenant = builder(settings.gateway_url, login, password, fields)
    return ConnectionConfig(settings, credentials, tenant, _bool(fields, "shared_cache", False))


def _refuse_masked(values: Mapping[str, Any]) -> None:
    """Refuse Airflow's mask ``***`` as a field value: a form saved with a hidden default stores it."""
    for name, value in values.items():
        if isinstance(value, str) and value.strip() == AIRFLOW_MASK:
            raise MdspConfigError(
                f"Connection field '{name}' holds '{AIRFLOW_MASK}', the mask Airflow shows in place of a hidden "
                "value, not a value: edit the connection, type the real value (or clear the field) and save",
                field=name,
            )


def _settings(host: str | None, fields: Mapping[str, Any]) -> ClientSettings:
    verify: bool | str = _bool(fields, "verify_tls", True)
    ca_bundle = _optional(fields, "ca_bundle")
    if ca_bundle:
        if not os.path.isfile(str(ca_bundle)):
            raise MdspConfigError(
                f"Connection field 'ca_bundle' names {ca_bundle!r}, which is not a file on this worker",
                field="ca_bundle",
            )
        verify = str(ca_bundle)
    proxy = _optional(fields, "proxy")
    if proxy:
        parts = _split_url(proxy, "proxy")
        if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
            raise MdspConfigError("Connection field 'proxy' must be a URL like http://proxy.corp:3128", field="proxy")
    return ClientSettings(
        gateway_url=normalize_gateway_url(host or "", field="host"),
        connect_timeout=_number(fields, "connect_timeout", DEFAULT_CONNECT_TIMEOUT),
        read_timeout=_number(fields, "timeout", DEFAULT_READ_TIMEOUT),
        verify=verify,
        proxy=proxy,
        max_retries=int(_number(fields, "max_retries", DEFAULT_MAX_RETRIES, integer=True)),
        max_retry_wait=_number(fields, "max_retry_wait", DEFAULT_MAX_RETRY_WAIT),
        max_retry_time=_number(fields, "call_timeout", DEFAULT_MAX_RETRY_TIME),
        response_timeout=_number(fields, "response_timeout", DEFAULT_RESPONSE_TIMEOUT),
        max_response_bytes=int(
            _number(fields, "max_response_mb", DEFAULT_MAX_RESPONSE_BYTES / MIB, unit="MiB", limit=MAX_RESPONSE_MB)
            * MIB
        ),
        max_pages=_count(fields, "max_pages", DEFAULT_MAX_PAGES),
    )


def _tenant_credentials(
    gateway: str, login: str | None, password: str | None, fields: Mapping[str, Any]
) -> tuple[Credentials, str | None]:
    client_id, secret = _client_id(login, "tenant_credentials"), _secret(password, "tenant_credentials")
    tenant = _tenant(fields.get("tenant"), "tenant")
    creds = TenantCredentials(
        client_id=client_id,
        client_secret=secret,
        tenant=tenant,
        token_url=_token_url(fields) or piam_token_url(gateway, tenant),
        sub_tenant=_optional(fields, "sub_tenant"),
        iam_action=_optional(fields, "iam_action"),
    )
    return creds, tenant


def _app_credentials(
    gateway: str, login: str | None, password: str | None, fields: Mapping[str, Any]
) -> tuple[Credentials, str | None]:
    client_id, secret = _client_id(login, "app_credentials"), _secret(password, "app_credentials")
    guessed = _APP_CLIENT_ID.match(client_id)
    guess = guessed.groupdict() if guessed else {}
    values = {
        "app_name": _optional(fields, "app_name") or guess.get("app"),
        "app_version": _optional(fields, "app_version") or guess.get("version"),
        "host_tenant": _optional(fields, "host_tenant") or guess.get("host"),
    }
    for name, value in values.items():
        if not value:
            raise MdspConfigError(
                f"Connection field '{name}' is required for auth_type app_credentials (it could not be read "
                "from the client ID either); copy it from the app's page in Developer or Operator Cockpit",
                field=name,
            )
    host_tenant = _tenant(values["host_tenant"], "host_tenant")
    user_tenant = _tenant(_optional(fields, "user_tenant") or host_tenant, "user_tenant")
    creds = AppCredentials(
        client_id=client_id,
        client_secret=secret,
        app_name=str(values["app_name"]),
        app_version=str(values["app_version"]),
        host_tenant=host_tenant,
        user_tenant=user_tenant,
        token_url=_token_url(fields) or tms_token_url(gateway),
    )
    return creds, user_tenant


def _user_token(
    gateway: str, login: str | None, password: str | None, fields: Mapping[str, Any]
) -> tuple[Credentials, str | None]:
    token = _optional(fields, "user_token")
    if not token:
        raise MdspConfigError(
            "Connection field 'user_token' is empty: paste the user's bearer token (auth_type user_token)",
            field="user_token",
        )
    tenant = _optional(fields, "tenant")
    return UserTokenCredentials(token=token), tenant


def _refresh_token(
    gateway: str, login: str | None, password: str | None, fields: Mapping[str, Any]
) -> tuple[Credentials, str | None]:
    client_id, secret = _client_id(login, "refresh_token"), _secret(password, "refresh_token")
    refresh = _optional(fields, "refresh_token")
    if not refresh:
        raise MdspConfigError(
            "Connection field 'refresh_token' is empty: paste the refresh token from the authorization-code "
            "sign-in (valid 12 h)",
            field="refresh_token",
        )
    explicit = _token_url(fields)
    tenant = _optional(fields, "tenant")
    if not explicit:
        tenant = _tenant(tenant, "tenant")
    creds = RefreshTokenCredentials(
        client_id=client_id,
        client_secret=secret,
        refresh_token=refresh,
        token_url=explicit or piam_token_url(gateway, str(tenant)),
        tenant=tenant,
    )
    return creds, tenant


_BUILDERS = {
    "tenant_credentials": _tenant_credentials,
    "app_credentials": _app_credentials,
    "user_token": _user_token,
    "refresh_token": _refresh_token,
}


def _client_id(login: str | None, auth_type: str) -> str:
    value = (login or "").strip()
    if not value:
        raise MdspConfigError(
            f"Connection field 'login' (Client ID) is empty; auth_type {auth_type} needs the client ID",
            field="login",
        )
    return value


def _secret(password: str | None, auth_type: str) -> str:
    if not password:
        raise MdspConfigError(
            f"Connection field 'password' (Client Secret) is empty; auth_type {auth_type} needs the client secret",
            field="password",
        )
    return password


def _tenant(value: Any, field: str) -> str:
    if value is not None and not isinstance(value, str):
        raise MdspConfigError(f"Connection field '{field}' must be text, not {_shape(value)}", field=field)
    text = (value or "").strip()
    if not text:
        raise MdspConfigError(
            f"Connection field '{field}' is empty: set it to your tenant name (e.g. 'acme' for acme.eu1.mindsphere.io)",
            field=field,
        )
    if not _TENANT.match(text):
        raise MdspConfigError(
            f"Connection field '{field}' is {text!r}, which is not a tenant name (letters, digits, '-' or '_')",
            field=field,
        )
    return text


def _token_url(fields: Mapping[str, Any]) -> str | None:
    value = _optional(fields, "auth_url")
    if value is None:
        return None
    parts = _split_url(value, "auth_url")
    if parts.username or parts.password:
        raise MdspConfigError(
            "Connection field 'auth_url' must not contain a user or password: put the client ID in 'login' "
            "and the client secret in 'password'",
            field="auth_url",
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MdspConfigError(
            "Connection field 'auth_url' must be a URL like https://acme.piam.eu1.mindsphere.io/oauth/token",
            field="auth_url",
        )
    return value


def _split_url(value: str, field: str) -> Any:
    """``urlsplit`` that reports a malformed URL (``http://[::1``) as the field's error, not ``ValueError``."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise MdspConfigError(f"Connection field '{field}' is not a well-formed URL", field=field) from None
    return parts


def _optional(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MdspConfigError(f"Connection field '{name}' must be text, not {_shape(value)}", field=name)
    text = value.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        # A line break in a token or name would be sent as a broken HTTP header.
        raise MdspConfigError(f"Connection field '{name}' contains a line break or control character", field=name)
    return text or None


def _bool(fields: Mapping[str, Any], name: str, default: bool) -> bool:
    value = fields.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if not isinstance(value, str | int) or (isinstance(value, int) and value not in (0, 1)):
        raise MdspConfigError(f"Connection field '{name}' must be true or false, not {_shape(value)}", field=name)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise MdspConfigError(f"Connection field '{name}' must be true or false, not {value!r}", field=name)


MIB = 1024 * 1024
#: Largest ``max_pages`` accepted in a connection.
MAX_PAGES_LIMIT = 10_000_000


def _count(fields: Mapping[str, Any], name: str, default: int) -> int:
    """A whole number of at least 1 (pages), up to :data:`MAX_PAGES_LIMIT`."""
    value = fields.get(name)
    if value is None:
        return default
    try:
        if isinstance(value, bool) or not isinstance(value, str | int) or "." in str(value):
            raise TypeError
        number = int(value)
    except (TypeError, ValueError):
        raise MdspConfigError(f"Connection field '{name}' must be a whole number", field=name) from None
    if not 1 <= number <= MAX_PAGES_LIMIT:
        raise MdspConfigError(f"Connection field '{name}' must be from 1 to {MAX_PAGES_LIMIT}", field=name)
    return number


def _number(
    fields: Mapping[str, Any],
    name: str,
    default: float,
    *,
    integer: bool = False,
    unit: str = "seconds",
    limit: float = MAX_SECONDS,
) -> float:
    """Read a number field: a duration in seconds by default, a count (``integer``), or an amount of ``unit``."""
    value = fields.get(name)
    if value is None:
        return default
    kind = "a whole number" if integer else f"a number of {unit}"
    limit = MAX_RETRIES_LIMIT if integer else limit
    shown = repr(value) if isinstance(value, int | float) or len(str(value)) <= 20 else "a very long value"
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise TypeError
        number = float(value)
        if integer and (not math.isfinite(number) or number != int(number) or "." in str(value)):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise MdspConfigError(f"Connection field '{name}' must be {kind}, not {shown}", field=name) from None
    if not math.isfinite(number) or number < 0 or (not integer and number == 0) or number > limit:
        allowed = f"0 or a positive whole number up to {limit}" if integer else f"positive, at most {limit:.0f}"
        raise MdspConfigError(f"Connection field '{name}' must be {allowed}, not {shown}", field=name)
    return int(number) if integer else number
