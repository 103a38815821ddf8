"""Shared setup of the bad-input tests: one ``mdsp`` connection, its token endpoint, and the secrets to hunt for."""

from __future__ import annotations

from typing import Any

import pytest

GATEWAY = "https://gateway.eu1.mindsphere.io"
TOKEN_URL = "https://acme.piam.eu1.mindsphere.io/oauth/token"
TS_PATH = "/api/iottimeseries/v3/timeseries/asset1/Vibration"
TS_URL = GATEWAY + TS_PATH
CLIENT_SECRET = "client-secret-7f3a-never-shown"
ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.access-token-4c1d-never-shown.sig"
#: Every value that must never reach a log record, an error message or an output file.
SECRETS = (CLIENT_SECRET, ACCESS_TOKEN, "access-token-4c1d")


def token_response(value: str = ACCESS_TOKEN, expires_in: int = 1800) -> dict[str, Any]:
    """Return what a PIAM token endpoint answers."""
    return {"access_token": value, "token_type": "Bearer", "expires_in": expires_in, "scope": "iot.tim.r em.w"}


def records(start: int, count: int) -> list[dict[str, Any]]:
    """Return ``count`` time-series records, one per second from second ``start`` of 2026-01-01."""
    return [
        {
            "_time": f"2026-01-01T{(start + i) // 3600:02d}:{(start + i) // 60 % 60:02d}:{(start + i) % 60:02d}Z",
            "rms": float(start + i),
        }
        for i in range(count)
    ]


def assert_no_secret(*texts: object) -> None:
    """Fail if any of the given texts (messages, reprs, logs, file contents) holds a secret."""
    for text in texts:
        for secret in SECRETS:
            assert secret not in str(text), f"a secret leaked into: {str(text)[:300]}"


@pytest.fixture
def conn(mdsp_connection) -> str:
    """An ``mdsp`` connection with quick retries (no test waits for a real backoff)."""
    return mdsp_connection(
        host=GATEWAY,
        login="acme-tech",
        password=CLIENT_SECRET,
        extra={"tenant": "acme", "max_retries": 2, "max_retry_wait": 0.01},
    )


@pytest.fixture
def token(requests_mock):
    """The tenant's token endpoint, answering with :data:`ACCESS_TOKEN`."""
    return requests_mock.post(TOKEN_URL, json=token_response())
