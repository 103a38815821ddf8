"""What every Insights Hub operator and sensor shares: the connection, the hook and the time window.

Module import does no I/O and imports no HTTP stack: Airflow parses DAG files every 30 s, so the
hook (and with it requests and tenacity) is imported only when a task runs.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseOperator

from airflow_provider_mdsp.exceptions import MdspAuthError, MdspConfigError, MdspError
from airflow_provider_mdsp.operators.output import DEFAULT_MAX_XCOM_RECORDS
from airflow_provider_mdsp.timeutil import format_time, to_utc, utcnow

try:
    from airflow.sdk.exceptions import AirflowFailException
except ImportError:  # pragma: no cover - Airflow 3.1 keeps it in the core package
    from airflow.exceptions import AirflowFailException  # type: ignore[no-redef]

if TYPE_CHECKING:
    from airflow_provider_mdsp.hooks.mdsp import MdspHook

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Window used by a run that has no data interval (a manual run without a logical date, or a
#: ``CronTriggerTimetable`` run whose interval is empty): the ``lookback`` before the run's time.
DEFAULT_LOOKBACK = timedelta(days=1)
#: Extra time Airflow grants a deferral beyond ``timeout``, so the trigger's own deadline (with a
#: clear message) normally ends the wait rather than Airflow's deferral timeout.
DEFERRAL_GRACE = timedelta(minutes=1)


def default_deferrable() -> bool:
    """Return Airflow's ``[operators] default_deferrable`` (False when unset)."""
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow 3.1 keeps the configuration in the core package
        from airflow.configuration import conf
    return conf.getboolean("operators", "default_deferrable", fallback=False)


#: Errors no retry can fix: a malformed connection field or parameter, or credentials (or a token
#: URL) the token endpoint refused with a 4xx. The task fails at once instead of retrying.
PERMANENT_ERRORS: tuple[type[MdspError], ...] = (MdspConfigError, MdspAuthError)
#: The methods of an operator or sensor that run its work in the task process.
_TASK_METHODS = ("execute", "poke", "execute_complete")


_FAILING_KINDS: dict[type[MdspError], type[MdspError]] = {}


def _failing_kind(kind: type[MdspError]) -> type[MdspError]:
    """Return ``kind`` made an ``AirflowFailException`` too: Airflow then fails the task without retries."""
    if kind not in _FAILING_KINDS:
        doc = f"{kind.__name__} that fails the task without Airflow retries."
        attrs = {"__module__": kind.__module__, "__doc__": doc}
        _FAILING_KINDS[kind] = type(kind.__name__, (kind, AirflowFailException), attrs)
    return _FAILING_KINDS[kind]


def fail_without_retry(error: MdspError) -> MdspError:
    """Return the same error (type name, message, attributes) as one Airflow does not retry.

    :param error: a configuration or authentication error.
    """
    failing = _failing_kind(type(error))
    copy = failing.__new__(failing, *error.args)
    copy.__dict__.update(error.__dict__)
    return copy


