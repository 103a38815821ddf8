"""Credentials: one small immutable type per token flow, plus the token URLs derived from a gateway.

Every type has ``flow`` (a short name), ``identity`` (a stable cache key that holds no readable
secret) and ``secrets`` (the strings to register with a log masker). Their reprs hide secrets.
Token flows and URLs follow the Node SDK (``credential-auth.ts``, ``tokenmanager-auth.ts``, ``utils.ts``
``getPiamUrl``) and the Siemens developer docs on tokens and subtenants.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import ClassVar, Union
from urllib.parse import urlsplit

from airflow_provider_mdsp.exceptions import MdspConfigError

#: Path of the Token Management Service token endpoint under the gateway (Node SDK ``tokenmanager-auth.ts``).
TMS_TOKEN_PATH = "/api/technicaltokenmanager/v3/oauth/token"  # noqa: S105 (a path, not a secret)


def basic_auth_value(client_id: str, client_secret: str) -> str:
    """Return ``base64(id:secret)`` as Insights Hub expects it after ``Basic``.

    The id and secret are joined as they are, like the Node SDK (``credential-auth.ts``), not
    form-encoded first as RFC 6749 §2.3.1 would have it.

    :param client_id: the client ID.
    :param client_secret: the client secret.
    """
    return base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")


# Error messages name the Airflow connection field to fix: the client ID is the connection's
# ``login`` and the client secret its ``password``; everything else is an extra of the same name.
def _require(value: str | None, field_name: str, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise MdspConfigError(f"{what} is missing: set the connection field `{field_name}`.", field=field_name)


def _require_url(value: str, field_name: str) -> None:
    _require(value, field_name, "The token URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MdspConfigError(
            f"The connection field `{field_name}` must be an http(s) URL such as "
            f"https://<tenant>.piam.eu1.mindsphere.io/oauth/token; got {value!r}.",
            field=field_name,
        )


def _identity(flow: str, public: dict[str, str | None], secrets: tuple[str, ...]) -> str:
    digest = hashlib.sha256("\0".join(secrets).encode()).hexdigest()
    return flow + ":" + json.dumps({**public, "secret_sha256": digest}, sort_keys=True, separators=(",", ":"))


def _repr(obj: object, public: dict[str, str | None], hidden: tuple[str, ...]) -> str:
    shown = [f"{k}={v!r}" for k, v in public.items()] + [f"{k}=<hidden>" for k in hidden]
    return f"{type(obj).__name__}({', '.join(shown)})"


#: ``iam-action`` form value asking PIAM to impersonate a subtenant. NOT CONFIRMED by any public
#: source: the parameters ``iam-action`` and ``subtenant`` are documented
#: (Siemens developer docs, subtenant how-to; the PIAM client-credentials grant reference), this value only
#: inferred from the official
#: token sample's scope ``iam-action.client_credentials.tenant-impersonation`` and a third-party
#: note. The connection extra ``iam_action`` overrides it. Impersonation needs tenant service
#: credentials issued by Siemens support; the docs call app credentials through the Token
#: Management Service, plus filtering, "the preferred approach".
SUBTENANT_IAM_ACTION = "client_credentials.tenant-impersonation"


class _ClientSecretCredentials:
    """What the credentials made of a client ID and secret share: cache identity, secrets to mask, repr.

    A subclass lists its non-secret fields in :meth:`_public` and any further secret fields in
    :attr:`_more_secrets`; all secrets are hashed into ``identity``, masked in logs and hidden in the repr.
    """

    client_id: str
    client_secret: str
    #: Secret fields besides ``client_secret``.
    _more_secrets: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        """Refuse a missing client ID or secret, naming the connection field (subclasses add theirs)."""
        _require(self.client_id, "login", "The client ID")
        _require(self.client_secret, "password", "The client secret")

    @property
    def flow(self) -> str:
        """The token flow's short name."""
        raise NotImplementedError

    def _public(self) -> dict[str, str | None]:
        raise NotImplementedError

    def _hidden(self) -> tuple[str, ...]:
        return ("client_secret", *self._more_secrets)

    @property
    def identity(self) -> str:
        """A stable cache key: flow, non-secret fields and a SHA-256 of the secrets."""
        return _identity(self.flow, self._public(), tuple(getattr(self, name) for name in self._hidden()))

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings to mask in logs: the secrets and the Basic (or ``X-SPACE-AUTH-KEY``) value built from the secret."""
        more = tuple(getattr(self, name) for name in self._more_secrets)
        return (self.client_secret, basic_auth_value(self.client_id, self.client_secret), *more)

    def __repr__(self) -> str:
        return _repr(self, self._public(), self._hidden())


@dataclass(frozen=True, repr=False)
class TenantCredentials(_ClientSecretCredentials):
    """Tenant service credentials or a technical user: ``client_credentials`` at the PIAM token URL.

    With ``sub_tenant`` set, the token impersonates that subtenant (Siemens developer docs, subtenant how-to).

    :param client_id: the service credentials' client ID.
    :param client_secret: the client secret.
    :param tenant: the tenant name, e.g. ``demo``.
    :param token_url: PIAM token URL, see :func:`piam_token_url`.
    :param sub_tenant: subtenant ID to impersonate, or ``None``.
    :param iam_action: ``iam-action`` value of the impersonation request; ``None`` for
        :data:`SUBTENANT_IAM_ACTION` (unconfirmed, so overridable).
    """

    client_id: str
    client_secret: str = field(repr=False)
    tenant: str
    token_url: str
    sub_tenant: str | None = None
    iam_action: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.tenant, "tenant", "The tenant")
        _require_url(self.token_url, "token_url")
        if self.sub_tenant is not None:
            _require(self.sub_tenant, "sub_tenant", "The subtenant")
        if self.iam_action is not None:
            _require(self.iam_action, "iam_action", "The iam-action value")

    def _public(self) -> dict[str, str | None]:
        public = {
            "client_id": self.client_id,
            "tenant": self.tenant,
            "token_url": self.token_url,
            "sub_tenant": self.sub_tenant,
        }
        if self.iam_action is not None:
            public["iam_action"] = self.iam_action
        return public

    @property
    def flow(self) -> str:
        """``subtenant`` when impersonating a subtenant, else ``tenant_credentials``."""
        return "subtenant" if self.sub_tenant else "tenant_credentials"


@dataclass(frozen=True, repr=False)
class AppCredentials(_ClientSecretCredentials):
    """App credentials exchanged at the Token Management Service (Node SDK ``tokenmanager-auth.ts``).

    :param client_id: the app credentials' client ID (``{hostTenant}-{appName}-{appVersion}…``).
    :param client_secret: the client secret.
    :param app_name: the app name, as registered in the Developer Cockpit.
    :param app_version: the app version the credentials were issued for.
    :param host_tenant: the tenant hosting the app.
    :param user_tenant: the tenant using it; the host tenant unless provisioned to a customer.
    :param token_url: Token Management Service URL, see :func:`tms_token_url`.
    """

    client_id: str
    client_secret: str = field(repr=False)
    app_name: str
    app_version: str
    host_tenant: str
    user_tenant: str
    token_url: str

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.app_name, "app_name", "The app name")
        _require(self.app_version, "app_version", "The app version")
        _require(self.host_tenant, "host_tenant", "The host tenant")
        _require(self.user_tenant, "user_tenant", "The user tenant")
        _require_url(self.token_url, "host")

    def _public(self) -> dict[str, str | None]:
        return {
            "client_id": self.client_id,
            "app_name": self.app_name,
            "app_version": self.app_version,
            "host_tenant": self.host_tenant,
            "user_tenant": self.user_tenant,
            "token_url": self.token_url,
        }

    @property
    def flow(self) -> str:
        """Always ``app_credentials``."""
        return "app_credentials"


@dataclass(frozen=True, repr=False)
class UserTokenCredentials:
    """A user's bearer token passed through unchanged; it cannot be renewed here (Node SDK ``user-auth.ts``).

    :param token: the JWT; a leading ``Bearer `` is stripped.
    """

    token: str = field(repr=False)

    def __post_init__(self) -> None:
        _require(self.token, "user_token", "The user token")
        token = re.sub(r"^bearer(?:\s+|$)", "", self.token.strip(), flags=re.IGNORECASE)
        _require(token, "user_token", "The user token")
        object.__setattr__(self, "token", token)

    @property
    def flow(self) -> str:
        """Always ``user_token``."""
        return "user_token"

    @property
    def identity(self) -> str:
        """A stable cache key: flow and a SHA-256 of the token."""
        return _identity(self.flow, {}, (self.token,))

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings to mask in logs: the token."""
        return (self.token,)

    def __repr__(self) -> str:
        return _repr(self, {}, ("token",))


