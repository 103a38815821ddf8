"""What every Insights Hub sensor shares: poke, reschedule and deferrable modes over one check.

A sensor builds its trigger object (cheap, plain JSON, no I/O) both to poke and to defer: ``poke``
calls the trigger's :meth:`~airflow_provider_mdsp.triggers.base.MdspPollingTrigger.check_once` with
the task's hook, and deferrable mode hands the same trigger to the triggerer, where ``run`` calls the
same method in a thread. So the three modes send the same requests and return the same XCom value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

try:
    from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException
except ImportError:  # Airflow 3.1 keeps them in the core package
    from airflow.exceptions import AirflowSensorTimeout, AirflowSkipException  # type: ignore[no-redef]

from airflow_provider_mdsp.exceptions import MdspError, MdspRateLimitedError
from airflow_provider_mdsp.operators.base import DEFERRAL_GRACE, MdspBaseOperator, default_deferrable, run_after
from airflow_provider_mdsp.operators.waiting import result_from_event
from airflow_provider_mdsp.timeutil import deadline_after, format_time, to_utc

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_mdsp.triggers.base import MdspJobTrigger, MdspPollingTrigger


def point_in_time(value: Any, context: Mapping[str, Any], name: str) -> str:
    """Resolve a templated time, defaulting to the run's ``data_interval_end``, then ``run_after``, then now.

    :param value: ``None``, an aware datetime or an ISO 8601 string.
    :param context: the task context.
    :param name: the parameter name, for errors.
    :return: the time in ISO 8601 UTC.
    """
    moment = to_utc(value, name) or to_utc(context.get("data_interval_end"), "data_interval_end")
    return format_time(moment or run_after(context))


def _asked(exc: MdspRateLimitedError) -> str:
    """Return the wait a rate-limit error asked for, as text (``unknown`` without ``Retry-After``)."""
    return "unknown" if exc.retry_after is None else f"{exc.retry_after:.0f}"


class MdspBaseSensor(MdspBaseOperator, BaseSensorOperator):
    """Base of the Insights Hub sensors: poke, reschedule or deferrable, all through one check.

    :param deferrable: wait in the triggerer instead of a worker slot; defaults to Airflow's
        ``[operators] default_deferrable``.
    """

    def __init__(self, *, deferrable: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deferrable = default_deferrable() if deferrable is None else bool(deferrable)
        self._asked_wait: float | None = None  # Retry-After of the last poke's rate-limit error

    def make_trigger(self, context: Context, timeout_at: str | None = None) -> MdspPollingTrigger:
        """Return the trigger that checks this sensor's condition (also used by :meth:`poke`)."""
        raise NotImplementedError

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """Check once; done returns the result as the XCom value, a failed job raises its message.

        A check the gateway refused with :class:`~airflow_provider_mdsp.exceptions.MdspRateLimitedError`
        (it asked for a longer pause than one call may wait) counts as "not yet": the sensor logs the
        wait asked for and checks again at its next poke; in reschedule mode it is rescheduled no sooner
        than the wait asked for, and in the triggerer the next check waits for it.
        """
        trigger = self.make_trigger(context)
        try:
            result = trigger.check_once(self.hook)
        except MdspRateLimitedError as exc:
            # The gateway asked for a pause longer than a call may wait: not yet, not a failure.
            self.log.warning("Rate limited; checking again later (asked to wait %s s): %s", _asked(exc), exc)
            self._asked_wait = exc.retry_after
            return False
        if result is None:
            return False
        # The same classification as the trigger's event, read back the way execute_complete does.
        value = result_from_event(trigger.outcome(result), on_timeout=AirflowSensorTimeout)
        return PokeReturnValue(is_done=True, xcom_value=value)

    def _get_next_poke_interval(self, *args: Any, **kwargs: Any) -> float:
        """In reschedule mode, come back no sooner than a rate-limited poke was asked to wait."""
        interval = float(super()._get_next_poke_interval(*args, **kwargs))
        asked, self._asked_wait = self._asked_wait, None
        return max(interval, asked) if self.reschedule and asked else interval

    def execute(self, context: Context) -> Any:
        """Poke (or reschedule) as any sensor; when deferrable, check once and then defer."""
        if not self.deferrable:
            return super().execute(context)
        with self._skipped_if_never_fail():
            done = self.poke(context)
        if done:
            return done.xcom_value if isinstance(done, PokeReturnValue) else None
        trigger = self.make_trigger(context, deadline_after(self.timeout))
        self.log.info("Deferring: %s checks every %s s", type(trigger).__name__, self.poke_interval)
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: return its result, or raise its error or timeout."""
        with self._skipped_if_never_fail():
            return result_from_event(event, on_timeout=AirflowSensorTimeout)

    @contextmanager
    def _skipped_if_never_fail(self) -> Iterator[None]:
        """With ``never_fail``, turn an Insights Hub error into a skip, as Airflow does for a poking sensor."""
        try:
            yield
        except MdspError as exc:
            if self.never_fail:
                raise AirflowSkipException(f"Skipping due to never_fail: {exc}") from exc
            raise


class MdspBaseJobSensor(MdspBaseSensor):
    """Base of the sensors that wait for one job by its id; a subclass names its trigger class.

    :param job_id: the job id (templated).
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    """

    template_fields: tuple[str, ...] = (*MdspBaseSensor.template_fields, "job_id")

    def __init__(self, *, job_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id

    @staticmethod
    def job_trigger() -> type[MdspJobTrigger]:
        """Return the trigger class that checks the job (imported only when a task runs)."""
        raise NotImplementedError

    def make_trigger(self, context: Context, timeout_at: str | None = None) -> MdspJobTrigger:
        """Return the trigger checking the job's state."""
        return self.job_trigger()(
            mdsp_conn_id=self.mdsp_conn_id,
            job_id=str(self.job_id),
            poll_interval=self.poke_interval,
            timeout_at=timeout_at,
            sub_tenant=self.sub_tenant or None,
        )
