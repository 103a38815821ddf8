"""Every call has a deadline: a trickling server, a slow token endpoint, retries that nest, Retry-After."""

from __future__ import annotations

import email.utils
import threading
import time

import pytest

from airflow_provider_mdsp.exceptions import (
    MdspConnectionError,
    MdspRateLimitedError,
    MdspServerError,
    MdspTimeoutError,
)
from tests.hostile.server import TOKEN_BODY, answer, trickle

TS = "/api/iottimeseries/v3/timeseries/a1/Vibration"
SLOW_BODY = b"[" + b'{"_time": "2026-01-01T00:00:00.000Z", "v": 1},' * 200 + b"{}]"


@pytest.fixture
def stop():
    event = threading.Event()
    yield event
    event.set()


def test_a_body_trickled_a_byte_at_a_time_fails_at_the_response_deadline(gateway, client_for, stop):
    gateway.play("/api")(lambda h, s: trickle(h, SLOW_BODY, 0.05, stop))  # never trips a 5 s read timeout
    client = client_for(response_timeout=1.0, max_retries=0)
    began = time.monotonic()
    with pytest.raises(MdspTimeoutError, match="response_timeout") as err:
        client.request_json("GET", TS)
    elapsed = time.monotonic() - began
    assert elapsed < 3.0, f"failed after {elapsed:.1f} s, not at the 1 s deadline"
    assert "within 1 s" in str(err.value)


def test_the_call_deadline_bounds_all_attempts_and_waits_together(gateway, client_for, stop):
    gateway.play("/api")(lambda h, s: trickle(h, SLOW_BODY, 0.05, stop))
    client = client_for(response_timeout=1.0, max_retry_time=2.5, max_retries=10)
    began = time.monotonic()
    with pytest.raises(MdspTimeoutError, match=r"call_timeout|response_timeout"):
        client.request_json("GET", TS)
    elapsed = time.monotonic() - began
    assert elapsed < 4.5, f"failed after {elapsed:.1f} s, not at the 2.5 s call deadline"
    assert 2 <= gateway.count("/api") <= 3, "retried within the deadline, no further"


def test_a_slow_token_fetch_holds_other_threads_only_until_their_own_deadline(gateway, client_for, stop):
    gateway.play("/oauth/token")(lambda h, s: trickle(h, TOKEN_BODY, 0.2, stop))
    gateway.play("/api")(lambda h, s: answer(h, 200, b"[]"))
    client = client_for(response_timeout=1.0, max_retries=0)
    outcomes: dict[str, float] = {}

    def call(name: str) -> None:
        began = time.monotonic()
        try:
            client.request_json("GET", TS)
        except MdspConnectionError:  # a timeout, or the waited-for fetch's own failure passed on
            outcomes[name] = time.monotonic() - began

    threads = [threading.Thread(target=call, args=(f"t{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["t0", "t1", "t2"], "every thread gave up with a typed error"
    assert max(outcomes.values()) < 3.0, outcomes
    assert gateway.count("/api") == 0


def test_a_token_fetched_outside_any_call_fails_at_the_response_deadline(gateway, client_for, stop):
    # What the connection test does: a token alone, with no API call (and its deadline) around it.
    gateway.play("/oauth/token")(lambda h, s: trickle(h, TOKEN_BODY, 0.05, stop))  # 5 s in all
    client = client_for(response_timeout=1.0, max_retries=1)
    began = time.monotonic()
    with pytest.raises(MdspTimeoutError, match=r"token endpoint within 1 s \(connection field 'response_timeout'\)"):
        client.transport.tokens.get_token()
    elapsed = time.monotonic() - began
    assert elapsed < 3.5, f"failed after {elapsed:.1f} s, not at two 1 s deadlines"
    assert gateway.count("/oauth/token") == 2, "a timed-out token request is retried like any idempotent one"


def test_a_failing_token_endpoint_is_retried_by_the_token_policy_alone(gateway, client_for):
    gateway.play("/oauth/token")(lambda h, s: answer(h, 503, b'{"error": "unavailable"}'))
    client = client_for(max_retries=2)
    with pytest.raises(MdspServerError):
        client.request_json("GET", TS)
    assert gateway.count("/oauth/token") == 3, "one token loop of 1 + 2 attempts, not 3 x 3"
    assert gateway.count("/api") == 0


#: A wall time far from the machine's (2030-01-01T00:00:00Z): a date read against the system clock misses by years.
CLOCK_START = 1893456000.0


def test_retry_after_as_an_http_date_is_read_against_the_providers_clock(gateway, client_for):
    from airflow_provider_mdsp import timeutil

    clock = timeutil.ManualClock(start=CLOCK_START)
    calls = []

    def throttled_once(handler, seen):
        calls.append(seen)
        if len(calls) == 1:
            when = email.utils.formatdate(clock.now + 3, usegmt=True)
            answer(handler, 429, b'{"message": "slow down"}', {"Retry-After": when})
        else:
            answer(handler, 200, b"[]")

    gateway.play("/api")(throttled_once)
    with timeutil.using_clock(clock):
        assert client_for(max_retry_wait=10.0).request_json("GET", TS) == []
    assert len(calls) == 2
    assert clock.sleeps == [3.0], "the date is 3 s ahead of the provider's clock, whatever the system time"


@pytest.mark.parametrize("asked", ["3600", None])
def test_a_server_asking_for_more_than_the_cap_gets_a_rate_limit_error_at_once(asked, gateway, client_for):
    from airflow_provider_mdsp import timeutil

    clock = timeutil.ManualClock(start=CLOCK_START)
    value = asked or email.utils.formatdate(clock.now + 3600, usegmt=True)
    gateway.play("/api")(lambda h, s: answer(h, 429, b'{"message": "quota"}', {"Retry-After": value}))
    with timeutil.using_clock(clock), pytest.raises(MdspRateLimitedError, match="asked to wait 3600 s") as err:
        client_for(max_retry_wait=60.0, max_retries=5).request_json("GET", TS)
    assert err.value.retry_after == 3600
    assert "60 s (connection field 'max_retry_wait')" in str(err.value)
    assert gateway.count("/api") == 1
    assert clock.sleeps == [], "no wait of an hour, no hammering either"


def test_a_server_asking_for_more_than_the_time_left_gets_a_rate_limit_error_naming_call_timeout(gateway, client_for):
    from airflow_provider_mdsp import timeutil

    gateway.play("/api")(lambda h, s: answer(h, 429, b'{"message": "quota"}', {"Retry-After": "50"}))
    clock = timeutil.ManualClock(start=CLOCK_START)
    with timeutil.using_clock(clock), pytest.raises(MdspRateLimitedError, match="asked to wait 50 s") as err:
        client_for(max_retry_wait=60.0, max_retry_time=30.0).request_json("GET", TS)
    assert "call_timeout" in str(err.value)
    assert gateway.count("/api") == 1
    assert clock.sleeps == []


def test_a_retry_after_within_the_cap_is_waited_for_exactly(gateway, client_for):
    from airflow_provider_mdsp import timeutil

    calls = []

    def throttled_twice(handler, seen):
        calls.append(seen)
        status, body = (429, b'{"message": "slow down"}') if len(calls) <= 2 else (200, b"[]")
        answer(handler, status, body, {"Retry-After": "60"})

    gateway.play("/api")(throttled_twice)
    clock = timeutil.ManualClock(start=CLOCK_START)
    with timeutil.using_clock(clock):
        assert client_for(max_retry_wait=60.0).request_json("GET", TS) == []
    assert clock.sleeps == [60.0, 60.0], "a wait right at the cap is honoured, not refused"
