"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point.

Airflow 3.2+ builds the connection form from ``conn-fields`` and ``ui-field-behaviour`` without
importing the hook (Airflow reads a provider's info without importing its hooks). The field names here are the keys of
``Connection.extra`` that :mod:`airflow_provider_mdsp.hooks.connection` reads. Importing this module
must stay cheap: it runs in the API server and at every provider discovery.
"""

from __future__ import annotations

from typing import Any

AUTH_TYPES = ["tenant_credentials", "app_credentials", "user_token", "refresh_token"]

#: The auth types in the words of the connections guide (docs/connections.md), for labels and messages.
AUTH_TYPE_WORDS = {
    "tenant_credentials": "tenant credentials",
    "app_credentials": "app credentials",
    "user_token": "user token",
    "refresh_token": "refresh token",
}

_STR = {"type": ["string", "null"]}
_SECRET = {"type": ["string", "null"], "format": "password"}
_NUMBER = {"type": ["number", "null"], "minimum": 1}


def _field(label: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": dict(schema or _STR)}


# The form lists these in this order under "Extra Fields": the auth type first, then what each auth
# type needs, then the optional network settings. A label ending in "(… only)" names the auth types
# that read the field. Numbers declare no default, so a saved form does not pin today's defaults
# into the connection (the label says what an empty field means). No non-secret name may contain a
# word Airflow's masker hides ("token", "secret", "proxy"…): the form would show and save "***".
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "auth_type": _field(
        "Auth type",
        "Pick this first. tenant_credentials: a technical user or tenant service credentials (Client ID "
        "and Client Secret above, Tenant below). app_credentials: app credentials from Developer or "
        "Operator Cockpit (Client ID and Client Secret above, the app fields below). user_token: a "
        "user's bearer token (Client ID and Client Secret unused). refresh_token: the app's Client ID "
        "and Client Secret above, the refresh token below.",
        {"type": ["string", "null"], "enum": AUTH_TYPES, "default": "tenant_credentials"},
    ),
    "tenant": _field(
        "Tenant",
        "Your tenant name: acme for acme.eu1.mindsphere.io. Needed by tenant_credentials and refresh_token; "
        "app_credentials read Host tenant instead.",
    ),
    "sub_tenant": _field(
        "Subtenant (tenant_credentials only)",
        "A subtenant id to impersonate; empty for the tenant itself.",
    ),
    "iam_action": _field(
        "IAM action (tenant_credentials with Subtenant only)",
        "The iam-action value of the impersonation request. Empty: client_credentials.tenant-impersonation "
        "(not confirmed by a public source).",
    ),
    "host_tenant": _field(
        "Host tenant (app_credentials only)",
        "The tenant hosting the app. Empty: read from a Client ID like acme-myapp-1.0.0.",
    ),
    "user_tenant": _field(
        "User tenant (app_credentials only)",
        "The tenant whose data is read. Empty: the host tenant.",
    ),
    "app_name": _field(
        "App name (app_credentials only)",
        "The app's name in Developer or Operator Cockpit. Empty: read from the Client ID.",
    ),
    "app_version": _field(
        "App version (app_credentials only)",
        "The app version the credentials were issued for, e.g. 1.0.0. Empty: read from the Client ID.",
    ),
    "user_token": _field(
        "User token (user_token only)", "A user's bearer token, passed through as is (it expires).", _SECRET
    ),
    "refresh_token": _field(
        "Refresh token (refresh_token only)",
        "The refresh token from the authorization-code sign-in (valid 12 h).",
        _SECRET,
    ),
    "auth_url": _field(
        "Token URL (optional)",
        "Empty: derived from the Gateway URL and the auth type, e.g. "
        "https://acme.piam.eu1.mindsphere.io/oauth/token. Set it only when that is wrong for you.",
    ),
    "verify_tls": _field(
        "Verify TLS", "Verify the gateway's TLS certificate.", {"type": ["boolean", "null"], "default": True}
    ),
    "ca_bundle": _field(
        "CA bundle (optional)", "Path of a CA bundle on the workers, for a corporate TLS-inspecting proxy."
    ),
    "proxy": _field(
        "Proxy (optional)", "Proxy URL for the gateway and token calls, e.g. http://proxy.corp:3128.", _SECRET
    ),
    "timeout": _field(
        "Read timeout, s (empty: 60)", "Seconds to wait for an answer; the gateway itself stops at 60.", _NUMBER
    ),
    "connect_timeout": _field("Connect timeout, s (empty: 10)", "Seconds to open a connection.", _NUMBER),
    "max_retries": _field(
        "Max retries (empty: 5)",
        "Retries for connection errors, 429 and 502/503/504 (0 to 20).",
        {"type": ["integer", "null"], "minimum": 0, "maximum": 20},
    ),
    "max_retry_wait": _field(
        "Max retry wait, s (empty: 60)", "Longest wait between attempts, also the cap on Retry-After.", _NUMBER
    ),
    "response_timeout": _field(
        "Response deadline, s (empty: 120)",
        "Most seconds one attempt may take for the whole answer (connect, headers and body), however slowly "
        "the bytes arrive.",
        _NUMBER,
    ),
    "call_timeout": _field(
        "Call deadline, s (empty: 300)",
        "Most seconds one call may take, all retries and waits included.",
        _NUMBER,
    ),
    "max_response_mb": _field(
        "Largest answer, MiB (empty: 256)",
        "Answers larger than this once decoded are refused (file downloads are streamed and not bounded).",
        _NUMBER,
    ),
    "max_pages": _field(
        "Most pages per read (empty: 10000)",
        "A read that would follow more pages stops with an error; raise it for very long reads.",
        {"type": ["integer", "null"], "minimum": 1},
    ),
    "shared_cache": _field(
        "Share tokens between tasks on a worker",
        "Cache tokens in an owner-only file so the short tasks of one worker host reuse one token.",
        {"type": ["boolean", "null"], "default": False},
    ),
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {
        "host": "Gateway URL",
        "login": "Client ID (not for user_token)",
        "password": "Client Secret (not for user_token)",
    },
    "placeholders": {
        "host": "https://gateway.eu1.mindsphere.io",
        "login": "client ID; then open Extra Fields for the auth type and tenant",
        "password": "client secret",
        "tenant": "acme",
        "auth_url": "https://acme.piam.eu1.mindsphere.io/oauth/token",
        "extra": '{"auth_type": "tenant_credentials", "tenant": "acme"}',
    },
}


def get_provider_info() -> dict[str, Any]:
    """Return the provider metadata that Airflow's providers manager validates and loads."""
    from airflow_provider_mdsp import __version__

    return {
        "package-name": "airflow-provider-mdsp",
        "name": "Siemens Insights Hub",
        "description": "Siemens Insights Hub (formerly MindSphere) Industrial IoT APIs for Apache Airflow.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Siemens Insights Hub",
                "external-doc-url": "https://developer.siemens.com/insights-hub/",
                "tags": ["service"],
            }
        ],
        "operators": [
            {
                "integration-name": "Siemens Insights Hub",
                "python-modules": [
                    "airflow_provider_mdsp.operators.generic",
                    "airflow_provider_mdsp.operators.assets",
                    "airflow_provider_mdsp.operators.timeseries",
                    "airflow_provider_mdsp.operators.aggregates",
                    "airflow_provider_mdsp.operators.events",
                    "airflow_provider_mdsp.operators.files",
                    "airflow_provider_mdsp.operators.file_retention",
                    "airflow_provider_mdsp.operators.bulk",
                    "airflow_provider_mdsp.operators.hierarchy",
                    "airflow_provider_mdsp.operators.tenants",
                    "airflow_provider_mdsp.operators.datalake",
                    "airflow_provider_mdsp.operators.event_jobs",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Siemens Insights Hub",
                "python-modules": [
                    "airflow_provider_mdsp.sensors.timeseries",
                    "airflow_provider_mdsp.sensors.events",
                    "airflow_provider_mdsp.sensors.bulk",
                    "airflow_provider_mdsp.sensors.datalake",
                ],
            }
        ],
        "triggers": [
            {
                "integration-name": "Siemens Insights Hub",
                "python-modules": [
                    "airflow_provider_mdsp.triggers.timeseries",
                    "airflow_provider_mdsp.triggers.events",
                    "airflow_provider_mdsp.triggers.bulk",
                    "airflow_provider_mdsp.triggers.datalake",
                    "airflow_provider_mdsp.triggers.watchers",
                    "airflow_provider_mdsp.triggers.event_jobs",
                ],
            }
        ],
        "hooks": [
            {
                "integration-name": "Siemens Insights Hub",
                "python-modules": ["airflow_provider_mdsp.hooks.mdsp"],
            }
        ],
        "asset-uris": [{"schemes": ["mdsp"], "handler": "airflow_provider_mdsp.assets.sanitize_uri"}],
        "connection-types": [
            {
                "connection-type": "mdsp",
                "hook-class-name": "airflow_provider_mdsp.hooks.mdsp.MdspHook",
                "hook-name": "Siemens Insights Hub",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
