"""When to retry a failed call and how long to wait: pure decisions, and the one loop that runs them.

Retried: connection errors, 429 (honouring ``Retry-After``, capped) and 502/503/504, with
exponential backoff and jitter, bounded attempts and total time. The
statuses come from one table, :data:`~airflow_provider_mdsp.exceptions.RETRY_STATUSES`, which the
errors' ``retryable`` reads too. A call that is not idempotent (a POST that creates something) is
sent again only when the server certainly did not process it: 429 and 503 answers
(:data:`~airflow_provider_mdsp.exceptions.NOT_PROCESSED_STATUSES`), and connection errors raised
before the request left the machine. After a read timeout, a dropped connection, 502 or 504 it is not
retried, since the first attempt may have taken effect.

Every request goes through this one loop (:meth:`Transport.request`, token requests too). Three
domain loops sit on top of it, each for what a status alone cannot decide, each bounded:

* **Lost answer of a create** (``EventsClient.create_event``, ``CREATE_EVENT_ATTEMPTS``): a POST whose
  answer was lost is not resent blindly; the event is looked up by its correlation id first
  (``find_by_correlation``, after each of ``EVENT_VISIBILITY_WAITS``), and only created again when absent.
* **ETag conflict** (``AssetsClient._with_etag``): a write without a caller's ETag that meets 412
  reads the current ETag and sends once more; with the caller's ETag the conflict is raised.
* **429 inside a 202** (``TimeSeriesClient._send_multi``, ``MULTI_RATE_LIMIT_RETRIES``): a
  multi-entity write answers 202 listing throttled pairs; only those are resent, after
  :func:`wait_seconds`.

The transport's one token renewal after a 401 is not a retry of this table: it is the token's.

Deadlines: every call has a total deadline (``max_retry_time``, the connection's ``call_timeout``)
that covers its attempts and the waits between them. A wait never reaches past it; a server whose
``Retry-After`` asks for more than ``max_retry_wait`` or than the time left gets
:class:`~airflow_provider_mdsp.exceptions.MdspRateLimitedError` saying how long it asked for, at
once, so a sensor in reschedule or deferrable mode can come back later instead of sleeping.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TypeVar

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.client.settings import ClientSettings
from airflow_provider_mdsp.exceptions import (
    NOT_PROCESSED_STATUSES,
    RETRY_STATUSES,
    MdspApiError,
    MdspConnectionError,
    MdspRateLimitedError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = [
    "NOT_PROCESSED_STATUSES",
    "RETRY_STATUSES",
    "RetryLoop",
    "give_up_on_retry_after",
    "is_idempotent",
    "make_retrying",
    "should_retry",
    "wait_seconds",
]

#: HTTP methods that can be sent twice with the same effect (RFC 9110 §9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def is_idempotent(method: str) -> bool:
    """Tell whether a method may be retried after the server might have acted on it."""
    return method.upper() in IDEMPOTENT_METHODS


def should_retry(exc: BaseException, *, idempotent: bool) -> bool:
    """Decide whether a failed attempt is worth another one.

    :param exc: the error the attempt raised.
    :param idempotent: whether sending the request twice is harmless.
    """
    if isinstance(exc, MdspApiError):
        return exc.retryable and (idempotent or exc.not_processed)
    if isinstance(exc, MdspConnectionError):
        return idempotent or not exc.request_sent
    return False


def wait_seconds(
    attempt: int,
    *,
    retry_after: float | None,
    base: float,
    cap: float,
    rand: Callable[[], float] = random.random,
) -> float:
    """Return how long to wait before attempt ``attempt + 1``.

    A server's ``Retry-After`` (sent with 429 and often with 503) wins, capped at ``cap``.
    Otherwise the wait is exponential, ``base * 2**(attempt-1)`` capped at ``cap``, with "equal
    jitter": a uniform draw between half and all of it, so throttled workers do not come back in
    lockstep.

    :param attempt: the number of the attempt that just failed, from 1.
    :param retry_after: seconds the server asked for, if any.
    :param base: first backoff step in seconds.
    :param cap: longest wait in seconds.
    :param rand: source of uniform numbers in [0, 1), injectable for tests.
    """
    if retry_after is not None:
        return min(max(retry_after, 0.0), cap)
    step = min(base * (2 ** max(attempt - 1, 0)), cap)
    return step / 2 + rand() * step / 2


def give_up_on_retry_after(exc: BaseException, *, cap: float, remaining: float) -> MdspRateLimitedError | None:
    """Return the error to raise when a server asks to wait longer than allowed, else ``None``.

    A ``Retry-After`` within ``max_retry_wait`` and the time left is waited for (:func:`wait_seconds`).
    One beyond the cap (a spent hourly quota asks for up to an hour) is refused at once: waiting the
    cap and asking again would only meet the same answer, call after call. One beyond the call's
    deadline could only end in a failure later, so it fails now too.

    :param exc: the failed attempt's error (its ``retry_after`` is what the server asked for).
    :param cap: the longest single wait, ``max_retry_wait``.
    :param remaining: seconds left before the call's total deadline.
    """
    if not isinstance(exc, MdspApiError) or exc.retry_after is None or exc.retry_after <= min(cap, remaining):
        return None
    asked = exc.retry_after
    if cap <= remaining:
        limit = f"the longest wait allowed, {cap:g} s (connection field 'max_retry_wait')"
    else:
        limit = f"the {max(remaining, 0):.0f} s left before the call's deadline (connection field 'call_timeout')"
    where = f"{exc.method} {exc.url}: " if exc.method and exc.url else ""
    return MdspRateLimitedError(
        exc.status,
        f"{where}the server asked to wait {asked:.0f} s before trying again (Retry-After), longer than "
        f"{limit}; try again later. Last answer: {exc.message}",
        code=exc.code,
        request_id=exc.request_id,
        retry_after=asked,
    )


class RetryLoop:
    """Run one call's attempts: retry what :func:`should_retry` allows, within attempts and deadline.

    :param settings: retry limits (``max_retries``, ``max_retry_wait``, ``max_retry_time``, ``backoff_base``).
    :param idempotent: whether the call may be resent after it possibly reached the server.
    :param sleep: the sleep function; tests inject a recorder.
    :param rand: source of jitter.
    :param monotonic: the clock of the deadline.
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        idempotent: bool,
        sleep: Callable[[float], None] = timeutil.sleep,
        rand: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = timeutil.monotonic,
    ) -> None:
        self.settings, self.idempotent = settings, idempotent
        self._sleep, self._rand, self._monotonic = sleep, rand, monotonic
        self.deadline = monotonic() + settings.max_retry_time

    def remaining(self) -> float:
        """Seconds left before the call's total deadline."""
        return self.deadline - self._monotonic()

    def __call__(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it succeeds, or raise its last error (or a rate-limit error)."""
        self.deadline = self._monotonic() + self.settings.max_retry_time
        number = 0
        while True:
            number += 1
            try:
                return attempt()
            except Exception as exc:
                if not should_retry(exc, idempotent=self.idempotent) or number > self.settings.max_retries:
                    raise
                remaining = self.remaining()
                refused = give_up_on_retry_after(exc, cap=self.settings.max_retry_wait, remaining=remaining)
                if refused is not None:
                    raise refused from exc
                wait = wait_seconds(
                    number,
                    retry_after=exc.retry_after if isinstance(exc, MdspApiError) else None,
                    base=self.settings.backoff_base,
                    cap=self.settings.max_retry_wait,
                    rand=self._rand,
                )
                if wait >= remaining:
                    raise  # the next attempt could not start before the deadline
                log.warning("Attempt %d failed (%s); retrying in %.1f s", number, exc, wait)
                self._sleep(wait)


def make_retrying(
    settings: ClientSettings,
    *,
    idempotent: bool,
    sleep: Callable[[float], None] = timeutil.sleep,
    rand: Callable[[], float] = random.random,
) -> RetryLoop:
    """Build the retry loop of one call from the settings and the pure decisions above.

    :param settings: retry limits (``max_retries``, ``max_retry_wait``, ``max_retry_time``, ``backoff_base``).
    :param idempotent: whether the call may be resent after it possibly reached the server.
    :param sleep: the sleep function; tests inject a recorder.
    :param rand: source of jitter.
    """
    return RetryLoop(settings, idempotent=idempotent, sleep=sleep, rand=rand)
