"""The polling loop every Insights Hub trigger runs, and how its one event becomes a task result.

A trigger carries only plain JSON (connection id, ids, ISO times, poll interval, deadline) and
calls a check function of :mod:`airflow_provider_mdsp.triggers.checks` in a worker thread: the very
function the sensor's ``poke`` calls, so both modes make the same requests. A failed check's event
carries the error's kind and attributes (:func:`~airflow_provider_mdsp.exceptions.error_record`), so
the resumed task raises what the worker would have raised.
The hook is built inside the triggerer process, so all triggers there share the process token cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_mdsp.exceptions import MdspError, MdspRateLimitedError, error_record
from airflow_provider_mdsp.operators.waiting import ERROR, SUCCESS, TIMEOUT, rate_limited_pause, result_from_event
from airflow_provider_mdsp.timeutil import async_sleep, next_wait, seconds_until, to_datetime

if TYPE_CHECKING:
    from airflow_provider_mdsp.hooks.mdsp import MdspHook

__all__ = ["ERROR", "SUCCESS", "TIMEOUT", "MdspPollingTrigger", "result_from_event"]


class MdspPollingTrigger(BaseTrigger):
    """Poll a check in a thread until it returns a result, fails, or the deadline passes; yield one event.

    Subclasses set :attr:`check_function` and return its keyword arguments from :meth:`check_kwargs`.

    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    :param poll_interval: seconds between checks.
    :param timeout_at: ISO 8601 deadline; ``None`` waits until the task's own timeout.
    :param sub_tenant: the subtenant the task impersonates (``sub_tenant=`` of the operator or
        sensor), so the triggerer reads as the same subtenant.
    """

    #: The shared check, ``check(hook, **check_kwargs()) -> dict | None``.
    check_function: Callable[..., dict[str, Any] | None]

    def __init__(
        self, *, mdsp_conn_id: str, poll_interval: float, timeout_at: str | None = None, sub_tenant: str | None = None
    ) -> None:
        super().__init__()
        self.sub_tenant = sub_tenant or None
        self.mdsp_conn_id = mdsp_conn_id
        self.poll_interval = float(poll_interval)
        self.timeout_at = timeout_at

    def check_kwargs(self) -> dict[str, Any]:
        """Return the plain JSON arguments of the check (also serialised with the trigger)."""
        raise NotImplementedError

    def check_once(self, hook: MdspHook) -> dict[str, Any] | None:
        """Run the check once with ``hook`` (blocking): the call a sensor's ``poke`` makes too."""
        return type(self).check_function(hook, **self.check_kwargs())

    def failure(self, result: Mapping[str, Any]) -> str | None:
        """Return why a finished result is a failure (e.g. a job in ERROR), or ``None``."""
        return None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the keyword arguments that rebuild this trigger."""
        kwargs = {
            "mdsp_conn_id": self.mdsp_conn_id,
            "poll_interval": self.poll_interval,
            "timeout_at": self.timeout_at,
            "sub_tenant": self.sub_tenant,
        }
        return f"{type(self).__module__}.{type(self).__qualname__}", {**self.check_kwargs(), **kwargs}

    def make_hook(self) -> MdspHook:
        """Build the hook in the triggerer process (its client and token cache are made on first use)."""
        from airflow_provider_mdsp.hooks.mdsp import MdspHook

        return MdspHook(mdsp_conn_id=self.mdsp_conn_id, sub_tenant=self.sub_tenant)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Check, sleep ``poll_interval``, repeat; yield exactly one success, error or timeout event.

        A check refused with :class:`~airflow_provider_mdsp.exceptions.MdspRateLimitedError` is "not yet":
        the next check waits for the ``Retry-After`` the gateway asked for (at least ``poll_interval``,
        never past the deadline).
        """
        deadline = to_datetime(self.timeout_at, name="timeout_at") if self.timeout_at else None
        hook = self.make_hook()
        try:
            while True:
                pause = self.poll_interval
                try:
                    result = await asyncio.to_thread(self.check_once, hook)
                except MdspRateLimitedError as exc:
                    # Not yet: come back when the gateway asked (never past the deadline), not fail.
                    pause = rate_limited_pause(exc, self.poll_interval)
                    result = None
                except MdspError as exc:
                    self.log.error("Check failed: %s", exc)
                    yield TriggerEvent(
                        {"status": ERROR, "message": str(exc), "result": None, "error": error_record(exc)}
                    )
                    return
                if result is not None:
                    yield TriggerEvent(self.outcome(result))
                    return
                wait = next_wait(pause, seconds_until(deadline))
                if wait is None:
                    message = f"Stopped waiting at the deadline {self.timeout_at}; the condition was not met"
                    yield TriggerEvent({"status": TIMEOUT, "message": message, "result": None})
                    return
                await async_sleep(wait)
        finally:
            hook.close()

    def outcome(self, result: dict[str, Any]) -> dict[str, Any]:
        """Return the event payload for a check's result: success, or error when :meth:`failure` says so."""
        message = self.failure(result)
        if message:
            return {"status": ERROR, "message": message, "result": result, "job_failed": True}
        return {"status": SUCCESS, "message": None, "result": result}


class MdspJobTrigger(MdspPollingTrigger):
    """A trigger waiting for one asynchronous job, named by its id; subclasses set the check and failure.

    :param job_id: the job id.
    :param common: ``mdsp_conn_id``, ``poll_interval``, ``timeout_at``, ``sub_tenant`` (see
        :class:`MdspPollingTrigger`).
    """

    #: The job's failure message in a finished check's result (``None``: it succeeded), shared with
    #: the sensors and waiting operators through :mod:`~airflow_provider_mdsp.triggers.checks`.
    failure_function: Callable[[Mapping[str, Any]], str | None]

    def __init__(self, *, job_id: str, **common: Any) -> None:
        super().__init__(**common)
        self.job_id = job_id

    def check_kwargs(self) -> dict[str, Any]:
        """Return the check's arguments: the job id."""
        return {"job_id": self.job_id}

    def failure(self, result: Mapping[str, Any]) -> str | None:
        """Return the job's failure message when it ended in a failed state."""
        return type(self).failure_function(result)
