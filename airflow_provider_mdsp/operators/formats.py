"""Record file formats: JSON Lines, CSV and Parquet writers, and JSON Lines / JSON array / Parquet readers.

Writers take pages of records and an open binary file (made atomic by
:mod:`~airflow_provider_mdsp.operators.output`); readers stream records out of a file at any
``ObjectStoragePath`` URI. Either way, only a page or a chunk is in memory at a time. pyarrow is
imported only when Parquet is used.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.timeutil import format_time

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

#: File formats ``output_path`` can be written in.
OUTPUT_FORMATS = ("jsonl", "csv", "parquet")

#: Bytes read from an input file at a time: the only part of the file held in memory.
READ_CHUNK = 64 * 1024


def storage_path(value: str | ObjectStoragePath) -> ObjectStoragePath:
    """Turn a URI or path into an ``ObjectStoragePath`` (imported here, not at DAG parse time)."""
    from airflow.sdk import ObjectStoragePath

    return value if isinstance(value, ObjectStoragePath) else ObjectStoragePath(str(value).strip())


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


#: One compact encoder for every record: building one per ``json.dumps`` call costs a third of the write time.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_json_default)


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
            lines = (_ENCODER.encode(record) for record in page)
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
        return _ENCODER.encode(value)
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


def iter_records_file(path: str) -> Iterator[dict]:
    """Stream the records of a JSON Lines, JSON array or Parquet file at any ``ObjectStoragePath`` URI.

    :raises MdspConfigError: a CSV file (its values have lost their types) or malformed JSON.
    """
    source = storage_path(path)
    suffix = source.suffix.lower()
    if suffix == ".csv":
        raise MdspConfigError("input_path: CSV loses value types; write JSON Lines or Parquet", field="input_path")
    with source.open("rb") as handle:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(handle).iter_batches():
                yield from batch.to_pylist()
            return
        text = io.TextIOWrapper(handle, encoding="utf-8")
        first = text.read(1)
        while first.isspace():
            first = text.read(1)
        chunks = _chunks(text, first)
        yield from (iter_json_array(chunks) if first == "[" else _json_lines(chunks))


def _chunks(text: io.TextIOBase, first: str) -> Iterator[str]:
    yield first
    while chunk := text.read(READ_CHUNK):
        yield chunk


def _json_lines(chunks: Iterable[str]) -> Iterator[dict]:
    rest = ""
    for chunk in chunks:
        lines = (rest + chunk).split("\n")
        rest = lines.pop()
        yield from (_json_line(line) for line in lines if line.strip())
    if rest.strip():
        yield _json_line(rest)


def _json_line(line: str) -> dict:
    try:
        return json.loads(line)
    except ValueError:
        raise MdspConfigError(f"input_path has a line that is not JSON: {line[:80]!r}", field="input_path") from None


def iter_json_array(chunks: Iterable[str]) -> Iterator[Any]:
    """Yield the elements of a JSON array arriving in text chunks, holding one element at a time.

    :raises MdspConfigError: the text is not a JSON array.
    """
    decoder, buffer, pos, started = json.JSONDecoder(), "", 0, False
    for chunk in chunks_with_end(chunks):
        at_end = chunk is None
        buffer, pos = buffer[pos:] + (chunk or ""), 0
        while True:
            while pos < len(buffer) and (buffer[pos].isspace() or (started and buffer[pos] == ",")):
                pos += 1
            if pos >= len(buffer):
                break
            if not started:
                if buffer[pos] != "[":
                    raise MdspConfigError("input_path does not hold a JSON array or JSON Lines", field="input_path")
                started, pos = True, pos + 1
                continue
            if buffer[pos] == "]":
                return
            try:
                item, end = decoder.raw_decode(buffer, pos)
            except ValueError:
                if at_end:
                    raise MdspConfigError("input_path holds malformed JSON", field="input_path") from None
                break
            if end >= len(buffer) and not at_end:
                break  # a number or literal may continue in the next chunk
            yield item
            pos = end
    raise MdspConfigError("input_path holds a JSON array that never ends", field="input_path")


def chunks_with_end(chunks: Iterable[str]) -> Iterator[str | None]:
    """Yield the chunks, then ``None`` to mark the end."""
    yield from chunks
    yield None
