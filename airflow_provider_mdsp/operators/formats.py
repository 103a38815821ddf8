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
import math
import operator
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

import msgspec

from airflow_provider_mdsp.exceptions import MdspConfigError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

#: File formats ``output_path`` can be written in.
OUTPUT_FORMATS = ("jsonl", "csv", "parquet")

#: Bytes read from an input file at a time: the only part of the file held in memory.
READ_CHUNK = 64 * 1024


def storage_path(value: str | ObjectStoragePath) -> ObjectStoragePath:
    """Turn a URI or path into an ``ObjectStoragePath`` (see :func:`.storage.storage_path`)."""
    from airflow_provider_mdsp.operators.storage import storage_path as resolve

    return resolve(value)


def writer_for(output_format: str) -> type[RecordWriter]:
    """Return the writer class for ``output_format``, checking that it can be used at all.

    :raises MdspConfigError: unknown format, or ``parquet`` without pyarrow installed.
    """
    from airflow_provider_mdsp.operators.parquet import ParquetWriter

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
    :param time_field: the record key holding its time (Parquet types it as a UTC timestamp).
    """

    def __init__(self, handle: IO[bytes], *, time_field: str | None = "_time") -> None:
        self.handle = handle
        self.time_field = time_field

    def write_page(self, page: list[dict]) -> None:
        """Write one page of records."""
        raise NotImplementedError

    def close(self) -> None:
        """Finish the file (footer, header rewrite); the handle itself is closed by the caller."""

    def abort(self) -> None:
        """Release what the writer holds after a failure; the file is discarded by the caller."""


def _encode_hook(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


#: One encoder for every page: msgspec writes a page of JSON Lines about 10x faster than ``json``.
#: Its output differs from ``json.dumps(record, separators=(",", ":"))`` only where JSON allows a
#: choice (docs/outputs.md): NaN and ±Infinity become ``null`` (``json`` writes ``NaN``, which is not
#: JSON), non-ASCII text is written as UTF-8 rather than ``\u`` escapes, floats of very small or
#: large magnitude use another exponent form (``1e22`` for ``1e+22``, same value), and datetimes
#: are written in RFC 3339 with their full precision (``…T10:00:00.123456Z``).
_ENCODER = msgspec.json.Encoder(enc_hook=_encode_hook)


def encode_json(value: Any) -> str:
    """Encode one value as compact JSON text, as the JSON Lines writer does."""
    return _ENCODER.encode(value).decode("utf-8")


class JsonLinesWriter(RecordWriter):
    """JSON Lines: one compact JSON object per line, UTF-8; NaN and ±Infinity are written as ``null``."""

    def write_page(self, page: list[dict]) -> None:
        """Write one page as JSON Lines."""
        if page:
            self.handle.write(_ENCODER.encode_lines(page))


#: Cell types the csv module writes as they should appear; anything else goes through :func:`_csv_cell`.
_PLAIN_CELLS = frozenset({str, int, type(None)})


class CsvWriter(RecordWriter):
    """CSV with a header; columns are the union of all record keys, in order of first appearance.

    Cells: text and numbers as they are, nothing for a missing value, ``null``, NaN or ±Infinity,
    ``true``/``false`` for booleans, compact JSON for objects and lists. The header cannot be known
    before the last page (a time series omits a variable with no value, so a column may first
    appear late), so rows go to a local spool file that is copied behind the final header in
    :meth:`close`; only rows written before a column first appeared are re-read, to pad them to the
    full width. Memory stays one page; a page is converted column by column, so a column of plain
    numbers costs no per-cell Python call.
    """

    def __init__(self, handle: IO[bytes], *, time_field: str | None = "_time") -> None:
        super().__init__(handle, time_field=time_field)
        self.columns: dict[str, None] = {}
        # Closed in close()/abort(); a context manager cannot span the pages.
        self.spool = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115
        self.text = io.TextIOWrapper(self.spool, encoding="utf-8", newline="")
        self.rows = csv.writer(self.text)
        self.narrow_rows = 0  # rows written before the last column appeared
        self.written = 0

    def write_page(self, page: list[dict]) -> None:
        """Spool one page of rows, widening the header if new keys appear."""
        if not page:
            return
        if not set().union(*page) <= self.columns.keys():
            for record in page:
                for key in record:
                    if key not in self.columns:
                        self.columns[key] = None
            self.narrow_rows = self.written
        if not self.columns:  # records without any key yet: one empty row each, padded in close()
            self.rows.writerows([[]] * len(page))
            self.written += len(page)
            return
        fast = csv_lines_of_full_records(page, list(self.columns))
        if fast is not None:
            self.text.flush()
            self.spool.write(fast)
            self.written += len(page)
            return
        cells = [_csv_column([record.get(key) for record in page]) for key in self.columns]
        fast = csv_lines(cells)
        if fast is None:
            self.rows.writerows(zip(*cells, strict=True))
        else:
            self.text.flush()
            self.spool.write(fast)
        self.written += len(page)

    def close(self) -> None:
        """Write the header and the spooled rows, padded to the header's width."""
        text = io.TextIOWrapper(self.handle, encoding="utf-8", newline="", write_through=True)
        try:
            out = csv.writer(text)
            out.writerow(list(self.columns))
            self.text.flush()
            self.spool.seek(0)
            if self.narrow_rows:
                # A column appeared after the first rows: pad every row to the header's width.
                width = len(self.columns)
                spooled = io.TextIOWrapper(self.spool, encoding="utf-8", newline="")
                for row in csv.reader(spooled):
                    out.writerow(row + [""] * (width - len(row)))
                spooled.detach()
            else:
                shutil.copyfileobj(self.spool, self.handle)
            text.flush()
        finally:
            text.detach()  # leave the binary handle open for atomic_output to close
            self.abort()

    def abort(self) -> None:
        """Drop the spooled rows."""
        with contextlib.suppress(ValueError):
            self.text.detach()
        self.spool.close()