def fails_fast(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a task method so that :data:`PERMANENT_ERRORS` fail the task instead of being retried."""
    if getattr(method, "_mdsp_fails_fast", False):
        return method

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except PERMANENT_ERRORS as exc:
            if isinstance(exc, AirflowFailException):
                raise
            raise fail_without_retry(exc) from exc

    run._mdsp_fails_fast = True  # type: ignore[attr-defined]
    return run


class MdspBaseOperator(BaseOperator):
    """Base of the Insights Hub operators: holds the connection id and builds the hook lazily.

    A configuration or authentication error (:data:`PERMANENT_ERRORS`) fails the task at once, with
    its message, instead of being retried: no retry fixes a wrong field or a refused secret.

    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    :param sub_tenant: impersonate this subtenant with the connection's tenant credentials, e.g.
        one mapped task per subtenant (``.expand(sub_tenant=…)``); ``None`` uses the connection as is.
    """

    template_fields: tuple[str, ...] = ("mdsp_conn_id", "sub_tenant")
    ui_color = "#009999"  # Siemens petrol

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _TASK_METHODS:
            method = cls.__dict__.get(name)
            if callable(method):
                setattr(cls, name, fails_fast(method))

    def __init__(self, *, mdsp_conn_id: str = "mdsp_default", sub_tenant: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mdsp_conn_id = mdsp_conn_id
        self.sub_tenant = sub_tenant

    @cached_property
    def hook(self) -> MdspHook:
        """The hook for ``mdsp_conn_id``, built on first use in the task process."""
        from airflow_provider_mdsp.hooks.mdsp import MdspHook

        return MdspHook(mdsp_conn_id=self.mdsp_conn_id, sub_tenant=self.sub_tenant or None)


class MdspListOperator(MdspBaseOperator):
    """Base of the operators that return a list through XCom, bounded by ``max_xcom_records``.

    :param max_xcom_records: the most items returned through XCom; more fail the task with advice.
    """

    def __init__(self, *, max_xcom_records: int = DEFAULT_MAX_XCOM_RECORDS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_xcom_records = max_xcom_records

    def bounded_list(self, items: Iterable[T], *, what: str, advice: str) -> list[T]:
        """Return the items as a list for XCom; the first one past ``max_xcom_records`` stops reading.

        A listing feeds ``.expand()`` and has no file to go to, so the error says how to narrow it.

        :param items: the items, read lazily (e.g. page by page).
        :param what: what they are, e.g. ``subtenants`` or ``assets below Site-B``.
        :param advice: how to get fewer, e.g. ``list a deeper folder``.
        :raises MdspConfigError: more than ``max_xcom_records`` items (field ``max_xcom_records``).
        """
        found: list[T] = []
        for item in items:
            found.append(item)
            if len(found) > self.max_xcom_records:
                raise MdspConfigError(f"More than {self.max_xcom_records} {what}; {advice}", field="max_xcom_records")
        return found


class MdspReadOperator(MdspListOperator):
    """Base of the operators that read records: a bounded list in XCom, or a file at ``output_path``.

    ``output_path`` is templated in every read operator and rendered last (whatever a subclass lists
    in ``template_fields``, ``output_path`` is moved to the end), so a path such as
    ``…/{{ ds }}/{{ task.asset_id }}.jsonl`` sees the operator's other fields already rendered.

    :param output_path: any ``ObjectStoragePath`` URI (``file:///…``, ``s3://conn@bucket/key``) to write
        the records to, atomically: nothing half-written appears there (templated).
    :param output_format: ``jsonl``, ``csv`` or ``parquet``.
    :param max_xcom_records: the most records returned through XCom without ``output_path``; more
        fail the task and say to set ``output_path``.
    """

    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "output_path")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.template_fields = (*(f for f in cls.template_fields if f != "output_path"), "output_path")

    def __init__(self, *, output_path: str | None = None, output_format: str = "jsonl", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.output_path = output_path
        self.output_format = output_format

    def deliver(self, pages: Iterable[list[dict]], *, time_field: str | None, what: str = "records") -> dict:
        """Deliver pages of records as :func:`~airflow_provider_mdsp.operators.output.deliver_records` does."""
        from airflow_provider_mdsp.operators.output import deliver_records

        return deliver_records(
            pages,
            output_path=self.output_path,
            max_xcom_records=self.max_xcom_records,
            output_format=self.output_format,
            time_field=time_field,
            what=what,
        )


class TimeWindowMixin(BaseOperator):
    """Give an operator a time window: ``from_time``/``to_time``, else the run's data interval, else
    the ``lookback`` before the run's time (the rules of :func:`resolve_window`).

    It derives from ``BaseOperator`` because Airflow checks the arguments of ``.partial()`` and
    ``.expand()`` against the ``__init__`` of operator classes only: as a plain mixin,
    ``MdspReadTimeSeriesOperator.partial(from_time=...)`` was refused.

    :param from_time: window start: ISO 8601 text, a datetime or ``None`` (templated in the operator).
    :param to_time: window end, likewise.
    :param lookback: window length for runs without a data interval.
    """

    def __init__(
        self, *, from_time: Any = None, to_time: Any = None, lookback: timedelta = DEFAULT_LOOKBACK, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.from_time = from_time
        self.to_time = to_time
        self.lookback = lookback

    def window(self, context: Mapping[str, Any]) -> tuple[datetime, datetime]:
        """Return this task's ``(start, end)`` window (see :func:`resolve_window`)."""
        return resolve_window(self.from_time, self.to_time, context, lookback=self.lookback)


def resolve_window(
    from_time: Any,
    to_time: Any,
    context: Mapping[str, Any],
    *,
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> tuple[datetime, datetime]:
    """Return the ``(from, to]`` window of a task: explicit times first, then the run's data interval.

    Rules, in order:

    1. ``from_time``/``to_time`` given (templated or literal) are used as they are.
    2. Missing ones come from the run's ``data_interval_start``/``data_interval_end``.
    3. A run with no data interval (manual run without a logical date) or an empty one (a
       ``CronTriggerTimetable`` schedule) reads the ``lookback`` before the run's ``run_after``
       (or ``to_time``), and says so in the log.

    :param from_time: start of the window, exclusive (the Time Series API's ``from``).
    :param to_time: end of the window, inclusive.
    :param context: the task context.
    :param lookback: length of the fallback window.
    :raises MdspConfigError: ``to_time`` is before ``from_time``.
    """
    start, end = to_utc(from_time, "from_time"), to_utc(to_time, "to_time")
    interval_start = to_utc(context.get("data_interval_start"), "data_interval_start")
    interval_end = to_utc(context.get("data_interval_end"), "data_interval_end")
    if interval_start is not None and interval_end is not None and interval_start < interval_end:
        start = start or interval_start
        end = end or interval_end
    if end is None:
        end = run_after(context)
    if start is None:
        start = end - lookback
        log.info("No data interval for this run: reading the %s before %s", lookback, format_time(end))
    if end < start:
        raise MdspConfigError(
            f"to_time ({format_time(end)}) is before from_time ({format_time(start)}); swap them or fix the template",
            field="to_time",
        )
    return start, end


def path_value(value: Any, name: str) -> str | None:
    """Return a path parameter as text: a path or URI, or the result of an upstream task that wrote a file.

    ``read.output`` of a read, search or download operator is a summary with ``path``; passing it
    as it is (``source_path=read.output``) chains the tasks without picking the key out by hand.

    :param value: ``None``, a path or URI, or a mapping with ``path``.
    :param name: the parameter name, for the error message.
    :raises MdspConfigError: a mapping without ``path`` (e.g. a read that returned its records in XCom).
    """
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        if value.get("path"):
            return str(value["path"])
        raise MdspConfigError(
            f"{name} got an upstream result without 'path' (keys: {', '.join(sorted(map(str, value)))}); give the "
            "upstream task an output_path so it writes a file, or pass a path",
            field=name,
        )
    return str(value)


def one_source(local_path: Any, source_path: Any) -> str:
    """Return the one source of an upload: ``local_path`` (a file on the worker) or ``source_path`` (a URI).

    :param local_path: ``None``, ``""`` or the path.
    :param source_path: ``None``, ``""`` or the URI.
    :raises MdspConfigError: neither or both are given (field ``local_path``).
    """
    given = [p for p in (local_path, source_path) if p not in (None, "")]
    if len(given) != 1:
        raise MdspConfigError("Give exactly one of local_path and source_path", field="local_path")
    return str(given[0])


@contextlib.contextmanager
def open_source(source: Any, *, local_path: Any) -> Iterator[IO[bytes]]:
    """Open an upload's source for reading; a missing file names the parameter that gave it.

    :param source: the ``ObjectStoragePath`` to read.
    :param local_path: the task's ``local_path``: set, it gave the source, else ``source_path`` did.
    :raises MdspConfigError: the file does not exist (field ``local_path`` or ``source_path``).
    """
    try:
        with source.open("rb") as stream:
            yield stream
    except FileNotFoundError:
        field = "local_path" if local_path else "source_path"
        raise MdspConfigError(f"The source file {source} does not exist", field=field) from None


def run_after(context: Mapping[str, Any]) -> datetime:
    """Return the run's time when it has no data interval: its ``run_after``, else now.

    :param context: the task context.
    """
    dag_run = context.get("dag_run")
    run_after = getattr(dag_run, "run_after", None) if dag_run is not None else None
    return to_utc(run_after, "run_after") or utcnow()
