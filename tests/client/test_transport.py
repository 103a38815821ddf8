"""The transport: tokens, the one-time 401 renewal, retries, timeouts and typed errors."""

from __future__ import annotations

import io

import pytest
import requests
import urllib3

from airflow_provider_mdsp.client.settings import ClientSettings
from airflow_provider_mdsp.client.transport import Transport
from airflow_provider_mdsp.exceptions import (
    MdspApiError,
    MdspBadRequestError,
    MdspConflictError,
    MdspConnectionError,
    MdspNotFoundError,
    MdspRateLimitedError,
    MdspResponseError,
    MdspServerError,
    MdspTimeoutError,
    MdspUnauthorizedError,
    MdspUnsafeLinkError,
)

from .conftest import GATEWAY

ROOT = f"{GATEWAY}/api/assetmanagement/v3/assets/root"
EVENTS = f"{GATEWAY}/api/eventmanagement/v3/events"


def refused_connection() -> requests.exceptions.ConnectionError:
    """What requests raises when nothing listens: the request never left the machine."""
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", reason))


def test_every_call_asks_the_token_source_and_sends_its_token(transport, tokens, requests_mock):
    api = requests_mock.get(ROOT, json={"assetId": "root"})
    for _ in range(3):
        assert transport.request_json("GET", "/api/assetmanagement/v3/assets/root") == {"assetId": "root"}
    assert tokens.asked == 3
    assert tokens.invalidated == []
    assert api.last_request.headers["Authorization"] == "Bearer t1"


def test_a_401_invalidates_the_token_once_and_resends_with_a_new_one(transport, tokens, requests_mock):
    api = requests_mock.get(ROOT, [{"status_code": 401, "json": {"error": "invalid_token"}}, {"json": {"ok": 1}}])
    assert transport.request_json("GET", ROOT) == {"ok": 1}
    assert [t.access_token for t in tokens.invalidated] == ["t1"]
    assert [r.headers["Authorization"] for r in api.request_history] == ["Bearer t1", "Bearer t2"]


def test_a_second_401_is_raised_without_a_third_attempt(transport, tokens, requests_mock, sleeps):
    body = {"error": "token_validation_failed", "error_description": "[abc]"}
    api = requests_mock.get(ROOT, status_code=401, json=body)
    with pytest.raises(MdspUnauthorizedError) as err:
        transport.request("GET", ROOT)
    assert api.call_count == 2
    assert len(tokens.invalidated) == 1
    assert err.value.code == "token_validation_failed"
    assert sleeps == []


def test_a_429_waits_as_long_as_retry_after_says(transport, requests_mock, sleeps):
    requests_mock.get(ROOT, [{"status_code": 429, "headers": {"Retry-After": "7"}}, {"json": {}}])
    transport.request("GET", ROOT)
    assert sleeps == [7.0]


def test_retry_after_beyond_max_retry_wait_is_a_rate_limit_error_without_waiting(transport, requests_mock, sleeps):
    from airflow_provider_mdsp.exceptions import MdspRateLimitedError

    api = requests_mock.get(ROOT, [{"status_code": 429, "headers": {"Retry-After": "3600"}}, {"json": {}}])
    with pytest.raises(MdspRateLimitedError, match="asked to wait 3600 s") as err:
        transport.request("GET", ROOT)
    assert err.value.retry_after == 3600
    assert sleeps == []
    assert api.call_count == 1


def test_retry_after_within_max_retry_wait_is_waited_for(transport, requests_mock, sleeps):
    requests_mock.get(ROOT, [{"status_code": 429, "headers": {"Retry-After": "12"}}, {"json": {}}])
    transport.request("GET", ROOT)
    assert sleeps == [12.0]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_then_raised_with_their_status(transport, requests_mock, sleeps, status):
    api = requests_mock.get(ROOT, status_code=status, text="")
    with pytest.raises(MdspServerError) as err:
        transport.request("GET", ROOT)
    assert err.value.status == status
    assert api.call_count == 4  # the first attempt and max_retries=3
    assert len(sleeps) == 3
    assert all(0 < s <= 30.0 for s in sleeps)


