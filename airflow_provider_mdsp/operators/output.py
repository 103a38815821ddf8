"""Where an operator's records go: a small list in XCom, or a file in object storage.

XCom is for small data: the metadata database holds it (MySQL caps a value at 64 KB, and Airflow 3
tasks hang on large values; reference/user-asks.md, ask 6). So records reach XCom only up to a bound;
beyond it the user names an ``output_path`` and the records are streamed there, page by page, while
XCom gets the path and a summary. Nothing is ever truncated silently.

Files are written atomically: into a hidden temporary sibling, then moved into place, so a reader
never sees a half-written file at ``output_path``. Module import stays cheap (no pyarrow, no fsspec).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_mdsp.exceptions import MdspConfigError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

#: Most records an operator returns through XCom. XCom lives in the metadata database and is meant
#: for small data (MySQL stops at 64 KB per value, Airflow 3 tasks hang on large ones; user-asks.md
#: ask 6): a thousand time-series records is already ~100 KB of JSON. Above it, set ``output_path``.
DEFAULT_MAX_XCOM_RECORDS = 1000

#: File formats ``output_path`` can be written in.
OUTPUT_FORMATS = ("jsonl", "csv", "parquet")

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
    with atomic_output(target) as handle:
        writer = writer_class(handle)
        try:
            for page in pages:
                writer.write_page(page)
                count += len(page)
                times.update(page)
            writer.close()
        except BaseException:
            writer.abort()
            raise
    size = target.fs.size(target.path)
    return {"path": str(target), "records": count, "format": output_format, "bytes": int(size or 0), **times.summary()}


def storage_path(value: str | ObjectStoragePath) -> ObjectStoragePath:
    """Turn a URI or path into an ``ObjectStoragePath`` (imported here, not at DAG parse time)."""
    from airflow.sdk import ObjectStoragePath

    return value if isinstance(value, ObjectStoragePath) else ObjectStoragePath(str(value).strip())


class atomic_output:
    """Open a hidden temporary sibling of ``target`` for binary writing; move it into place on success.

    On any error the temporary is removed and ``target`` is left as it was, so nothing that looks
    complete appears at the output path. Local files use ``os.replace`` (atomic on POSIX); object
    stores use the filesystem's move, where the object appears only once fully copied.

    :param target: the final path.
    """

    def __init__(self, target: ObjectStoragePath) -> None:
        self.target = target
        self.temp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
        self._handle: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if self.target.protocol in _LOCAL_PROTOCOLS:
            os.makedirs(os.path.dirname(self.target.path) or ".", exist_ok=True)
        self._handle = self.temp.open("wb")
        return self._handle

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if self._handle is not None:
                self._handle.close()
            if exc_type is None:
                if self.target.protocol in _LOCAL_PROTOCOLS:
                    os.replace(self.temp.path, self.target.path)
                else:
                    self.temp.fs.mv(self.temp.path, self.target.path)
        except BaseException:
            self._discard()
            raise
        if exc_type is not None:
            self._discard()

    def _discard(self) -> None:
        with contextlib.suppress(OSError):
            self.temp.fs.rm(self.temp.path)


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
        for record in page:
            moment = _parse_time(record.get(self.time_field)) if isinstance(record, dict) else None
            if moment is None:
                continue
            if self.first is None or moment < self.first:
                self.first = moment
            if self.last is None or moment > self.last:
                self.last = moment

    def summary(self) -> dict[str, str | None]:
        """Return ``{"first_time", "last_time"}`` (``None`` when no record had a time)."""
        return {"first_time": _iso(self.first), "last_time": _iso(self.last)}


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def writer_for(output_format: str) -> type[RecordWriter]:
    """Return the writer class for ``output_format``, checking that it can be used at all.

    :raises MdspConfigError: unknown format, or ``parquet`` without pyarrow installed.
    """
    writers: dict[str, type[RecordWriter]] = {"jsonl": JsonLinesWriter, "csv": CsvWriter, "parquet": ParquetWriter}
    if output_format not in writers:
        raise MdspConfigError(
            f"output_format must be one of {', '.join(OUTPUT_FORMATS)}, not {output_format!r}", field="output_format"
        )
    if output_format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise MdspConfigError(
                "output_format='parquet' needs pyarrow on the workers (pip install pyarrow); "
                "or use output_format='jsonl' or 'csv'",
                field="output_format",
            ) from None
    return writers[output_format]


class RecordWriter:
    """Write pages of records into an open binary file.

    :param handle: the binary file to write into.
    """

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle

    def write_page(self, page: list[dict]) -> None:
        """Write one page of records."""
        raise NotImplementedError

    def close(self) -> None:
        """Finish the file (footer, header rewrite); the handle itself is closed by the caller."""

    def abort(self) -> None:
        """Release what the writer holds after a failure; the file is discarded by the caller."""


class JsonLinesWriter(RecordWriter):
    """JSON Lines: one compact JSON object per line, UTF-8."""

    def write_page(self, page: list[dict]) -> None:
        """Write one page as JSON Lines."""
        if page:
            lines = (json.dumps(record, separators=(",", ":"), default=_json_default) for record in page)
            self.handle.write(("\n".join(lines) + "\n").encode("utf-8"))


class CsvWriter(RecordWriter):
    """CSV with a header; columns are the union of all record keys, in order of first appearance.

    The header cannot be known before the last page (a time series omits a variable with no value,
    so a column may first appear late), so rows go to a local spool file and are copied behind the
    final header in :meth:`close`, padded to the full width. Memory stays one page.
    """

    def __init__(self, handle: IO[bytes]) -> None:
        super().__init__(handle)
        self.columns: dict[str, None] = {}
        # Closed in close()/abort(); a context manager cannot span the pages.
        self.spool = tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="")  # noqa: SIM115
        self.rows = csv.writer(self.spool)

    def write_page(self, page: list[dict]) -> None:
        """Spool one page of rows, widening the header if new keys appear."""
        for record in page:
            for key in record:
                if key not in self.columns:
                    self.columns[key] = None
            self.rows.writerow([_csv_cell(record.get(key)) for key in self.columns])

    def close(self) -> None:
        """Write the header and the spooled rows, padded to the header's width."""
        text = io.TextIOWrapper(self.handle, encoding="utf-8", newline="", write_through=True)
        try:
            out = csv.writer(text)
            out.writerow(list(self.columns))
            width = len(self.columns)
            self.spool.seek(0)
            for row in csv.reader(self.spool):
                out.writerow(row + [""] * (width - len(row)))
            text.flush()
        finally:
            text.detach()  # leave the binary handle open for atomic_output to close
            self.spool.close()

    def abort(self) -> None:
        """Drop the spooled rows."""
        self.spool.close()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=_json_default)
    return value


