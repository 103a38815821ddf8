"""``MdspHook``: an Airflow Connection of type ``mdsp`` turned into a ready Insights Hub client."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.sdk import BaseHook

from airflow_provider_mdsp.auth.credentials import RefreshTokenCredentials
from airflow_provider_mdsp.exceptions import MdspApiError, MdspConfigError, MdspError, MdspForbiddenError
from airflow_provider_mdsp.get_provider_info import AUTH_TYPE_WORDS, CONN_FIELDS, UI_FIELD_BEHAVIOUR
from airflow_provider_mdsp.hooks.connection import ConnectionConfig, config_from_connection
from airflow_provider_mdsp.params import PAGING_STYLES

if TYPE_CHECKING:
    from airflow_provider_mdsp.auth import Token
    from airflow_provider_mdsp.client import MdspClient

#: Paging styles accepted by :meth:`MdspHook.iter_pages`.

#: Logged once per process when a task fetches a token that other tasks of its host could have shared.
SHARING_HINT = (
    "Fetched a token for connection %r in this task process; to share one token among the tasks of a worker "
    'host, set "shared_cache": true in the connection extras (docs/cluster.md#tokens-on-many-workers).'
)
_sharing_hint_logged = False

#: The read used by the connection test: cheap, read-only, present on every tenant.
TEST_ENDPOINT = "/api/assetmanagement/v3/assets/root"


#: The id Airflow gives the connection under test: ``get_random_string()`` (8 letters and digits) in
#: ``POST /api/v2/connections/test`` (airflow/api_fastapi/core_api/routes/public/connections.py,
#: 3.3.2), exported as ``AIRFLOW_CONN_<ID>`` for the test only. It means nothing to the user. It may
#: hold no capital letter (about 1 test in 75), so a connection of the user's own that is defined in an
#: ``AIRFLOW_CONN_*`` variable and named with exactly 8 letters and digits is called "The connection" too.
_TRANSIENT_ID = re.compile(r"[A-Za-z0-9]{8}")


def connection_subject(conn_id: str) -> str:
    """Return how messages name the connection: its id, or "The connection" for Airflow's temporary one.

    :param conn_id: the hook's connection id.
    """
    transient = _TRANSIENT_ID.fullmatch(conn_id) and f"AIRFLOW_CONN_{conn_id.upper()}" in os.environ
    return "The connection" if transient else f"Connection {conn_id!r}"


def describe_auth(config: ConnectionConfig) -> str:
    """Say which credentials a connection uses, in the connections guide's words.

    :param config: the connection's validated configuration.
    """
    flow = config.credentials.flow
    words = AUTH_TYPE_WORDS.get(flow, AUTH_TYPE_WORDS["tenant_credentials"])
    text = f"{words}, tenant {config.tenant}" if config.tenant else words
    sub_tenant = getattr(config.credentials, "sub_tenant", None)
    return f"{text}, impersonating subtenant {sub_tenant}" if sub_tenant else text


def _mask(value: str | None) -> None:
    """Register a secret with Airflow's log masker so it never reaches a task log."""
    if not value:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - Airflow 3.1 keeps it in the core package
        from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef]
    mask_secret(value)


def mask_token(token: Token) -> None:
    """Register a freshly obtained access token (and rotated refresh token) with the masker."""
    _mask(token.access_token)
    _mask(token.refresh_token)


def with_sub_tenant(config: ConnectionConfig, sub_tenant: str, conn_id: str) -> ConnectionConfig:
    """Return the connection's settings with its credentials impersonating ``sub_tenant`` (subtenant impersonation).

    :param config: the connection's settings.
    :param sub_tenant: the subtenant id.
    :param conn_id: the connection id, for the error.
    :raises MdspConfigError: the connection's auth type cannot impersonate.
    """
    from airflow_provider_mdsp.auth.credentials import TenantCredentials

    if not isinstance(config.credentials, TenantCredentials):
        raise MdspConfigError(
            f"sub_tenant needs a connection with auth_type tenant_credentials; {conn_id!r} uses "
            f"{config.credentials.flow}",
            field="sub_tenant",
        )
    return dataclasses.replace(config, credentials=dataclasses.replace(config.credentials, sub_tenant=sub_tenant))