def test_a_retried_call_succeeds_when_the_gateway_recovers(transport, requests_mock):
    api = requests_mock.get(ROOT, [{"status_code": 503}, {"status_code": 502}, {"json": {"ok": True}}])
    assert transport.request_json("GET", ROOT) == {"ok": True}
    assert api.call_count == 3


@pytest.mark.parametrize("status", [400, 403, 404, 409, 500])
def test_other_errors_are_not_retried(transport, requests_mock, sleeps, status):
    api = requests_mock.get(ROOT, status_code=status, json={"id": "x", "message": "no"})
    with pytest.raises(MdspApiError) as err:
        transport.request("GET", ROOT)
    assert err.value.status == status
    assert api.call_count == 1
    assert sleeps == []


def test_a_post_is_not_resent_after_a_read_timeout(transport, requests_mock):
    api = requests_mock.post(EVENTS, exc=requests.exceptions.ReadTimeout)
    with pytest.raises(MdspTimeoutError) as err:
        transport.request("POST", EVENTS, json={"entityId": "a"})
    assert err.value.request_sent is True
    assert api.call_count == 1


def test_a_get_is_retried_after_a_read_timeout(transport, requests_mock):
    api = requests_mock.get(ROOT, [{"exc": requests.exceptions.ReadTimeout}, {"json": {}}])
    transport.request("GET", ROOT)
    assert api.call_count == 2


@pytest.mark.parametrize("status", [502, 504])
def test_a_post_is_not_resent_after_an_ambiguous_gateway_error(transport, requests_mock, status):
    api = requests_mock.post(EVENTS, status_code=status)
    with pytest.raises(MdspServerError):
        transport.request("POST", EVENTS, json={})
    assert api.call_count == 1


@pytest.mark.parametrize(
    "first",
    [
        {"exc": requests.exceptions.ConnectTimeout},
        {"exc": refused_connection()},
        {"status_code": 503},
        {"status_code": 429, "headers": {"Retry-After": "1"}},
    ],
    ids=["connect-timeout", "refused", "503", "429"],
)
def test_a_post_is_resent_when_the_server_certainly_did_not_process_it(transport, requests_mock, first):
    api = requests_mock.post(EVENTS, [first, {"status_code": 201, "json": {"id": "e1"}}])
    assert transport.request_json("POST", EVENTS, json={}) == {"id": "e1"}
    assert api.call_count == 2


def test_a_dropped_connection_is_a_connection_error_naming_the_host(transport, requests_mock):
    requests_mock.post(EVENTS, exc=requests.exceptions.ConnectionError("reset by peer"))
    with pytest.raises(MdspConnectionError, match=r"gateway\.test"):
        transport.request("POST", EVENTS, json={})


def test_timeouts_are_always_passed(tokens, requests_mock):
    requests_mock.get(ROOT, json={})
    requests_mock.get(f"{GATEWAY}/other", json={})
    transport = Transport(ClientSettings(GATEWAY, connect_timeout=3, read_timeout=20), tokens)
    transport.request("GET", ROOT)
    transport.request("GET", "/other", timeout=(1.0, 2.0))
    assert [r.timeout for r in requests_mock.request_history] == [(3, 20), (1.0, 2.0)]


ERROR_BODIES = [
    # (service, body, headers, code, message, request id)
    ("timeseries", {"id": "ts-1", "message": "Property T130 unknown"}, {}, "ts-1", "Property T130 unknown", None),
    (
        "assets",
        {"errors": [{"code": "x", "errorcode": "mdsp.core.generic.noMatch", "logref": "L1", "message": "No asset"}]},
        {},
        "mdsp.core.generic.noMatch",
        "No asset",
        "L1",
    ),
    ("events", [{"logref": "L2", "message": "Bad filter"}], {}, None, "Bad filter", "L2"),
    (
        "bulk",
        {"timestamp": "t", "status": 400, "error": "Bad Request", "exception": "E", "message": "Bad job", "path": "/"},
        {},
        "Bad Request",
        "Bad job",
        None,
    ),
    ("oauth", {"error": "invalid_token", "error_description": "[x1]"}, {}, "invalid_token", "[x1]", None),
    ("header", {"id": "", "message": "m"}, {"X-Correlation-ID": "corr-9"}, None, "m", "corr-9"),
]


