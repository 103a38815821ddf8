"""How the client fetches tokens: one session like the API calls', retries, one provider per way of fetching.

Token requests have no side effects, so they are retried like idempotent calls (connection errors,
429, 502/503/504) and go through a session with the same TLS, CA bundle and proxy as the API calls
(Databricks' SDK once skipped the proxy for its token call). The process-wide
provider is keyed by the credentials and by :func:`fetch_key` of the settings and cache, and the
session is built on the first fetch only, so a hook that finds an existing provider builds nothing.
The whole path, connection to header: docs/dev/token-path.md.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import requests

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.auth import (
    Credentials,
    FileTokenCache,
    RefreshTokenCredentials,
    Token,
    TokenProvider,
    get_token_provider,
    obtain_token,
    refresh_access_token,
)
from airflow_provider_mdsp.auth.refreshstore import SharedRefreshToken
from airflow_provider_mdsp.client.deadline import Watchdog
from airflow_provider_mdsp.client.retry import make_retrying
from airflow_provider_mdsp.client.settings import ClientSettings
from airflow_provider_mdsp.client.transport import build_session
from airflow_provider_mdsp.exceptions import MdspConnectionError, MdspResponseError, MdspTimeoutError


def fetch_key(settings: ClientSettings, cache: FileTokenCache | None) -> Hashable:
    """Return what, besides the credentials, changes how a token is fetched.

    TLS verification or CA bundle, proxy, timeouts, retry limits, user agent, and the shared cache's
    directory. The gateway URL is left out: the token URL is part of the credentials.

    :param settings: the client settings.
    :param cache: the shared file cache, if any.
    """
    return (
        settings.verify,
        settings.proxy,
        settings.timeout,
        settings.max_retries,
        settings.max_retry_wait,
        settings.backoff_base,
        settings.max_retry_time,
        settings.response_timeout,
        settings.user_agent,
        cache.directory if cache is not None else None,
    )


def token_provider_for(
    settings: ClientSettings,
    credentials: Credentials,
    *,
    shared_cache: bool | FileTokenCache = False,
    on_new_token: Callable[[Token], None] | None = None,
    sleep: Callable[[float], None] = timeutil.sleep,
    shared_refresh: SharedRefreshToken | None = None,
) -> TokenProvider:
    """Return the process-wide token provider for these credentials and settings, creating it on first use.

    :param settings: network settings for the token endpoint (timeouts, TLS, proxy, retries).
    :param credentials: the credentials of one flow.
    :param shared_cache: ``True`` (default location) or a :class:`FileTokenCache` to share tokens
        between the processes of one worker host.
    :param on_new_token: called with each newly obtained token, e.g. to register it with a log masker.
    :param sleep: sleep between retries; defaults to the installed clock's.
    :param shared_refresh: for the refresh flow, where every host finds the newest rotated refresh
        token (see :mod:`airflow_provider_mdsp.auth.refreshstore`).
    """
    sessions: list[requests.Session] = []  # built on the first fetch, then reused

    def watched(request: Callable[[], Token]) -> Token:
        # Each token request has the same whole-response deadline as an API attempt, so a token
        # endpoint that trickles its answer holds the provider's lock (and the threads waiting on
        # it) no longer than that, also when no API call is around it (the connection test).
        with Watchdog(settings.response_timeout) as watchdog:
            try:
                token: Token | None = request()
            except (MdspConnectionError, MdspResponseError):
                if not watchdog.fired:
                    raise
                token = None
            if watchdog.fired or token is None:
                raise MdspTimeoutError(
                    f"No complete answer from the token endpoint within {settings.response_timeout:g} s "
                    "(connection field 'response_timeout')",
                    request_sent=True,
                )
            return token

    def fetch(previous: Token | None) -> Token:
        if not sessions:
            sessions.append(build_session(settings))
        retrying = make_retrying(settings, idempotent=True, sleep=sleep)
        if shared_refresh is not None and isinstance(credentials, RefreshTokenCredentials):
            refresh_creds = credentials

            def exchange(refresh: str) -> Token:
                return retrying(
                    lambda: watched(
                        lambda: refresh_access_token(sessions[0], refresh_creds, refresh, timeout=settings.timeout)
                    )
                )

            return shared_refresh.renew(exchange, previous)
        return retrying(
            lambda: watched(lambda: obtain_token(sessions[0], credentials, timeout=settings.timeout, previous=previous))
        )

    cache = FileTokenCache() if shared_cache is True else (shared_cache or None)
    key = (fetch_key(settings, cache), shared_refresh.key if shared_refresh is not None else None)
    return get_token_provider(credentials, fetch, fetch_key=key, shared_cache=cache, on_new_token=on_new_token)
