"""No client secret or token in any log record (at DEBUG, every logger) or error, whatever goes wrong."""

from __future__ import annotations

import logging

import pytest
import requests

from airflow_provider_mdsp.exceptions import MdspError
from airflow_provider_mdsp.hooks.mdsp import MdspHook
from tests.badinput.conftest import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    TOKEN_URL,
    TS_PATH,
    TS_URL,
    assert_no_secret,
    token_response,
)

EVENTS_URL = "https://gateway.eu1.mindsphere.io/api/eventmanagement/v3/events"


def run(action) -> BaseException | None:
    try:
        action()
    except MdspError as exc:
        return exc
    return None


def texts_of(exc: BaseException | None) -> list[str]:
    """Everything a user could see of an error: message, repr, excerpt, and its chained causes."""
    out: list[str] = []
    while exc is not None:
        out += [str(exc), repr(exc), str(getattr(exc, "body_excerpt", "")), str(getattr(exc, "message", ""))]
        exc = exc.__cause__ or exc.__context__
    return out


@pytest.fixture(autouse=True)
def _debug_everything(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "airflow_provider_mdsp", "tenacity"):
        logging.getLogger(name).setLevel(logging.DEBUG)


def test_a_rejected_secret_is_not_echoed_even_when_the_token_endpoint_echoes_it(conn, requests_mock, caplog):
    requests_mock.post(
        TOKEN_URL,
        status_code=401,
        json={"error": "unauthorized", "error_description": f"Bad credentials for secret {CLIENT_SECRET}"},
    )
    exc = run(lambda: MdspHook(conn).request("GET", TS_PATH))
    assert exc is not None
    assert_no_secret(caplog.text, *texts_of(exc))


def test_retries_renewals_and_failures_log_no_token(conn, requests_mock, caplog):
    requests_mock.post(TOKEN_URL, [{"json": token_response()}, {"json": token_response(ACCESS_TOKEN + "-2")}])
    requests_mock.get(
        TS_URL,
        [
            {"status_code": 401, "json": {"error": "invalid_token"}},
            {"status_code": 429, "headers": {"Retry-After": "0"}, "json": {"id": "tooMany", "message": "slow down"}},
            {"exc": requests.exceptions.ConnectionError("connection reset")},
            {"status_code": 503, "text": "unavailable"},
            {"status_code": 503, "text": "unavailable"},
            {"status_code": 503, "text": "unavailable"},
        ],
    )
    hook = MdspHook(conn)
    errors = [run(lambda: hook.request("GET", TS_PATH)) for _ in range(2)]
    assert any(errors), "the scenario ends in a failure"
    assert "retrying" in caplog.text, "retries are logged"
    assert_no_secret(caplog.text, *[t for e in errors for t in texts_of(e)])


def test_an_api_error_that_echoes_the_bearer_token_does_not_show_it(conn, token, requests_mock, caplog):
    # Some proxies and debug gateways print the request headers in their error page.
    requests_mock.get(
        TS_URL,
        status_code=400,
        json={"id": "badRequest", "message": f"Rejected request with Authorization: Bearer {ACCESS_TOKEN}"},
    )
    exc = run(lambda: MdspHook(conn).request("GET", TS_PATH))
    assert exc is not None
    assert_no_secret(caplog.text, *texts_of(exc))


def test_an_event_create_that_fails_ambiguously_logs_no_token(conn, token, requests_mock, caplog, monkeypatch):
    monkeypatch.setattr("airflow_provider_mdsp.client.events.EVENT_VISIBILITY_WAITS", (0.0, 0.0))
    requests_mock.post(EVENTS_URL, exc=requests.exceptions.ReadTimeout("read timed out"))
    requests_mock.get(EVENTS_URL, json={"page": {"totalPages": 0}})
    exc = run(lambda: MdspHook(conn).client.events.create_event({"entityId": "asset1", "typeId": "acme.Alarm"}))
    assert exc is not None
    assert "checking whether it exists" in caplog.text
    assert_no_secret(caplog.text, *texts_of(exc))
