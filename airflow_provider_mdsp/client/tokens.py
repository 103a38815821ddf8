"""Wire the ``auth`` layer to the client: one token provider per credential identity, with retries.

Token requests have no side effects, so they are retried like idempotent calls (connection errors,
429, 502/503/504) and go through a session with the same TLS, CA bundle and proxy as the API calls
(user-asks.md ask 7: Databricks once skipped the proxy for its token call).
"""

from __future__ import annotations

from collections.abc import Callable

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.auth import (
    Credentials,
    FileTokenCache,
    Token,
    TokenProvider,
    get_token_provider,
    obtain_token,
)
from airflow_provider_mdsp.client.retry import make_retrying
from airflow_provider_mdsp.client.settings import ClientSettings
from airflow_provider_mdsp.client.transport import build_session


def token_provider_for(
    settings: ClientSettings,
    credentials: Credentials,
    *,
    shared_cache: bool | FileTokenCache = False,
    on_new_token: Callable[[Token], None] | None = None,
    sleep: Callable[[float], None] = timeutil.sleep,
) -> TokenProvider:
    """Return the process-wide token provider for these credentials, creating it on first use.

    :param settings: network settings for the token endpoint (timeouts, TLS, proxy, retries).
    :param credentials: the credentials of one flow.
    :param shared_cache: ``True`` (default location) or a :class:`FileTokenCache` to share tokens
        between the processes of one worker host.
    :param on_new_token: called with each newly obtained token, e.g. to register it with a log masker.
    :param sleep: sleep between retries; tests inject a recorder.
    """
    session = build_session(settings)

    def fetch(previous: Token | None) -> Token:
        retrying = make_retrying(settings, idempotent=True, sleep=sleep)
        return retrying(lambda: obtain_token(session, credentials, timeout=settings.timeout, previous=previous))

    cache = FileTokenCache() if shared_cache is True else (shared_cache or None)
    return get_token_provider(credentials, fetch, shared_cache=cache, on_new_token=on_new_token)
