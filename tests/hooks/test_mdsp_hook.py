"""MdspHook end to end with requests-mock: Connection → token → API call, masking and connection test."""

from __future__ import annotations

import base64
import json
import logging

import pytest
import requests

from airflow_provider_mdsp.exceptions import MdspConfigError, MdspUnauthorizedError
from airflow_provider_mdsp.hooks.mdsp import MdspHook

GATEWAY = "https://gateway.eu1.mindsphere.io"
TOKEN_URL = "https://acme.piam.eu1.mindsphere.io/oauth/token"
ROOT = f"{GATEWAY}/api/assetmanagement/v3/assets/root"
SECRET = "client-secret-that-must-never-show"
ACCESS = "access-token-value-that-must-never-show"


@pytest.fixture
def conn(mdsp_connection):
    return mdsp_connection(host=GATEWAY, login="acme-tech", password=SECRET, extra={"tenant": "acme"})


def token_response(value: str = ACCESS, expires_in: int = 1800) -> dict:
    return {"access_token": value, "token_type": "Bearer", "expires_in": expires_in, "scope": "iot.tim.r am.r"}


def test_many_calls_share_one_token_across_hooks(conn, requests_mock):
    token = requests_mock.post(TOKEN_URL, json=token_response())
    api = requests_mock.get(ROOT, json={"name": "acme"})
    first, second = MdspHook(conn), MdspHook(conn)
    for _ in range(5):
        assert first.request("GET", "/api/assetmanagement/v3/assets/root") == {"name": "acme"}
        assert second.request("GET", "/api/assetmanagement/v3/assets/root") == {"name": "acme"}
    assert token.call_count == 1
    assert api.call_count == 10
    assert api.last_request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert api.last_request.timeout == (10.0, 60.0)


def test_a_401_renews_the_token_once_and_retries(conn, requests_mock):
    token = requests_mock.post(TOKEN_URL, [{"json": token_response("old")}, {"json": token_response("new")}])
    api = requests_mock.get(ROOT, [{"status_code": 401, "json": {"error": "token_validation_failed"}}, {"json": {}}])
    assert MdspHook(conn).request("GET", "/api/assetmanagement/v3/assets/root") == {}
    assert token.call_count == 2
    assert [r.headers["Authorization"] for r in api.request_history] == ["Bearer old", "Bearer new"]


def test_a_second_401_is_an_authorization_error(conn, requests_mock):
    requests_mock.post(TOKEN_URL, json=token_response())
    requests_mock.get(ROOT, status_code=401, json={"error": "token_validation_failed", "error_description": "[x]"})
    with pytest.raises(MdspUnauthorizedError) as err:
        MdspHook(conn).request("GET", "/api/assetmanagement/v3/assets/root")
    assert err.value.status == 401
    assert err.value.code == "token_validation_failed"


def test_tokens_and_secrets_are_masked_in_logs(conn, requests_mock):
    from airflow.sdk._shared.secrets_masker import redact

    requests_mock.post(TOKEN_URL, json=token_response())
    requests_mock.get(ROOT, json={})
    MdspHook(conn).request("GET", "/api/assetmanagement/v3/assets/root")
    assert ACCESS not in str(redact(f"token {ACCESS}"))
    assert SECRET not in str(redact(f"secret {SECRET}"))


def test_a_proxy_password_is_masked_in_logs(mdsp_connection, requests_mock):
    from airflow.sdk._shared.secrets_masker import redact

    proxy_password = "proxy-password-that-must-never-show"
    conn = mdsp_connection(
        host=GATEWAY,
        login="acme-tech",
        password=SECRET,
        extra={"tenant": "acme", "proxy": f"http://corp-user:{proxy_password}@proxy.corp:3128"},
    )
    assert MdspHook(conn).config.settings.proxy
    assert proxy_password not in str(redact(f"proxy {proxy_password}"))


def test_failures_never_show_secret_or_token(conn, requests_mock, caplog):
    caplog.set_level(logging.DEBUG)
    requests_mock.post(
        TOKEN_URL, status_code=401, json={"error": "unauthorized", "error_description": "Bad credentials"}
    )
    ok, message = MdspHook(conn).test_connection()
    assert not ok
    assert "could not obtain a token" in message
    for text in (message, caplog.text):
        assert SECRET not in text
        assert ACCESS not in text


def test_connection_test_success_says_what_worked(conn, requests_mock):
    requests_mock.post(TOKEN_URL, json=token_response())
    requests_mock.get(ROOT, json={"name": "acme"})
    ok, message = MdspHook(conn).test_connection()
    assert ok
    assert "tenant acme" in message
    assert "2 scopes" in message
    assert ACCESS not in message


def test_connection_test_with_missing_asset_role_is_explained(conn, requests_mock):
    requests_mock.post(TOKEN_URL, json=token_response())
    requests_mock.get(ROOT, status_code=403, json={"errors": [{"code": "mdsp.core.generic.forbidden"}]})
    ok, message = MdspHook(conn).test_connection()
    assert ok
    assert "403" in message
    assert "Asset Management read role" in message