@dataclass(frozen=True, repr=False)
class RefreshTokenCredentials(_ClientSecretCredentials):
    """A refresh token exchanged at the PIAM token URL with the app's client ID and secret (OAuth 2.0
    ``refresh_token`` grant).

    :param client_id: the client ID the refresh token was issued to.
    :param client_secret: the client secret.
    :param refresh_token: the refresh token (valid 12 h); rotated tokens replace it in memory.
    :param token_url: PIAM token URL, see :func:`piam_token_url`.
    :param tenant: the tenant, sent as the ``tenant`` header when given (as Siemens' mobile-app guide does for
    the code grant).
    """

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    token_url: str
    tenant: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.refresh_token, "refresh_token", "The refresh token")
        _require_url(self.token_url, "token_url")

    def _public(self) -> dict[str, str | None]:
        return {"client_id": self.client_id, "token_url": self.token_url, "tenant": self.tenant}

    _more_secrets = ("refresh_token",)

    @property
    def flow(self) -> str:
        """Always ``refresh_token``."""
        return "refresh_token"


#: Any of the credential types; :func:`airflow_provider_mdsp.auth.grants.obtain_token` dispatches on it.
Credentials = Union[TenantCredentials, AppCredentials, UserTokenCredentials, RefreshTokenCredentials]  # noqa: UP007


