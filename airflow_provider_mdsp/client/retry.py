"""When to retry a failed call and how long to wait: pure decisions, wired into tenacity once.

Retried: connection errors, 429 (honouring ``Retry-After``, capped) and 502/503/504, with
exponential backoff and jitter, bounded attempts and total time (user-asks.md asks 2 and 8). The
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
  (``_find_created``, waits ``EVENT_VISIBILITY_WAITS``), and only created again when absent.
* **ETag conflict** (``AssetsClient._with_etag``): a write without a caller's ETag that meets 412
  reads the current ETag and sends once more; with the caller's ETag the conflict is raised.
* **429 inside a 202** (``TimeSeriesClient._send_multi``, ``MULTI_RATE_LIMIT_RETRIES``): a
  multi-entity write answers 202 listing throttled pairs; only those are resent, after
  :func:`wait_seconds`.

The transport's one token renewal after a 401 is not a retry of this table: it is the token's.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import tenacity

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.client.settings import ClientSettings
from airflow_provider_mdsp.exceptions import (
    NOT_PROCESSED_STATUSES,
    RETRY_STATUSES,
    MdspApiError,
    MdspConnectionError,
)

log = logging.getLogger(__name__)

__all__ = ["NOT_PROCESSED_STATUSES", "RETRY_STATUSES", "is_idempotent", "make_retrying", "should_retry", "wait_seconds"]

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


def make_retrying(
    settings: ClientSettings,
    *,
    idempotent: bool,
    sleep: Callable[[float], None] = timeutil.sleep,
    rand: Callable[[], float] = random.random,
) -> tenacity.Retrying:
    """Build the tenacity ``Retrying`` for one call from the settings and the pure decisions above.

    :param settings: retry limits (``max_retries``, ``max_retry_wait``, ``max_retry_time``, ``backoff_base``).
    :param idempotent: whether the call may be resent after it possibly reached the server.
    :param sleep: the sleep function; tests inject a recorder.
    :param rand: source of jitter.
    """

    def _wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = exc.retry_after if isinstance(exc, MdspApiError) else None
        return wait_seconds(
            state.attempt_number,
            retry_after=retry_after,
            base=settings.backoff_base,
            cap=settings.max_retry_wait,
            rand=rand,
        )

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(settings.max_retries + 1) | tenacity.stop_after_delay(settings.max_retry_time),
        wait=_wait,
        retry=tenacity.retry_if_exception(lambda exc: should_retry(exc, idempotent=idempotent)),
        sleep=sleep,
        reraise=True,
        before_sleep=_log_retry,
    )


def _log_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning("Attempt %d failed (%s); retrying in %.1f s", state.attempt_number, exc, wait)
