"""Waiting: the one polling loop of the worker, and a trigger's event turned into a task result.

Waiting operators (bulk import, Data Lake import) poll in the worker through :func:`poll_until`;
triggers poll in the triggerer with the same decision (:func:`airflow_provider_mdsp.timeutil.next_wait`)
and send one event whose ``status`` is :data:`SUCCESS`, :data:`ERROR` or :data:`TIMEOUT`;
:func:`result_from_event` turns that event into the task's result or error, for operators and
sensors alike. No Airflow import: the clock and sleep are the provider's (tests make waits instant).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from airflow_provider_mdsp.exceptions import MdspError, MdspJobFailedError
from airflow_provider_mdsp.timeutil import monotonic, next_wait, sleep

#: Event ``status`` values.
SUCCESS, ERROR, TIMEOUT = "success", "error", "timeout"

T = TypeVar("T")


def poll_until(check: Callable[[], T | None], *, poll_interval: float, timeout: float) -> T | None:
    """Call ``check`` until it returns a value or ``timeout`` seconds pass; ``None`` on timeout.

    The check runs at least once, and once more at the deadline; waits are ``poll_interval`` and
    never run past the deadline.

    :param check: returns ``None`` while the condition does not hold yet.
    :param poll_interval: seconds between checks.
    :param timeout: seconds until giving up.
    """
    deadline = monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        wait = next_wait(poll_interval, deadline - monotonic())
        if wait is None:
            return None
        sleep(wait)


def result_from_event(event: Mapping[str, Any] | None, *, on_timeout: Callable[[str], BaseException]) -> Any:
    """Turn a trigger event into the task's result, or raise the error it reports.

    :param event: the payload of the trigger's event.
    :param on_timeout: builds the exception for a timeout (sensors raise ``AirflowSensorTimeout``).
    :raises MdspJobFailedError: the job ended in ERROR (same class as in poke mode).
    :raises MdspError: the check failed (the message is the client error's).
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
    raise MdspError(message or "The trigger reported an error without a message")
