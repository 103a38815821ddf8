"""Authentication for Insights Hub: credentials, token grants, token caching. Never imports Airflow.

The flows and their requests follow the Node SDK (``credential-auth.ts``, ``tokenmanager-auth.ts``,
``user-auth.ts``) and the Siemens developer docs on tokens and subtenants. A typical caller::

    creds = TenantCredentials(client_id, client_secret, tenant, piam_token_url(gateway, tenant))
    provider = get_token_provider(
        creds, lambda previous: obtain_token(session, creds, timeout=30, previous=previous)
    )
    headers = {"Authorization": f"Bearer {provider.get_token().access_token}"}
"""

from __future__ import annotations

from airflow_provider_mdsp.auth.access_token import REFRESH_MARGIN, Token, refresh_margin_for
from airflow_provider_mdsp.auth.credentials import (
    SUBTENANT_IAM_ACTION,
    AppCredentials,
    Credentials,
    RefreshTokenCredentials,
    TenantCredentials,
    UserTokenCredentials,
    piam_token_url,
    tms_token_url,
    token_keys_url,
)
from airflow_provider_mdsp.auth.filecache import FileTokenCache
from airflow_provider_mdsp.auth.grants import (
    fetch_app_token,
    fetch_tenant_token,
    obtain_token,
    parse_token_response,
    refresh_access_token,
    user_token,
)
from airflow_provider_mdsp.auth.provider import TokenProvider, clear_token_providers, get_token_provider

__all__ = [
    "REFRESH_MARGIN",
    "SUBTENANT_IAM_ACTION",
    "AppCredentials",
    "Credentials",
    "FileTokenCache",
    "RefreshTokenCredentials",
    "TenantCredentials",
    "Token",
    "TokenProvider",
    "UserTokenCredentials",
    "clear_token_providers",
    "fetch_app_token",
    "fetch_tenant_token",
    "get_token_provider",
    "obtain_token",
    "parse_token_response",
    "piam_token_url",
    "refresh_access_token",
    "refresh_margin_for",
    "tms_token_url",
    "token_keys_url",
    "user_token",
]