class ParquetWriter(RecordWriter):
    """Parquet, one row group per page, with the schema inferred from the first non-empty page.

    Columns that are all null in the first page are typed as strings. Later pages are cast to the
    schema (so an integer column may receive integers written as floats); a record with a key the
    schema lacks, or a value that cannot be cast, raises a clear error instead of being dropped.
    """

    def __init__(self, handle: IO[bytes]) -> None:
        super().__init__(handle)
        self.writer: Any = None
        self.schema: Any = None

    def write_page(self, page: list[dict]) -> None:
        """Write one page as a row group."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not page:
            return
        if self.writer is None:
            inferred = pa.Table.from_pylist(page).schema
            self.schema = pa.schema(
                [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in inferred]
            )
            self.writer = pq.ParquetWriter(self.handle, self.schema)
        self.writer.write_table(self._table(page))

    def _table(self, page: list[dict]) -> Any:
        import pyarrow as pa

        extra = {key for record in page for key in record} - set(self.schema.names)
        if extra:
            raise MdspConfigError(
                f"Records have keys {sorted(extra)} that were not in the first page, so they have no column in "
                "the Parquet schema; use output_format='jsonl' or 'csv', which keep every key",
                field="output_format",
            )
        try:
            return pa.Table.from_pylist(page, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
        try:
            table = pa.Table.from_pylist(page)
            columns = [
                table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(len(page), f.type)
                for f in self.schema
            ]
            return pa.Table.from_arrays(columns, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise MdspConfigError(
                f"A page of records does not fit the Parquet schema taken from the first page ({exc}); "
                "use output_format='jsonl' or 'csv'",
                field="output_format",
            ) from None

    def close(self) -> None:
        """Write the Parquet footer (an empty file with no schema when there were no records)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.writer is None:
            self.writer = pq.ParquetWriter(self.handle, pa.schema([]))
        self.writer.close()

    def abort(self) -> None:
        """Close the Parquet writer while its file is still open (the file is discarded anyway)."""
        if self.writer is not None:
            # The original error is the one worth reporting; closing only frees the writer.
            with contextlib.suppress(Exception):
                self.writer.close()
            self.writer = None