@pytest.mark.parametrize(("service", "body", "headers", "code", "message", "rid"), ERROR_BODIES, ids=lambda v: v)
def test_each_service_error_body_gives_code_message_and_request_id(
    transport, requests_mock, service, body, headers, code, message, rid
):
    requests_mock.get(ROOT, status_code=400, json=body, headers=headers)
    with pytest.raises(MdspBadRequestError) as err:
        transport.request("GET", ROOT)
    assert (err.value.code, err.value.message, err.value.request_id) == (code, message, rid)
    assert err.value.status == 400
    assert err.value.url == ROOT


def test_error_classes_follow_the_status(transport, requests_mock):
    requests_mock.get(f"{ROOT}?a=1", status_code=404, json={"id": "", "message": "gone"})
    requests_mock.get(f"{GATEWAY}/b", status_code=412, json={"id": "", "message": "stale"})
    requests_mock.get(f"{GATEWAY}/c", status_code=429, headers={"Retry-After": "1"})
    transport.settings = ClientSettings(GATEWAY, max_retries=0)
    with pytest.raises(MdspNotFoundError) as err:
        transport.request("GET", ROOT, params={"a": 1})
    assert "a=1" not in str(err.value)
    with pytest.raises(MdspConflictError):
        transport.request("GET", "/b")
    with pytest.raises(MdspRateLimitedError) as limited:
        transport.request("GET", "/c")
    assert limited.value.retry_after == 1.0


@pytest.mark.parametrize(
    ("text", "ctype", "match"),
    [
        ("<html><body>Proxy login</body></html>", "text/html", "HTML page"),
        ('{"assetId": "abc", "na', "application/json", "not valid JSON"),
        ("<!DOCTYPE html><p>", "application/json", "HTML page"),
    ],
)
def test_html_and_truncated_bodies_are_response_errors(transport, requests_mock, text, ctype, match):
    requests_mock.get(ROOT, text=text, headers={"Content-Type": ctype})
    with pytest.raises(MdspResponseError, match=match) as err:
        transport.request_json("GET", ROOT)
    assert err.value.status == 200
    assert err.value.body_excerpt


def test_an_empty_body_is_none(transport, requests_mock):
    requests_mock.delete(ROOT, status_code=204)
    assert transport.request_json("DELETE", ROOT) is None


def test_absolute_urls_to_other_hosts_are_refused(transport, requests_mock):
    with pytest.raises(MdspUnsafeLinkError, match=r"evil\.example"):
        transport.request("GET", "https://evil.example/api/x")
    assert requests_mock.call_count == 0


def test_a_plain_http_link_to_the_gateway_keeps_https(transport):
    assert transport.url_for("http://gateway.test/api/x?a=1") == "https://gateway.test/api/x?a=1"


def test_none_query_values_are_dropped(transport, requests_mock):
    api = requests_mock.get(ROOT, json={})
    transport.request("GET", ROOT, params={"a": None, "b": "x"})
    assert api.last_request.query == "b=x"


def test_a_seekable_file_body_is_sent_whole_again_after_a_401_and_a_429(transport, requests_mock):
    received, statuses = [], [401, 429, 200]

    def answer(request, context):
        # The body is read when the request is sent, as a real connection would.
        received.append(request.body.read() if hasattr(request.body, "read") else request.body)
        context.status_code = statuses[len(received) - 1]
        return ""

    requests_mock.put(f"{GATEWAY}/f", text=answer)
    transport.request("PUT", "/f", data=io.BytesIO(b"payload"))
    assert received == [b"payload"] * 3


class OneShotStream(io.RawIOBase):
    """A stream that cannot seek, like a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_stream_that_cannot_seek_is_sent_once_even_after_a_429(transport, requests_mock):
    api = requests_mock.put(f"{GATEWAY}/f", [{"status_code": 429}, {"text": ""}])
    with pytest.raises(MdspRateLimitedError):
        transport.request("PUT", "/f", data=OneShotStream(b"payload"))
    assert api.call_count == 1
