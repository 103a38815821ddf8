"""Where an operator's records go: a small list in XCom, or a file in object storage.

XCom is for small data: the metadata database holds it (MySQL caps a value at 64 KB, and Airflow 3
tasks hang on large values). So records reach XCom only up to a bound;
beyond it the user names an ``output_path`` and the records are streamed there, page by page, while
XCom gets the path and a summary. Nothing is ever truncated silently.

Files are written atomically and leave nothing behind (:mod:`.storage`): a reader never sees a
half-written file at ``output_path``. Module import stays cheap (no pyarrow, no fsspec).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.formats import OUTPUT_FORMATS, writer_for
from airflow_provider_mdsp.operators.storage import atomic_output, storage_path
from airflow_provider_mdsp.timeutil import format_time, record_time

__all__ = [
    "DEFAULT_MAX_XCOM_RECORDS",
    "OUTPUT_FORMATS",
    "TimeRange",
    "atomic_output",
    "collect_for_xcom",
    "deliver_records",
    "storage_path",
    "too_many_for_xcom",
    "write_records",
]

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

#: Most records an operator returns through XCom. XCom lives in the metadata database and is meant
#: for small data (MySQL stops at 64 KB per value, Airflow 3 tasks hang on large ones): a thousand time-series
#: records is already ~100 KB of JSON. Above it, set ``output_path``.
DEFAULT_MAX_XCOM_RECORDS = 1000

_LOCAL_PROTOCOLS = ("", "file", "local")


def deliver_records(
    pages: Iterable[list[dict]],
    *,
    output_path: str | ObjectStoragePath | None,
    max_xcom_records: int,
    output_format: str = "jsonl",
    time_field: str | None = "_time",
    what: str = "records",
) -> dict:
    """Stream pages of records into ``output_path``, or return them for XCom if there are few enough.

    :param pages: the records, one list per API page; consumed lazily, one page at a time.
    :param output_path: any ``ObjectStoragePath`` URI (``file:///…``, ``s3://conn_id@bucket/key``, …);
        ``None`` returns the records in the result instead.
    :param max_xcom_records: the most records returned without ``output_path``; more raise an error.
    :param output_format: ``jsonl`` (JSON Lines), ``csv`` or ``parquet`` (needs pyarrow).
    :param time_field: the record key holding its ISO 8601 time, for ``first_time``/``last_time``;
        ``None`` when records have no time.
    :param what: what the records are (``records``, ``events``, ``files``), for messages.
    :returns: with ``output_path``: ``{"path", "records", "format", "bytes", "first_time", "last_time"}``;
        without: ``{"records", "first_time", "last_time", "data"}``. Plain JSON values only.
    :raises MdspConfigError: more than ``max_xcom_records`` without ``output_path`` (field
        ``output_path``), or an unknown/unavailable ``output_format``.
    """
    if output_path in (None, ""):
        return collect_for_xcom(pages, max_xcom_records=max_xcom_records, time_field=time_field, what=what)
    return write_records(pages, output_path, output_format=output_format, time_field=time_field)


def collect_for_xcom(
    pages: Iterable[list[dict]], *, max_xcom_records: int, time_field: str | None = "_time", what: str = "records"
) -> dict:
    """Collect at most ``max_xcom_records`` records for XCom; more raise instead of truncating.

    Reading stops at the first page that crosses the bound, so a huge read does not spend API quota
    only to fail; the error says how many records had been seen by then.

    :param pages: the records, one list per page.
    :param max_xcom_records: the bound.
    :param time_field: record key of the time, or ``None``.
    :param what: what the records are, for the message.
    :raises MdspConfigError: the bound was exceeded (field ``output_path``).
    """
    if max_xcom_records < 0:
        raise MdspConfigError(f"max_xcom_records must be 0 or more, not {max_xcom_records}", field="max_xcom_records")
    data: list[dict] = []
    times = TimeRange(time_field)
    for page_number, page in enumerate(pages, start=1):
        if len(data) + len(page) > max_xcom_records:
            raise too_many_for_xcom(len(data) + len(page), max_xcom_records, what, complete=False, pages=page_number)
        data.extend(page)
        times.update(page)
    return {"records": len(data), **times.summary(), "data": data}


def too_many_for_xcom(count: int, bound: int, what: str, *, complete: bool = True, pages: int = 0) -> MdspConfigError:
    """Build the error for a result too large for XCom, telling the user what to set.

    :param count: records seen.
    :param bound: ``max_xcom_records``.
    :param what: what the records are.
    :param complete: whether ``count`` is the full count or reading stopped early.
    :param pages: pages read when reading stopped early.
    """
    seen = f"{count} {what}" if complete else f"at least {count} {what} (stopped reading after page {pages})"
    return MdspConfigError(
        f"The result has {seen}, more than max_xcom_records={bound}. XCom is for small data: set output_path "
        f"(e.g. 's3://my_conn@bucket/key.jsonl' or 'file:///data/out.jsonl') to write them to storage and get "
        f"the path in XCom, or raise max_xcom_records.",
        field="output_path",
    )


def write_records(
    pages: Iterable[list[dict]],
    output_path: str | ObjectStoragePath,
    *,
    output_format: str = "jsonl",
    time_field: str | None = "_time",
) -> dict:
    """Write pages of records atomically to ``output_path`` and return a summary for XCom.

    :param pages: the records, one list per page; never all held at once.
    :param output_path: any ``ObjectStoragePath`` URI or object.
    :param output_format: one of :data:`OUTPUT_FORMATS`.
    :param time_field: record key of the time, or ``None``.
    :raises MdspConfigError: unknown format, pyarrow missing for parquet, or records that do not fit
        the Parquet schema of the first page.
    """
    writer_class = writer_for(output_format)
    target = storage_path(output_path)
    times = TimeRange(time_field)
    count = 0
    output = atomic_output(target)
    with output as handle:
        writer = writer_class(handle, time_field=time_field)
        try:
            for page in pages:
                writer.write_page(page)
                count += len(page)
                times.update(page)
            writer.close()
        except BaseException:
            writer.abort()
            raise
    return {"path": str(target), "records": count, "format": output_format, "bytes": output.size, **times.summary()}


class TimeRange:
    """Track the earliest and latest record time, as ISO 8601 strings for XCom.

    :param time_field: record key holding the time, or ``None`` to track nothing.
    """

    def __init__(self, time_field: str | None) -> None:
        self.time_field = time_field
        self.first: datetime | None = None
        self.last: datetime | None = None

    def update(self, page: Iterable[dict]) -> None:
        """Widen the range by the times of ``page``; records without a parseable time are skipped."""
        if not self.time_field:
            return
        values = [record.get(self.time_field) for record in page if isinstance(record, dict)]
        texts = [v for v in values if isinstance(v, str)]
        if texts and len(texts) == len(values) and _uniform_utc(texts):
            # Same-shaped UTC ISO strings sort like the times they name: parse two, not thousands.
            self._widen(record_time(min(texts)))
            self._widen(record_time(max(texts)))
            return
        for value in values:
            self._widen(record_time(value))

    def _widen(self, moment: datetime | None) -> None:
        if moment is None:
            return
        if self.first is None or moment < self.first:
            self.first = moment
        if self.last is None or moment > self.last:
            self.last = moment

    def summary(self) -> dict[str, str | None]:
        """Return ``{"first_time", "last_time"}`` (``None`` when no record had a time)."""
        return {
            "first_time": None if self.first is None else format_time(self.first),
            "last_time": None if self.last is None else format_time(self.last),
        }


def _uniform_utc(texts: list[str]) -> bool:
    """Tell whether ISO strings all end in ``Z`` and share one length (so one precision)."""
    width = len(texts[0])
    return all(len(t) == width and t.endswith("Z") for t in texts)