class MdspHook(BaseHook):
    """Talk to Siemens Insights Hub through an Airflow Connection of type ``mdsp``.

    Tokens are obtained for the connection's auth type, cached per process (and optionally per
    worker host), renewed before they expire and registered with the secret masker. Every call has
    timeouts and retries; errors are typed (:mod:`airflow_provider_mdsp.exceptions`).

    :param mdsp_conn_id: the Airflow Connection id.
    :param sub_tenant: impersonate this subtenant instead of the connection's ``sub_tenant``
        (``tenant_credentials`` only): one connection serves every subtenant, e.g. one mapped task each.
    """

    conn_name_attr = "mdsp_conn_id"
    default_conn_name = "mdsp_default"
    conn_type = "mdsp"
    hook_name = "Siemens Insights Hub"

    def __init__(self, mdsp_conn_id: str = default_conn_name, *, sub_tenant: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mdsp_conn_id = mdsp_conn_id
        self.sub_tenant = sub_tenant or None

    @cached_property
    def config(self) -> ConnectionConfig:
        """The connection's validated settings and credentials (read once per hook)."""
        conn = self.get_connection(self.mdsp_conn_id)
        try:
            # The raw text, not ``extra_dejson``: that registers every extra value with the log masker,
            # which warns about each short non-secret one (a tenant like ``demo``).
            config = config_from_connection(conn.host, conn.login, conn.password, conn.extra)
        except MdspConfigError as exc:
            raise MdspConfigError(f"{connection_subject(self.mdsp_conn_id)}: {exc}", field=exc.field) from None
        if self.sub_tenant:
            config = with_sub_tenant(config, self.sub_tenant, self.mdsp_conn_id)
        for secret in config.credentials.secrets:
            _mask(secret)
        # The masker hides extras by key name ("token", "secret" …), and "proxy" is not one of them.
        _mask(urlsplit(config.settings.proxy or "").password)
        return config

    def get_conn(self) -> MdspClient:
        """Return the hook's client (built once; shares the process-wide token cache)."""
        return self.client

    @cached_property
    def client(self) -> MdspClient:
        """The Insights Hub client for this connection."""
        from airflow_provider_mdsp.client import MdspClient
        from airflow_provider_mdsp.client.token_fetch import token_provider_for

        config = self.config
        shared_refresh = None
        if isinstance(config.credentials, RefreshTokenCredentials):
            from airflow_provider_mdsp.hooks.refresh_store import shared_refresh_token

            shared_refresh = shared_refresh_token(self.mdsp_conn_id, config.credentials.refresh_token)
        tokens = token_provider_for(
            config.settings,
            config.credentials,
            shared_cache=config.shared_cache,
            on_new_token=self._on_new_token,
            shared_refresh=shared_refresh,
        )
        return MdspClient.create(config.settings, tokens)

    def close(self) -> None:
        """Close the client's connections, if the hook built a client (a trigger closes its hook when it ends).

        The hook stays usable: its next call builds a new client.
        """
        client = self.__dict__.pop("client", None)  # never build one just to close it
        if client is not None:
            client.close()

    def _on_new_token(self, token: Token) -> None:
        """Mask a new token; when each task process fetches its own, say once how to share them."""
        mask_token(token)
        global _sharing_hint_logged
        if self.config.shared_cache or self.config.credentials.flow == "user_token" or _sharing_hint_logged:
            return
        _sharing_hint_logged = True
        self.log.info(SHARING_HINT, self.mdsp_conn_id)

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Call any Insights Hub endpoint and return its parsed JSON body (``None`` when empty).

        :param method: HTTP method.
        :param endpoint: path under the gateway, e.g. ``/api/assetmanagement/v3/assets``.
        :param params: query parameters.
        :param json: JSON body.
        :param headers: extra headers, e.g. ``If-Match``.
        :param idempotent: whether a retry after the server may have acted is harmless
            (default: by method; POST is not).
        """
        return self.client.request_json(
            method, endpoint, params=params, json=json, headers=headers, idempotent=idempotent
        )

    def iter_pages(
        self,
        endpoint: str,
        *,
        paging: str = "spring",
        params: Mapping[str, Any] | None = None,
        embedded_key: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[Any]]:
        """Yield the pages of any paged GET endpoint, one list of items at a time.

        :param endpoint: path under the gateway.
        :param paging: ``spring`` (Asset/Event Management), ``link`` (time series ``Link`` header),
            ``scim`` (Identity), ``offset`` (IoT File search) or ``next_record`` (TS Bulk read).
        :param params: query parameters.
        :param embedded_key: for ``spring``: the key under ``_embedded``; defaults to the last path
            segment (``assets``, ``events`` …).
        :param page_size: items per page, where the style has one.
        """
        from airflow_provider_mdsp.client import pagination

        transport = self.client.transport
        if paging == "spring":
            key = embedded_key or endpoint.rstrip("/").rsplit("/", 1)[-1]
            # Event Management pages hold at most 100 items (Node SDK ``GetEvents``); Asset Management recommends 200.
            default = 100 if "/eventmanagement/" in endpoint else 200
            return pagination.iter_spring_pages(transport, endpoint, key, params=params, size=page_size or default)
        if paging == "link":
            return pagination.iter_link_pages(transport, endpoint, params=params)
        if paging == "scim":
            return pagination.iter_scim_pages(transport, endpoint, params=params, count=page_size or 100)
        if paging == "offset":
            return pagination.iter_offset_pages(
                transport, endpoint, params=params, limit=page_size or pagination.MAX_FILE_SEARCH_LIMIT
            )
        if paging == "next_record":
            return pagination.iter_next_record_pages(transport, endpoint, params=params)
        raise MdspConfigError(f"paging must be one of {', '.join(PAGING_STYLES)}, not {paging!r}", field="paging")

    def test_connection(self) -> tuple[bool, str]:
        """Fetch a token and make one cheap read-only call; return ``(ok, message a user can act on)``.

        The message names the connection (not Airflow's temporary id for a test from the UI), the auth
        type in the guide's words and the subtenant when impersonating; it is also logged, since
        ``airflow connections test`` prints only "Connection success!".
        """
        ok, message = self._test()
        self.log.info("Connection test: %s", message)
        return ok, message

    def _test(self) -> tuple[bool, str]:
        try:
            return self._test_connection()
        except Exception as exc:  # the form shows the result; it must never see a traceback
            return False, f"The connection test failed unexpectedly ({type(exc).__name__}); check the connection fields"

    def _test_connection(self) -> tuple[bool, str]:
        try:
            config = self.config
        except MdspConfigError as exc:
            return False, str(exc)
        subject = f"{connection_subject(self.mdsp_conn_id)} ({describe_auth(config)})"
        try:
            token = self.client.transport.tokens.get_token()
        except MdspError as exc:
            return False, f"{subject} could not obtain a token: {exc}"
        minutes = max(int(token.expires_in() // 60), 0)
        got = f"{subject}: token obtained ({len(token.scopes)} scopes, valid {minutes} min)"
        try:
            self.client.request_json("GET", TEST_ENDPOINT)
        except MdspForbiddenError:
            return True, (
                f"{got}. Reading the root asset was refused (403): the credentials lack an Asset Management "
                "read role, needed only by the asset operators."
            )
        except MdspApiError as exc:
            return False, f"{got}, but GET {TEST_ENDPOINT} failed: {exc}"
        except MdspError as exc:
            return False, f"{got}, but the gateway could not be used: {exc}"
        return True, f"{got}; the gateway answered a read of the root asset."

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Return the form behaviour for Airflow versions that read it from the hook (before 3.2)."""
        return {
            "hidden_fields": UI_FIELD_BEHAVIOUR["hidden-fields"],
            "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
            "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Return form widgets for Airflow versions before 3.2 (3.2+ reads ``conn-fields`` instead)."""
        try:
            from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
            from wtforms import StringField
        except ImportError:  # Airflow 3.2+ without the FAB UI: the declarative form is used
            return {}
        widgets = {}
        for name, spec in CONN_FIELDS.items():
            secret = spec["schema"].get("format") == "password"
            widget = BS3PasswordFieldWidget() if secret else BS3TextFieldWidget()
            widgets[f"extra__mdsp__{name}"] = StringField(
                spec["label"], widget=widget, description=spec.get("description", "")
            )
        return widgets