def test_connection_test_unreachable_gateway(conn, requests_mock):
    requests_mock.post(TOKEN_URL, json=token_response())
    requests_mock.get(ROOT, exc=requests.exceptions.ConnectionError("NewConnectionError: refused"))
    hook = MdspHook(conn)
    hook.client.transport._sleep = lambda _seconds: None
    ok, message = hook.test_connection()
    assert not ok
    assert "gateway.eu1.mindsphere.io" in message


def test_bad_connection_field_names_connection_and_field(mdsp_connection, requests_mock):
    conn_id = mdsp_connection("plant_a", host=GATEWAY, login="x", password=SECRET, extra={"auth_type": "magic"})
    with pytest.raises(MdspConfigError) as err:
        MdspHook(conn_id).request("GET", "/api/assetmanagement/v3/assets/root")
    assert "'plant_a'" in str(err.value)
    assert err.value.field == "auth_type"
    assert SECRET not in str(err.value)
    assert not requests_mock.request_history


def test_iter_pages_spring_style(conn, requests_mock):
    requests_mock.post(TOKEN_URL, json=token_response())
    url = f"{GATEWAY}/api/assetmanagement/v3/assets"
    requests_mock.get(
        url,
        [
            {"json": {"_embedded": {"assets": [{"assetId": "a"}]}, "page": {"totalPages": 2, "number": 0}}},
            {"json": {"_embedded": {"assets": [{"assetId": "b"}]}, "page": {"totalPages": 2, "number": 1}}},
        ],
    )
    pages = list(MdspHook(conn).iter_pages("/api/assetmanagement/v3/assets", page_size=1))
    assert pages == [[{"assetId": "a"}], [{"assetId": "b"}]]
    assert [r.qs["page"] for r in requests_mock.request_history[1:]] == [["0"], ["1"]]


def test_connection_test_names_the_auth_type_in_the_guides_words_and_the_subtenant(mdsp_connection, requests_mock):
    extra = {"tenant": "acme", "sub_tenant": "plant7"}
    conn_id = mdsp_connection("plant_a", host=GATEWAY, login="acme-tech", password=SECRET, extra=extra)
    requests_mock.post(TOKEN_URL, json={**token_response(), "subtenant": "plant7"})
    requests_mock.get(ROOT, json={"name": "plant7"})
    ok, message = MdspHook(conn_id).test_connection()
    assert ok
    assert message.startswith(
        "Connection 'plant_a' (tenant credentials, tenant acme, impersonating subtenant plant7): token obtained"
    )


@pytest.mark.parametrize("transient_id", ["kJ0ldCrn", "94trwq6s"])
def test_a_test_from_the_ui_does_not_name_airflows_temporary_connection_id(mdsp_connection, monkeypatch, transient_id):
    # POST /api/v2/connections/test exports the form as AIRFLOW_CONN_<8 random letters and digits>;
    # about 1 id in 75 has no capital letter (the second case, seen in a browser test).
    conn_id = mdsp_connection(transient_id, host=GATEWAY, login="x", password=SECRET, extra={"tenant": "ac me"})
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{transient_id.upper()}",
        json.dumps(
            {"conn_type": "mdsp", "host": GATEWAY, "login": "x", "password": SECRET, "extra": {"tenant": "ac me"}}
        ),
    )
    ok, message = MdspHook(conn_id).test_connection()
    assert not ok
    assert message.startswith("The connection: Connection field 'tenant' is 'ac me'")
    assert transient_id not in message


def test_the_hook_registers_only_secrets_with_the_log_masker(conn, requests_mock, monkeypatch):
    """A short non-secret extra (a tenant like ``demo``) would make the masker warn in every task log.

    Airflow's own connection lookup registers the extras as well (``get_uri`` reads
    ``extra_dejson``); the hook adds nothing but the secrets.
    """
    import airflow.sdk.log

    connection = MdspHook.get_connection(conn)
    monkeypatch.setattr(MdspHook, "get_connection", classmethod(lambda cls, conn_id: connection))
    registered: list[object] = []
    monkeypatch.setattr(airflow.sdk.log, "mask_secret", lambda value, name=None: registered.append(value))
    requests_mock.post(TOKEN_URL, json=token_response())
    requests_mock.get(ROOT, json={})
    MdspHook(conn).request("GET", "/api/assetmanagement/v3/assets/root")
    assert SECRET in registered
    assert ACCESS in registered
    assert [v for v in registered if v not in (SECRET, ACCESS)] == [
        base64.b64encode(f"acme-tech:{SECRET}".encode()).decode()
    ]


def test_close_closes_a_built_client_and_builds_none(conn, requests_mock, monkeypatch):
    from airflow_provider_mdsp.client import MdspClient

    closed: list = []
    monkeypatch.setattr(MdspClient, "close", lambda self: closed.append(self))
    idle = MdspHook(conn)
    idle.close()
    assert "client" not in idle.__dict__, "closing an unused hook builds no client"
    assert closed == []
    used = MdspHook(conn)
    client = used.client
    used.close()
    assert closed == [client]
