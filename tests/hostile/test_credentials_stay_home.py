"""Credentials and tokens go only to the connection's hosts: redirects, paging links and netrc."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.exceptions import MdspAuthError, MdspUnsafeLinkError
from tests.hostile.server import TOKEN_BODY, answer

TS = "/api/iottimeseries/v3/timeseries/a1/Vibration"


@pytest.mark.parametrize("status", [302, 307])
def test_a_token_endpoint_redirecting_elsewhere_gets_an_error_and_the_other_host_nothing(
    status, gateway, elsewhere, client_for
):
    gateway.play("/oauth/token")(lambda h, s: answer(h, status, b"", {"Location": f"{elsewhere.url}/oauth/token"}))
    elsewhere.play("/")(lambda h, s: answer(h, 200, TOKEN_BODY))
    client = client_for(max_retries=3)
    with pytest.raises(MdspAuthError, match=r"redirect to localhost.*never follow redirects") as err:
        client.request_json("GET", TS)
    assert "hostile-secret" not in str(err.value)
    assert elsewhere.count() == 0, "neither the client secret nor anything else went to the other host"
    assert gateway.count("/oauth/token") == 1, "a redirect is not retried"
    assert gateway.count("/api") == 0


def test_an_api_redirect_to_another_host_is_refused_before_anything_is_sent(gateway, elsewhere, client_for):
    gateway.play("/api")(lambda h, s: answer(h, 302, b"", {"Location": f"{elsewhere.url}{TS}?from=x"}))
    elsewhere.play("/")(lambda h, s: answer(h, 200, b"[]"))
    with pytest.raises(MdspUnsafeLinkError, match="redirected \\(HTTP 302\\) to http://localhost"):
        client_for().request_json("GET", TS)
    assert elsewhere.count() == 0, "the bearer token never left the gateway"
    assert gateway.count("/api") == 1


def test_a_redirect_to_another_scheme_on_the_same_host_is_refused(gateway, client_for):
    target = gateway.url.replace("http://", "https://")
    gateway.play("/api")(lambda h, s: answer(h, 301, b"", {"Location": f"{target}{TS}"}))
    with pytest.raises(MdspUnsafeLinkError, match=r"https://127\.0\.0\.1"):
        client_for().request_json("GET", TS)
    assert gateway.count("/api") == 1


def test_a_redirect_within_the_gateway_is_followed_with_the_bearer_token(gateway, client_for):
    gateway.play(TS)(lambda h, s: answer(h, 307, b"", {"Location": "/api/moved/here"}))
    gateway.play("/api/moved")(lambda h, s: answer(h, 200, b'[{"_time": "2026-01-01T00:00:00.000Z", "v": 1}]'))
    assert client_for().request_json("GET", TS) == [{"_time": "2026-01-01T00:00:00.000Z", "v": 1}]
    [moved] = [s for s in gateway.seen if s.path.startswith("/api/moved")]
    assert moved.headers["Authorization"] == "Bearer hostile-test-token"


def test_a_netrc_entry_for_the_gateway_never_replaces_the_bearer_token(gateway, client_for, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    gateway.play("/api")(lambda h, s: answer(h, 200, b"[]"))
    assert client_for().request_json("GET", TS) == []
    [api] = [s for s in gateway.seen if s.path.startswith("/api")]
    assert api.headers["Authorization"] == "Bearer hostile-test-token"
