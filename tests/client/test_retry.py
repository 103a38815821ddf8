"""The retry decisions: one table of what is retried, and how long each wait is."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.client.retry import make_retrying, should_retry, wait_seconds
from airflow_provider_mdsp.client.settings import ClientSettings
from airflow_provider_mdsp.exceptions import (
    MdspAuthError,
    MdspConfigError,
    MdspConnectionError,
    MdspResponseError,
    MdspTimeoutError,
    error_class_for_status,
)

# status: (retried when idempotent, retried when not idempotent)
TABLE = {
    400: (False, False),
    401: (False, False),
    403: (False, False),
    404: (False, False),
    409: (False, False),
    412: (False, False),
    429: (True, True),  # refused before processing: even a POST may be resent
    500: (False, False),  # the service failed on this request; it would again
    501: (False, False),
    502: (True, False),  # the first attempt may have reached the service
    503: (True, True),  # unavailable: refused before processing
    504: (True, False),
}


@pytest.mark.parametrize("status", sorted(TABLE))
def test_should_retry_follows_the_table_and_agrees_with_the_error(status):
    error = error_class_for_status(status)(status, "answer")
    idempotent, not_idempotent = TABLE[status]
    assert should_retry(error, idempotent=True) is idempotent
    assert should_retry(error, idempotent=False) is not_idempotent
    assert error.retryable is idempotent  # the error says what the decision does


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (MdspConnectionError("refused", request_sent=False), False, True),
        (MdspConnectionError("dropped mid-request", request_sent=True), False, False),
        (MdspConnectionError("dropped mid-request", request_sent=True), True, True),
        (MdspTimeoutError("read timeout"), False, False),
        (MdspTimeoutError("read timeout"), True, True),
        (MdspResponseError("not JSON", status=200), True, False),
        (MdspAuthError("bad secret", status=401), True, False),
        (MdspConfigError("bad field"), True, False),
        (ValueError("not ours"), True, False),
    ],
    ids=repr,
)
def test_should_retry_other_failures(error, idempotent, expected):
    assert should_retry(error, idempotent=idempotent) is expected


def waits(attempts, *, rand, retry_after=None, base=1.0, cap=30.0):
    return [wait_seconds(n, retry_after=retry_after, base=base, cap=cap, rand=lambda: rand) for n in attempts]


def test_backoff_doubles_from_base_within_equal_jitter_bounds():
    assert waits(range(1, 6), rand=0.0) == [0.5, 1.0, 2.0, 4.0, 8.0]  # lowest: half the step
    assert waits(range(1, 6), rand=1.0) == [1.0, 2.0, 4.0, 8.0, 16.0]  # highest: the whole step
    middle = waits(range(1, 6), rand=0.5)
    assert middle == [0.75, 1.5, 3.0, 6.0, 12.0]


def test_backoff_is_capped():
    assert waits([6, 7, 20], rand=1.0) == [30.0, 30.0, 30.0]
    assert waits([20], rand=0.0) == [15.0]  # the jitter stays below the cap too


def test_retry_after_wins_over_backoff_and_is_capped():
    assert waits([1, 4], rand=0.0, retry_after=7.0) == [7.0, 7.0]
    assert waits([1], rand=0.0, retry_after=120.0) == [30.0]
    assert waits([3], rand=0.9, retry_after=-5.0) == [0.0]


def test_make_retrying_waits_as_decided_and_stops_after_max_retries():
    sleeps: list[float] = []
    settings = ClientSettings("https://gateway.eu1.mindsphere.io", max_retries=3, backoff_base=1.0, max_retry_wait=30)
    retrying = make_retrying(settings, idempotent=True, sleep=sleeps.append, rand=lambda: 1.0)
    calls = []

    def fail():
        calls.append(1)
        raise error_class_for_status(503)(503, "unavailable")

    with pytest.raises(Exception, match="HTTP 503"):
        retrying(fail)
    assert len(calls) == 4
    assert sleeps == [1.0, 2.0, 4.0]


def test_make_retrying_does_not_retry_a_post_that_may_have_been_processed():
    sleeps: list[float] = []
    settings = ClientSettings("https://gateway.eu1.mindsphere.io", max_retries=3)
    retrying = make_retrying(settings, idempotent=False, sleep=sleeps.append)
    with pytest.raises(Exception, match="HTTP 504"):
        retrying(lambda: (_ for _ in ()).throw(error_class_for_status(504)(504, "gateway timeout")))
    assert sleeps == []