def csv_lines_of_full_records(page: list[dict], columns: list[str]) -> bytes | None:
    """Render a page whose records all have every column and only text, numbers and booleans, or return ``None``.

    The common case of time-series pages, without a Python call per cell: see :func:`csv_lines`.
    """
    if len(columns) < 2:
        return None
    try:
        rows = list(map(operator.itemgetter(*columns), page))
    except KeyError:
        return None
    return _as_csv(_ENCODER.encode_lines(rows), len(rows), len(columns))


def _as_csv(data: bytes, rows: int, columns: int) -> bytes | None:
    """Turn JSON Lines arrays of text and numbers into CSV lines, or ``None`` if a cell needs more."""
    # A backslash is an escaped character; ``null`` a None, NaN or ±Infinity (an empty cell); braces
    # and extra brackets or commas are objects, lists or text with a comma: the csv module's job.
    if b"\\" in data or b"null" in data or b"{" in data:
        return None
    if data.count(b",") != rows * (columns - 1) or data.count(b"[") != rows:
        return None
    return data[1:-2].replace(b'"', b"").replace(b"]\n[", b"\r\n") + b"\r\n"


def csv_lines(columns: list[list[Any]]) -> bytes | None:
    """Render rows as CSV through msgspec, or return ``None`` when the csv module must quote a cell.

    The csv module formats each cell in Python; msgspec writes a row as a JSON array in C. When no
    text cell needs CSV quoting or JSON escaping (no ``,`` ``"`` ``\\``, line break or control
    character, as in time-series records), that array is the CSV line once its brackets and its
    string quotes are dropped (``None`` is written as an empty string first): the same bytes the
    csv module writes, except the exponent form of floats below 1e-4 or from 1e16 (``0.00001`` for
    ``1e-05``, the same number).

    :param columns: the page's cells, column by column, converted by :func:`_csv_column`.
    """
    if len(columns) < 2 or not columns[0]:
        return None  # a lone empty cell must be quoted
    rows = list(zip(*(_no_none(column) for column in columns), strict=True))
    return _as_csv(_ENCODER.encode_lines(rows), len(rows), len(columns))


def _no_none(column: list[Any]) -> list[Any]:
    return [("" if v is None else v) for v in column] if None in column else column


def _csv_column(values: list[Any]) -> list[Any]:
    """Return a column's cells, converting only columns that hold something other than text and integers."""
    kinds = set(map(type, values))
    if kinds <= _PLAIN_CELLS:
        return values
    if kinds <= {float, int} and math.isfinite(sum(values)):
        return values  # NaN or ±Infinity make the sum infinite or NaN (an overflowing sum: checked cell by cell)
    if kinds <= _PLAIN_CELLS | {float} and all(map(math.isfinite, (v for v in values if type(v) is float))):
        return values
    return [_csv_cell(value) for value in values]


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, (dict, list)):
        return encode_json(value)
    return value


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
