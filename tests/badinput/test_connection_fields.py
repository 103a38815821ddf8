"""Every malformed connection field is reported by MdspHook before any request, naming the field, hiding secrets."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.hooks.mdsp import MdspHook
from tests.badinput.conftest import CLIENT_SECRET, GATEWAY, TS_PATH, assert_no_secret

PROXY_PASSWORD = "proxy-pass-91b2-never-shown"
REFRESH = "refresh-token-5e6f-never-shown"
USER_TOKEN = "user-token-0a0b-never-shown"

OK: dict[str, Any] = {"host": GATEWAY, "login": "acme-tech", "password": CLIENT_SECRET, "extra": {"tenant": "acme"}}


def fields(extra: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """Return the good connection with some top-level fields and extras replaced (``None`` drops them)."""
    conn = {**OK, **top}
    conn["extra"] = {k: v for k, v in {**OK["extra"], **(extra or {})}.items() if v is not None}
    return {k: v for k, v in conn.items() if v is not None}


APP = {"auth_type": "app_credentials", "tenant": None}

CASES = [
    ("empty gateway", fields(host=""), "host"),
    ("gateway with a non-HTTP scheme", fields(host="ftp://gateway.eu1.mindsphere.io"), "host"),
    ("gateway with credentials in it", fields(host=f"https://tech:{CLIENT_SECRET}@gateway.eu1.mindsphere.io"), "host"),
    ("gateway with a query string", fields(host="https://gateway.eu1.mindsphere.io/?tenant=acme"), "host"),
    ("gateway with a bad port", fields(host="https://gateway.eu1.mindsphere.io:99999x"), "host"),
    ("missing client id", fields(login=None), "login"),
    ("blank client id", fields(login="   "), "login"),
    ("missing client secret", fields(password=None), "password"),
    ("missing tenant", fields({"tenant": None}), "tenant"),
    ("tenant that is a URL", fields({"tenant": "https://acme.eu1.mindsphere.io"}), "tenant"),
    ("unknown auth type", fields({"auth_type": "oauth2"}), "auth_type"),
    ("token URL that is not a URL", fields({"auth_url": "acme.piam.eu1"}), "auth_url"),
    (
        "sub tenant outside tenant_credentials",
        fields({**APP, "sub_tenant": "plant7"}, login="acme-app-1.0.0"),
        "sub_tenant",
    ),
    ("app credentials without an app name", fields(APP, login="opaque-id"), "app_name"),
    ("app credentials without an app version", fields({**APP, "app_name": "dash"}, login="opaque"), "app_version"),
    (
        "app credentials with a bad host tenant",
        fields({**APP, "host_tenant": "ac me"}, login="acme-dash-1.0.0"),
        "host_tenant",
    ),
    (
        "app credentials with a bad user tenant",
        fields({**APP, "user_tenant": "a/b"}, login="acme-dash-1.0.0"),
        "user_tenant",
    ),
    ("user token flow without a token", fields({"auth_type": "user_token"}), "user_token"),
    ("refresh flow without a refresh token", fields({"auth_type": "refresh_token"}), "refresh_token"),
    (
        "refresh flow without tenant or token URL",
        fields({"auth_type": "refresh_token", "tenant": None, "refresh_token": REFRESH}),
        "tenant",
    ),
    ("CA bundle that is not a file", fields({"ca_bundle": "/nonexistent/corp-ca.pem"}), "ca_bundle"),
    ("proxy without a scheme", fields({"proxy": f"tech:{PROXY_PASSWORD}@proxy.corp:3128"}), "proxy"),
    ("proxy with an unsupported scheme", fields({"proxy": f"ftp://tech:{PROXY_PASSWORD}@proxy.corp"}), "proxy"),
    ("verify_tls that is not a boolean", fields({"verify_tls": "sometimes"}), "verify_tls"),
    ("shared_cache that is not a boolean", fields({"shared_cache": "perhaps"}), "shared_cache"),
    ("read timeout that is not a number", fields({"timeout": "soon"}), "timeout"),
    ("read timeout of zero", fields({"timeout": 0}), "timeout"),
    ("negative connect timeout", fields({"connect_timeout": "-5"}), "connect_timeout"),
    ("max_retries that is a fraction", fields({"max_retries": "2.5"}), "max_retries"),
    ("negative max_retries", fields({"max_retries": -1}), "max_retries"),
    ("max_retry_wait of zero", fields({"max_retry_wait": "0"}), "max_retry_wait"),
    ("misspelt extra field", fields({"tennant": "acme"}), "tennant"),
]


@pytest.mark.parametrize(("conn_fields", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_malformed_field_is_named_before_any_request_and_no_secret_is_shown(
    conn_fields, field, mdsp_connection, requests_mock, caplog
):
    caplog.set_level("DEBUG")
    conn_id = mdsp_connection("mdsp_bad", **conn_fields)
    hook = MdspHook(conn_id)
    with pytest.raises(MdspConfigError) as err:
        hook.request("GET", TS_PATH)
    assert err.value.field == field
    assert re.search(rf"\b{field}\b", str(err.value)), "the message names the field"
    assert "mdsp_bad" in str(err.value), "the message names the connection to fix"
    assert requests_mock.call_count == 0
    assert_no_secret(str(err.value), repr(err.value), caplog.text)
    for secret in (PROXY_PASSWORD, REFRESH, USER_TOKEN):
        assert secret not in str(err.value)
        assert secret not in caplog.text
    # The connection test reports the same problem instead of raising.
    ok, message = hook.test_connection()
    assert not ok
    assert field in message
    assert requests_mock.call_count == 0
