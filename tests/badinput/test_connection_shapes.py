"""Every shape of a bad connection value: a typed error naming the field, before any request, no secret shown.

The values are what careless edits and copy-paste produce: an ``extra`` that is not a JSON object,
numbers that are not finite or absurdly large, booleans where counts belong, line breaks in
tokens, credentials in URLs. ``test_connection()`` reports each one instead of raising.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.hooks.mdsp import MdspHook
from tests.badinput.conftest import CLIENT_SECRET, GATEWAY, TS_PATH, assert_no_secret

URL_SECRET = "url-secret-77c1-never-shown"
GOOD_EXTRA = {"tenant": "acme"}


def raw_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, extra: Any, **top: Any) -> str:
    """Store a connection whose ``extra`` is any JSON value (or raw text), as an env connection."""
    conn = {"conn_type": "mdsp", "host": GATEWAY, "login": "acme-tech", "password": CLIENT_SECRET, **top}
    # Stored as text, as Airflow keeps it: every Airflow version then loads the connection as is.
    conn["extra"] = extra if isinstance(extra, str) else json.dumps(extra)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


EXTRA_SHAPES = [
    ("a JSON list", ["tenant", "acme"], "JSON list"),
    ("a number", 42, "number"),
    ("true", True, "true or false"),
    ("an object encoded twice", json.dumps(json.dumps(GOOD_EXTRA)), "encoded twice"),
    ("not JSON at all", "{tenant: acme", "not valid JSON"),
]


@pytest.mark.parametrize(("extra", "says"), [c[1:] for c in EXTRA_SHAPES], ids=[c[0] for c in EXTRA_SHAPES])
def test_an_extra_that_is_not_a_json_object_names_the_extra_field(extra, says, monkeypatch, requests_mock):
    from airflow_provider_mdsp.hooks.connection import config_from_connection

    text = extra if isinstance(extra, str) else json.dumps(extra)
    with pytest.raises(MdspConfigError, match=says) as err:
        config_from_connection(GATEWAY, "acme-tech", CLIENT_SECRET, text)
    assert err.value.field == "extra"
    hook = MdspHook(raw_connection(monkeypatch, "mdsp_shape", extra))
    ok, message = hook.test_connection()
    assert not ok
    try:
        hook.get_connection("mdsp_shape")
    except Exception:  # Airflow before 3.2 refuses such a connection itself ("isn't defined")
        return
    assert "extra" in message
    with pytest.raises(MdspConfigError, match=says) as err:
        hook.request("GET", TS_PATH)
    assert err.value.field == "extra"
    assert requests_mock.call_count == 0


FIELD_VALUES = [
    ("host with an unclosed IPv6 bracket", {"host": "http://[::1"}, {}, "host"),
    ("read timeout nan", {}, {"timeout": "nan"}, "timeout"),
    ("read timeout inf", {}, {"timeout": "inf"}, "timeout"),
    ("read timeout of 5,000 digits", {}, {"timeout": "9" * 5000}, "timeout"),
    ("connect timeout as a JSON number too large", {}, {"connect_timeout": 1e300}, "connect_timeout"),
    ("max_retry_wait inf", {}, {"max_retry_wait": "Infinity"}, "max_retry_wait"),
    ("max_retries true", {}, {"max_retries": True}, "max_retries"),
    ("max_retries 10**9", {}, {"max_retries": 10**9}, "max_retries"),
    ("max_retries of 5,000 digits", {}, {"max_retries": "9" * 5000}, "max_retries"),
    ("max_retries 2.5 as a JSON number", {}, {"max_retries": 2.5}, "max_retries"),
    ("max_retries as a list", {}, {"max_retries": [3]}, "max_retries"),
    ("tenant as an object", {}, {"tenant": {"name": "acme"}}, "tenant"),
    ("tenant as true", {}, {"tenant": True}, "tenant"),
    ("verify_tls as a list", {}, {"verify_tls": [True]}, "verify_tls"),
    ("blank sub_tenant", {}, {"sub_tenant": "   "}, "sub_tenant"),
    ("user token with CRLF", {}, {"auth_type": "user_token", "user_token": "abc\r\nX-Evil: 1"}, "user_token"),
    (
        "token URL with a user and password",
        {},
        {"auth_url": f"https://u:{URL_SECRET}@acme.piam.x/oauth/token"},
        "auth_url",
    ),
    ("token URL with a bad port", {}, {"auth_url": "https://acme.piam.x:99999999/oauth/token"}, "auth_url"),
    ("proxy with an unclosed bracket", {}, {"proxy": "http://[proxy.corp:3128"}, "proxy"),
]


@pytest.mark.parametrize(("top", "extra", "field"), [c[1:] for c in FIELD_VALUES], ids=[c[0] for c in FIELD_VALUES])
def test_every_bad_field_value_names_its_field_before_any_request(
    top, extra, field, monkeypatch, requests_mock, caplog
):
    caplog.set_level("DEBUG")
    conn_id = raw_connection(monkeypatch, "mdsp_value", {**GOOD_EXTRA, **extra}, **top)
    hook = MdspHook(conn_id)
    with pytest.raises(MdspConfigError) as err:
        hook.request("GET", TS_PATH)
    assert err.value.field == field
    assert re.search(rf"\b{field}\b", str(err.value))
    assert len(str(err.value)) < 400, "no 5,000-digit value echoed back"
    assert URL_SECRET not in str(err.value)
    assert_no_secret(str(err.value), caplog.text)
    ok, message = hook.test_connection()
    assert not ok
    assert field in message
    assert URL_SECRET not in message
    assert requests_mock.call_count == 0


def test_the_connection_test_never_raises_even_for_an_unknown_connection(monkeypatch):
    ok, message = MdspHook("mdsp_nowhere_defined").test_connection()
    assert not ok
    assert message


def test_userinfo_in_a_url_is_masked_in_api_error_messages():
    from airflow_provider_mdsp.exceptions import api_error, redact_url

    assert redact_url(f"https://u:{URL_SECRET}@host.x/oauth/token?a=1") == "https://***@host.x/oauth/token?a=1"
    err = api_error(404, "", {}, method="POST", url=f"https://u:{URL_SECRET}@host.x/oauth/token", reason="Not Found")
    assert URL_SECRET not in str(err)
    assert "host.x/oauth/token" in str(err)


def test_a_token_url_with_userinfo_given_in_code_is_masked_in_the_404_message(requests_mock):
    from airflow_provider_mdsp.auth import TenantCredentials, obtain_token
    from airflow_provider_mdsp.exceptions import MdspAuthError

    url = f"https://u:{URL_SECRET}@acme.piam.example/oauth/token"
    requests_mock.post(url, status_code=404, text="nope")
    creds = TenantCredentials("id", CLIENT_SECRET, "acme", url)
    import requests

    with pytest.raises(MdspAuthError) as err:
        obtain_token(requests.Session(), creds, timeout=(1, 1))
    assert URL_SECRET not in str(err.value)
    assert "acme.piam.example/oauth/token" in str(err.value)


def test_deadlines_and_bounds_are_read_from_the_connection_with_defaults():
    from airflow_provider_mdsp.client.settings import ClientSettings
    from airflow_provider_mdsp.hooks.connection import config_from_connection

    extra = {"tenant": "acme", "response_timeout": 7, "call_timeout": "90", "max_response_mb": 2, "max_pages": 33}
    settings = config_from_connection(GATEWAY, "acme-tech", CLIENT_SECRET, extra).settings
    assert (settings.response_timeout, settings.max_retry_time) == (7.0, 90.0)
    assert (settings.max_response_bytes, settings.max_pages) == (2 * 1024 * 1024, 33)
    default = config_from_connection(GATEWAY, "acme-tech", CLIENT_SECRET, {"tenant": "acme"}).settings
    plain = ClientSettings(GATEWAY)
    assert (default.response_timeout, default.max_retry_time, default.max_response_bytes, default.max_pages) == (
        plain.response_timeout,
        plain.max_retry_time,
        plain.max_response_bytes,
        plain.max_pages,
    )
    with pytest.raises(MdspConfigError) as err:
        config_from_connection(GATEWAY, "acme-tech", CLIENT_SECRET, {"tenant": "acme", "max_pages": "0"})
    assert err.value.field == "max_pages"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("lots", "must be a number of MiB, not 'lots'"),
        ("0", "must be positive, at most 16384, not '0'"),
        (86_400, "must be positive, at most 16384, not 86400"),
    ],
)
def test_a_bad_max_response_mb_is_refused_in_mib_not_seconds(value, says):
    from airflow_provider_mdsp.hooks.connection import config_from_connection

    with pytest.raises(MdspConfigError) as err:
        config_from_connection(GATEWAY, "acme-tech", CLIENT_SECRET, {"tenant": "acme", "max_response_mb": value})
    assert err.value.field == "max_response_mb"
    assert str(err.value) == f"Connection field 'max_response_mb' {says}"
    assert "seconds" not in str(err.value)