def _gateway_parts(gateway_url: str) -> tuple[str, str, str]:
    """Return ``(scheme, hostname, ":port" or "")`` of a gateway URL, or raise naming ``host``."""
    _require(gateway_url, "host", "The gateway URL")
    url = gateway_url.strip()
    parts = urlsplit(url if "://" in url else "https://" + url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MdspConfigError(
            f"The connection field `host` must be the gateway URL, e.g. https://gateway.eu1.mindsphere.io; "
            f"got {gateway_url!r}.",
            field="host",
        )
    port = f":{parts.port}" if parts.port else ""
    return parts.scheme, parts.hostname, port


def piam_token_url(gateway_url: str, tenant: str) -> str:
    """Return the tenant's PIAM token URL derived from the gateway URL.

    ``https://gateway.eu1.mindsphere.io`` becomes ``https://{tenant}.piam.eu1.mindsphere.io/oauth/token``:
    the host label ``gateway`` is replaced by ``{tenant}.piam`` (Node SDK utils.ts ``getPiamUrl``).

    Chosen behaviour, easy to change: when the first host label is not ``gateway`` (localhost, an IP
    address, the local emulator, a corporate reverse proxy) the token URL is ``{gateway origin}/oauth/token``,
    i.e. the token endpoint is assumed to be served by the same host. Set the connection field
    ``auth_url`` explicitly when that is not the case.

    :param gateway_url: the gateway URL (connection ``host``); ``https://`` is assumed when no scheme is given.
    :param tenant: the tenant name.
    """
    _require(tenant, "tenant", "The tenant")
    scheme, host, port = _gateway_parts(gateway_url)
    labels = host.split(".")
    if len(labels) > 1 and labels[0].lower() == "gateway":
        host = ".".join([tenant.strip(), "piam", *labels[1:]])
    return f"{scheme}://{host}{port}/oauth/token"


def token_keys_url(token_url: str) -> str:
    """Return the ``token_keys`` URL (the JWT signing keys) that belongs to a PIAM token URL (Node SDK
    ``auth-base.ts``).

    :param token_url: a token URL ending in ``/oauth/token``; otherwise its origin is used.
    """
    _require_url(token_url, "token_url")
    base = token_url.rstrip("/")
    if base.endswith("/oauth/token"):
        return base[: -len("/oauth/token")] + "/token_keys"
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}/token_keys"


def tms_token_url(gateway_url: str) -> str:
    """Return the Token Management Service token URL under the gateway (Node SDK ``tokenmanager-auth.ts``).

    :param gateway_url: the gateway URL (connection ``host``); ``https://`` is assumed when no scheme is given.
    """
    _gateway_parts(gateway_url)
    url = gateway_url.strip().rstrip("/")
    return (url if "://" in url else "https://" + url) + TMS_TOKEN_PATH
