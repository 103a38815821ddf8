"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point.

Airflow 3.2+ builds the connection form from ``conn-fields`` and ``ui-field-behaviour`` without
importing the hook (airflow-provider-conventions.md §1.2). The field names here are the keys of
``Connection.extra`` that :mod:`airflow_provider_mdsp.hooks.connection` reads. Importing this module
must stay cheap: it runs in the API server and at every provider discovery.
"""

from __future__ import annotations

from typing import Any

AUTH_TYPES = ["tenant_credentials", "app_credentials", "user_token", "refresh_token"]

_STR = {"type": ["string", "null"]}
_SECRET = {"type": ["string", "null"], "format": "password"}


def _field(label: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": dict(schema or _STR)}


CONN_FIELDS: dict[str, dict[str, Any]] = {
    "auth_type": _field(
        "Auth type",
        "tenant_credentials: technical user / tenant service credentials (add Sub tenant to impersonate "
        "a subtenant); app_credentials: Developer/Operator Cockpit app credentials via the Token "
        "Management Service; user_token: pass a user token through; refresh_token: renew from a refresh "
        "token.",
        {"type": ["string", "null"], "enum": AUTH_TYPES, "default": "tenant_credentials"},
    ),
    "tenant": _field("Tenant", "Your tenant name, e.g. 'acme' in acme.eu1.mindsphere.io."),
    "auth_url": _field(
        "Token URL",
        "Leave empty to derive https://{tenant}.piam.{region}.{domain}/oauth/token from the gateway.",
    ),
    "sub_tenant": _field("Sub tenant", "Subtenant id to impersonate (tenant_credentials only)."),
    "iam_action": _field(
        "IAM action",
        "With Sub tenant: the iam-action value of the impersonation request. Leave empty for "
        "client_credentials.tenant-impersonation (not confirmed by a public source).",
    ),
    "app_name": _field("App name", "app_credentials: the application's name in Developer/Operator Cockpit."),
    "app_version": _field("App version", "app_credentials: the application version the credentials belong to."),
    "host_tenant": _field("Host tenant", "app_credentials: the tenant hosting the app."),
    "user_tenant": _field("User tenant", "app_credentials: the tenant whose data is read; default host tenant."),
    "user_token": _field("User token", "user_token: a user's bearer token, passed through as is.", _SECRET),
    "refresh_token": _field("Refresh token", "refresh_token: a refresh token (valid 12 h).", _SECRET),
    "verify_tls": _field(
        "Verify TLS", "Verify the gateway's TLS certificate.", {"type": ["boolean", "null"], "default": True}
    ),
    "ca_bundle": _field("CA bundle", "Path of a CA bundle on the workers, for corporate TLS inspection."),
    "proxy": _field("Proxy", "Proxy URL for the gateway and token calls, e.g. http://proxy.corp:3128.", _SECRET),
    "timeout": _field(
        "Read timeout (s)",
        "Seconds to wait for an answer; the gateway itself stops at 60.",
        {"type": ["number", "null"], "default": 60, "minimum": 1},
    ),
    "connect_timeout": _field(
        "Connect timeout (s)",
        "Seconds to open a connection.",
        {"type": ["number", "null"], "default": 10, "minimum": 1},
    ),
    "max_retries": _field(
        "Max retries",
        "Retries for connection errors, 429 and 502/503/504.",
        {"type": ["integer", "null"], "default": 5, "minimum": 0, "maximum": 20},
    ),
    "max_retry_wait": _field(
        "Max retry wait (s)",
        "Longest wait between attempts, also the cap on Retry-After.",
        {"type": ["number", "null"], "default": 60, "minimum": 1},
    ),
    "shared_cache": _field(
        "Share tokens between tasks on a worker",
        "Cache tokens in an owner-only file so short tasks on one host reuse one token.",
        {"type": ["boolean", "null"], "default": False},
    ),
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {"host": "Gateway URL", "login": "Client ID", "password": "Client Secret"},
    "placeholders": {
        "host": "https://gateway.eu1.mindsphere.io",
        "login": "technical user or app credential client ID",
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
