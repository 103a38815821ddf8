"""Waiting: the one polling loop of the worker, and a trigger's event turned into a task result.

Waiting operators (bulk import, Data Lake import) poll in the worker through :func:`poll_until`;
triggers poll in the triggerer with the same decision (:func:`airflow_provider_mdsp.timeutil.next_wait`)
and send one event whose ``status`` is :data:`SUCCESS`, :data:`ERROR` or :data:`TIMEOUT`;
:func:`result_from_event` turns that event into the task's result or error, for operators and
sensors alike. No Airflow import: the clock and sleep are the provider's (tests make waits instant).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from airflow_provider_mdsp.exceptions import MdspError, MdspJobFailedError, MdspRateLimitedError, error_from_record
from airflow_provider_mdsp.timeutil import monotonic, next_wait, sleep

#: Event ``status`` values.
SUCCESS, ERROR, TIMEOUT = "success", "error", "timeout"

T = TypeVar("T")

log = logging.getLogger(__name__)


def poll_until(check: Callable[[], T | None], *, poll_interval: float, timeout: float) -> T | None:
    """Call ``check`` until it returns a value or ``timeout`` seconds pass; ``None`` on timeout.

    The check runs at least once, and once more at the deadline; waits are ``poll_interval`` and
    never run past the deadline. A check refused with
    :class:`~airflow_provider_mdsp.exceptions.MdspRateLimitedError` (the gateway asked for a longer
    pause than one call may wait) is "not yet", as in the triggerer
    (:meth:`airflow_provider_mdsp.triggers.base.MdspPollingTrigger.run`): the next check waits the
    ``Retry-After`` asked for, when longer than ``poll_interval``.

    :param check: returns ``None`` while the condition does not hold yet.
    :param poll_interval: seconds between checks.
    :param timeout: seconds until giving up.
    """
    deadline = monotonic() + timeout
    while True:
        pause = poll_interval
        try:
            result = check()
        except MdspRateLimitedError as exc:
            pause = rate_limited_pause(exc, poll_interval)
            result = None
        if result is not None:
            return result
        wait = next_wait(pause, deadline - monotonic())
        if wait is None:
            return None
        sleep(wait)


def rate_limited_pause(error: MdspRateLimitedError, poll_interval: float) -> float:
    """Return how long to wait before checking again after a rate-limited check, and log it.

    A check the gateway refused for longer than one call may wait is "not yet": the next check
    comes when the gateway asked (``Retry-After``), and no sooner than ``poll_interval``.
    """
    pause = max(poll_interval, error.retry_after or 0.0)
    log.warning("Rate limited; checking again in %.0f s (as the gateway asked): %s", pause, error)
    return pause


def result_from_event(event: Mapping[str, Any] | None, *, on_timeout: Callable[[str], BaseException]) -> Any:
    """Turn a trigger event into the task's result, or raise the error it reports.

    :param event: the payload of the trigger's event.
    :param on_timeout: builds the exception for a timeout (sensors raise ``AirflowSensorTimeout``).
    :raises MdspJobFailedError: the job ended in ERROR (same class as in poke mode).
    :raises MdspError: the check failed: the same kind, message and attributes as the check raised
        (:func:`~airflow_provider_mdsp.exceptions.error_from_record`), so a deferred task fails as it
        would in the worker (a configuration or credentials error without retries).
    """
    if not isinstance(event, Mapping) or "status" not in event:
        raise MdspError(f"The trigger sent an unexpected event: {event!r}")
    status, message = event["status"], str(event.get("message") or "")
    if status == SUCCESS:
        return event.get("result")
    if status == TIMEOUT:
        raise on_timeout(message)
    if event.get("job_failed"):
        raise MdspJobFailedError(message)
    raise error_from_record(event.get("error")) or MdspError(
        message or "The trigger reported an error without a message"
    )
