"""The shared pacer: no pace until a 429, then a hold for Retry-After and a rate the service allows."""

from __future__ import annotations

import itertools

from airflow_provider_mdsp.client.pacing import RatePacer, allowed_rate


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_allowed_rate_is_what_got_through_during_the_retry_after_period():
    # 20 calls per second let through, then a 429 with Retry-After: 1.
    assert allowed_rate([99.1 + n * 0.04 for n in range(20)], 100.0, 1) == 0.9 * 20
    # 120 per minute reached within a second: the 429 asks for 59 s.
    assert round(allowed_rate([99.0 + n * 0.008 for n in range(120)], 100.0, 59), 2) == round(0.9 * 120 / 59, 2)


def test_calls_are_not_paced_before_the_service_throttles():
    t = FakeTime()
    pacer = RatePacer(clock=t.clock, sleep=t.sleep)
    for _ in range(50):
        pacer.after_response(200, pacer.before_send())
    assert t.slept == []


def test_after_a_429_every_call_waits_for_retry_after_then_leaves_at_the_allowed_pace():
    t = FakeTime()
    pacer = RatePacer(clock=t.clock, sleep=t.sleep)
    sent = []
    for _ in range(20):
        sent.append(pacer.before_send())
        t.now += 0.01
        pacer.after_response(200, sent[-1])
    in_flight = [pacer.before_send() for _ in range(3)]  # sent before the 429 came back
    pacer.after_response(429, in_flight[0], retry_after=1)
    assert pacer.rate == 0.9 * 20
    for sent_at in in_flight[1:]:
        pacer.after_response(429, sent_at, retry_after=1)
    assert pacer.rate == 0.9 * 20, "429s to calls already in flight do not slow the pace again"
    assert pacer.throttled == 3
    held_from = t.now
    slots = [pacer.before_send() for _ in range(5)]
    assert slots[0] >= held_from + 1, "held for Retry-After"
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert all(abs(gap - 1 / 18) < 1e-9 for gap in gaps)


def test_a_fixed_rate_paces_from_the_start():
    t = FakeTime()
    pacer = RatePacer(clock=t.clock, sleep=t.sleep, rate=10)
    slots = [pacer.before_send() for _ in range(4)]
    assert [round(b - a, 6) for a, b in itertools.pairwise(slots)] == [0.1, 0.1, 0.1]
