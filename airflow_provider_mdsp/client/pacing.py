"""Pace concurrent calls to one gateway: a shared token bucket that slows down when the service throttles.

Threads that read sub-windows of one time series share one client, one token and one tenant quota.
Throttling is per client (a 429 with ``Retry-After``, mindsphere/mindconnect-nodejs issue 344), so a 429 seen by one
thread concerns them all. Absorbing 429s (every thread waits out its own ``Retry-After`` and
tries again at full speed) costs one 429 per thread per quota window for the whole read; pacing
costs about one per thread once: on the first 429 every thread holds until ``Retry-After`` has
passed, and from then on calls leave at most at 90 % of the rate the service let through.

The rate let through is estimated from the calls that succeeded during the ``Retry-After``
period before the 429 (at least 1 s): a fixed-window limit of N calls per W seconds answers the
(N+1)-th call with the time left in its window, so those calls are N in about ``Retry-After``
seconds (20 calls per second gives 18/s; 120 per minute, reached within a second, gives 1.8/s).
When the window was long and reached slowly the estimate is high, and the next 429 lowers it
again. The rate never rises back during a read: probing would cost another round of 429s, and
a read is short next to the quota window a tenant is configured with.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from airflow_provider_mdsp import timeutil

#: Share of the estimated allowed rate the pacer uses, leaving room for other clients of the tenant.
HEADROOM = 0.9
#: Slowest pace the estimate may set, in calls per second.
MIN_RATE = 0.2
#: How long successful calls are remembered for the estimate, in seconds.
MEMORY_S = 300.0


def allowed_rate(success_times: list[float], now: float, retry_after: float | None) -> float:
    """Estimate the calls per second a throttling service allows, from the calls it let through.

    :param success_times: monotonic times of recent successful calls, oldest first.
    :param now: the time of the 429.
    :param retry_after: the 429's ``Retry-After`` in seconds, if any.
    """
    period = max(retry_after or 0.0, 1.0)
    recent = sum(1 for moment in success_times if moment > now - period)
    return max(MIN_RATE, HEADROOM * recent / period)


class RatePacer:
    """A token bucket shared by the threads of one client, without a rate until the service throttles.

    Call :meth:`before_send` before each request and :meth:`after_response` with its status after it.

    :param clock: monotonic seconds clock (injectable for tests).
    :param sleep: sleep function (injectable for tests).
    :param rate: a fixed pace in calls per second from the start (a tenant's known quota), or ``None``.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = timeutil.monotonic,
        sleep: Callable[[float], None] = timeutil.sleep,
        rate: float | None = None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.rate = rate
        self._next_slot = 0.0
        self._hold_until = 0.0
        self._changed_at = float("-inf")
        self._successes: deque[float] = deque()
        #: 429 answers seen, for summaries and benchmarks.
        self.throttled = 0

    def before_send(self) -> float:
        """Wait for this call's slot and return the time it is sent (pass it to :meth:`after_response`)."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._hold_until)
            if self.rate:
                slot = max(slot, self._next_slot)
                self._next_slot = slot + 1.0 / self.rate
        if slot > now:
            self._sleep(slot - now)
        return slot

    def after_response(self, status: int, sent_at: float, retry_after: float | None = None) -> None:
        """Learn from one answer: remember a success, or slow every thread down after a 429.

        A 429 to a call sent before the last slow-down only extends the hold: it was already in
        flight, and counting it again would halve the pace for every thread that was.

        :param status: the HTTP status.
        :param sent_at: what :meth:`before_send` returned for this call.
        :param retry_after: the 429's ``Retry-After`` in seconds, if any.
        """
        with self._lock:
            now = self._clock()
            if status != 429:
                if status < 400:
                    self._successes.append(now)
                    while self._successes and self._successes[0] < now - MEMORY_S:
                        self._successes.popleft()
                return
            self.throttled += 1
            self._hold_until = max(self._hold_until, now + max(retry_after or 0.0, 1.0 / (self.rate or 1.0)))
            if sent_at < self._changed_at:
                return
            estimate = allowed_rate(list(self._successes), now, retry_after)
            self.rate = estimate if self.rate is None else min(self.rate, estimate)
            self._changed_at = now
            self._next_slot = self._hold_until
