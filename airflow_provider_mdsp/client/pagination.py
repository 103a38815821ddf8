"""Streaming paging for every style the Insights Hub APIs use.

Each ``iter_*_pages`` generator yields one page (a list of items) at a time and never keeps earlier
pages, so a caller that writes page by page runs in flat memory. Styles (Node SDK
``src/api/sdk``): Spring pages (Asset and Event Management; ``{key, page}`` in the Data Lake,
``content`` in Tenant Management), the time-series ``Link`` header, SCIM ``startIndex``/``count``
(Identity), file search ``offset``/``limit`` (IoT File) and the bulk read's ``nextRecord`` (TS
Bulk). A link to another host is refused by the transport.

Paging makes progress or stops with :class:`~airflow_provider_mdsp.exceptions.MdspPagingError`: a
next link seen before, or a time-series page whose records do not move past the previous page's
last ``_time`` (a server that hands out new links over the same data), ends the read; and no read
follows more than ``max_pages`` pages (the connection field; default
:data:`~airflow_provider_mdsp.client.settings.DEFAULT_MAX_PAGES`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import Any

import requests

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.client.transport import Transport, parse_json
from airflow_provider_mdsp.exceptions import MdspError, MdspPagingError, MdspResponseError

#: IoT File search refuses an ``offset`` above this (Siemens docs, IoT File filtering).
MAX_FILE_SEARCH_OFFSET = 10_000
#: IoT File search answers at most this many files per page (IoT File OpenAPI spec 3.2.4).
MAX_FILE_SEARCH_LIMIT = 200

Page = list[Any]


class Progress:
    """Count the pages of one read and check that time-ordered pages move forward.

    :param transport: the transport (its settings give ``max_pages``; :meth:`get_object` sends through it).
    :param path: the collection, for messages.
    :param descending: records come newest first (``sort=desc``).
    """

    def __init__(self, transport: Transport, path: str, *, descending: bool = False) -> None:
        self.transport = transport
        settings = getattr(transport, "settings", None)
        self.limit = int(getattr(settings, "max_pages", 0) or 0) or None
        self.path, self.descending = path, descending
        self.pages = 0
        self.seen: set[str] = set()
        self.last: Any = None

    def count(self) -> None:
        """Count one more page; past ``max_pages`` the read ends."""
        self.pages += 1
        if self.limit is not None and self.pages > self.limit:
            raise MdspPagingError(
                f"The read of {self.path} needs more than {self.limit} pages; narrow the time range or filter, "
                "or raise connection field 'max_pages'"
            )

    def get_object(self, url: str, params: Mapping[str, Any] | None) -> Mapping[str, Any]:
        """Count one more page, GET it and return its body, which must be a JSON object.

        :param url: the collection path, or the absolute URL of a next page.
        :param params: the query of this page.
        :raises MdspResponseError: the body is not a JSON object.
        """
        self.count()
        body = self.transport.request_json("GET", url, params=params)
        if not isinstance(body, Mapping):
            raise MdspResponseError(f"Expected a page object from {self.path}, got {type(body).__name__}")
        return body

    def link(self, url: str) -> None:
        """Refuse a next link that was followed before."""
        if url in self.seen:
            raise MdspPagingError(f"The next-page link of {self.path} repeats an earlier page; stopping")
        self.seen.add(url)

    def records(self, records: list[Any]) -> None:
        """Refuse a page whose first record is not past the previous page's last ``_time``."""
        times = [_time_of(r) for r in (records[0], records[-1])] if records else []
        if len(times) < 2 or None in times:
            return  # records without a readable _time are not checked here
        first, last = times
        if self.last is not None and (first >= self.last if self.descending else first <= self.last):
            raise MdspPagingError(
                f"A page of {self.path} starts at {timeutil.format_time(first)}, not past the previous page's last "
                f"record at {timeutil.format_time(self.last)}: the server repeats data under new links; stopping"
            )
        self.last = last


def checked_pages(pages: Iterable[Page], progress: Progress) -> Iterator[Page]:
    """Yield ``pages`` as they come, each counted and refused unless it moves past the one before.

    For reads whose pages arrive from several requests at once (concurrent window reads): the
    caller's pages in time order are one read, checked as a sequential read checks its own.

    :param pages: the read's pages, in time order.
    :param progress: the read's :class:`Progress`.
    """
    try:
        for page in pages:
            progress.count()
            progress.records(page)
            yield page
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()  # stops a concurrent read's workers at once, not when the generator is collected


def _time_of(record: Any) -> Any:
    if not isinstance(record, Mapping) or not isinstance(record.get("_time"), str):
        return None
    try:
        return timeutil.to_datetime(record["_time"], assume_utc=True)
    except ValueError:  # MdspConfigError is a ValueError
        return None


#: Seconds closing a read waits for a page request its fetching thread already has in flight, so no
#: request of a closed read is sent or answered after it (each request has its own deadline too).
CLOSE_WAIT_S = 5.0


def iter_items(pages: Iterable[Page]) -> Iterator[Any]:
    """Flatten pages into items, still one page in memory at a time."""
    for page in pages:
        yield from page


def read_ahead(pages: Iterable[Page], depth: int = 1) -> Iterator[Page]:
    """Yield ``pages`` in order while a background thread fetches up to ``depth`` pages ahead.

    Sequential paging leaves the client idle while the gateway prepares the next page, and the
    gateway idle while the client writes the last one; overlapping the two is what makes a long
    extraction fast (``python -m benchmarks``). Memory stays bounded: at most ``depth + 1`` pages are
    held beyond the one being consumed. Errors from the fetching side are raised here, in order;
    closing this generator (or an error while consuming) stops the fetching within moments.

    :param pages: a page generator (e.g. :func:`iter_link_pages`); it runs entirely in the thread.
    :param depth: pages fetched ahead; ``0`` disables the thread.
    """
    if depth <= 0:
        yield from pages
        return
    buffer: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    thread = threading.Thread(target=feed, args=(pages, buffer, stop), name="mdsp-read-ahead", daemon=True)
    thread.start()
    try:
        yield from drain(buffer)
    finally:
        stop.set()
        thread.join(CLOSE_WAIT_S)


def drain(buffer: queue.Queue[tuple[str, Any]]) -> Iterator[Any]:
    """Yield what :func:`feed` puts into ``buffer`` until its ``("done", None)``; raise its ``("error", exc)``.

    :param buffer: the queue of ``(kind, value)`` pairs, e.g. ``("item", [...])``.
    """
    while True:
        kind, value = buffer.get()
        if kind == "error":
            raise value
        if kind == "done":
            return
        yield value


def feed(items: Iterable[Any], buffer: queue.Queue[tuple[str, Any]], stop: threading.Event) -> bool:
    """Put each of ``items`` into ``buffer`` for :func:`drain` (the producing side, in a thread).

    Each item goes in as ``("item", item)``, then ``("done", None)``; an error while iterating goes
    in as ``("error", exc)`` for the consumer to raise. A full buffer is waited on until ``stop`` is
    set; then the items are closed and nothing more is put.

    :param items: the items, e.g. pages; closed when done, failed or stopped.
    :param buffer: the bounded queue the consumer drains.
    :param stop: set by the consumer when it no longer reads.
    :return: ``True`` when every item and the ``done`` marker went in.
    """

    def put(entry: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    iterator = iter(items)
    try:
        for item in iterator:
            if not put(("item", item)):
                return False
        return put(("done", None))
    except BaseException as exc:  # handed to the consumer, who raises it
        put(("error", exc))
        return False
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def iter_spring_pages(
    transport: Transport,
    path: str,
    embedded_key: str,
    *,
    params: Mapping[str, Any] | None = None,
    size: int = 200,
) -> Iterator[Page]:
    """Yield the pages of a Spring-paged collection (``_embedded``/``page``/``_links``).

    ``_embedded`` is absent when nothing matches (Node SDK ``sdk/asset/asset-models.ts``). A page that
    comes back empty while
    ``page.totalPages`` says more follow is skipped, not taken as the end.

    :param transport: the transport.
    :param path: collection path, e.g. ``/api/assetmanagement/v3/assets``.
    :param embedded_key: key under ``_embedded``: ``assets``, ``events``, ``aspects`` …
    :param params: other query parameters (filter, sort …).
    :param size: page size; Asset Management defaults to 10, its docs recommend 200.
    """
    number, progress = 0, Progress(transport, path)
    while True:
        body = progress.get_object(path, {**(params or {}), "page": number, "size": size})
        embedded = body.get("_embedded") or {}
        yield list(embedded.get(embedded_key) or [])
        page = body.get("page") or {}
        total_pages = int(page.get("totalPages") or 0)
        # Count pages ourselves: a server that echoes a wrong ``number`` must not loop us forever.
        number += 1
        has_next = bool((body.get("_links") or {}).get("next"))
        if number >= total_pages and not (has_next and not total_pages):
            return


def iter_keyed_pages(
    transport: Transport, path: str, key: str, *, params: Mapping[str, Any] | None = None, size: int
) -> Iterator[Page]:
    """Yield the lists under ``key`` of a paged answer ``{key: [...], page: {number, totalPages}}``.

    :param transport: the transport.
    :param path: the collection path.
    :param key: the list's key, e.g. ``objectMetadata`` or ``timeSeriesImportJobs``.
    :param params: other query parameters.
    :param size: items per page.
    """
    number, progress = 0, Progress(transport, path)
    while True:
        body = progress.get_object(path, {**(params or {}), "page": number, "size": size})
        yield list(body.get(key) or [])
        number += 1
        if number >= int((body.get("page") or {}).get("totalPages") or 0):
            return


def iter_content_pages(transport: Transport, path: str, *, size: int) -> Iterator[Page]:
    """Yield the ``content`` of each page of a Spring Data page until ``last`` (or ``totalPages``) says so.

    :param transport: the transport.
    :param path: the collection path.
    :param size: items per page.
    """
    number, progress = 0, Progress(transport, path)
    while True:
        body = progress.get_object(path, {"page": number, "size": size})
        yield list(body.get("content") or [])
        number += 1  # counted here: a server echoing a wrong ``number`` must not loop us forever
        total_pages = body.get("totalPages")
        if body.get("last") is True or (total_pages is not None and number >= int(total_pages)):
            return
        if body.get("last") is None and total_pages is None:
            return  # neither marker: take the one page as all there is


def next_link(link_header: str | None) -> str | None:
    """Return the ``rel="next"`` URL of an HTTP ``Link`` header (RFC 8288), or ``None``.

    :param link_header: the header value, e.g. ``<https://gw/api/…?from=…>; rel="next"``.
    """
    if not link_header:
        return None
    for part in link_header.split(","):
        section = part.split(";")
        url = section[0].strip()
        rels = {p.strip().replace('"', "").lower() for p in section[1:]}
        if url.startswith("<") and url.endswith(">") and ("rel=next" in rels or not rels):
            return url[1:-1]
    return None


def iter_link_pages(transport: Transport, path: str, *, params: Mapping[str, Any] | None = None) -> Iterator[Page]:
    """Yield the pages of a time-series read, following the ``Link`` header until it is absent
    (Node SDK ``GetNextRecordsBulkStyle``).

    :param transport: the transport.
    :param path: ``/api/iottimeseries/v3/timeseries/{entity}/{propertySet}``.
    :param params: ``from``, ``to``, ``limit``, ``select`` …
    """
    descending = str((params or {}).get("sort") or "").lower() == "desc"
    progress = Progress(transport, path, descending=descending)
    for response in iter_link_responses(transport, path, params=params):
        page = link_page(response, path)
        progress.records(page)
        yield page


def iter_link_responses(
    transport: Transport, path: str, *, params: Mapping[str, Any] | None = None
) -> Generator[requests.Response, None, None]:
    """Yield the undecoded responses of a time-series read, following the ``Link`` header (Node SDK
    ``GetNextRecordsBulkStyle``).

    A response's bytes take a fraction of the memory of its decoded records, so concurrent window
    reads hold pages this way until they are written (:mod:`~airflow_provider_mdsp.client.windows`).

    :param transport: the transport.
    :param path: ``/api/iottimeseries/v3/timeseries/{entity}/{propertySet}``.
    :param params: ``from``, ``to``, ``limit``, ``select`` …
    """
    url, query = transport.url_for(path), dict(params or {})
    progress = Progress(transport, path)
    while True:
        progress.count()
        response = transport.request("GET", url, params=query)
        yield response
        link = next_link(response.headers.get("Link"))
        if not link:
            return
        url, query = transport.resolve_link(response.url, link), {}
        progress.link(url)


def link_page(response: requests.Response, path: str) -> Page:
    """Decode one time-series page: a JSON array of records (an empty body is an empty page).

    :param response: a successful response of :func:`iter_link_responses`.
    :param path: the path read, for the message.
    :raises MdspResponseError: the body is not a JSON array.
    """
    body = parse_json(response)
    if body is None:
        return []
    if not isinstance(body, list):
        raise MdspResponseError(f"Expected a JSON array of records from {path}, got {type(body).__name__}")
    return body


def iter_scim_pages(
    transport: Transport, path: str, *, params: Mapping[str, Any] | None = None, count: int = 100
) -> Iterator[Page]:
    """Yield the pages of a SCIM list (``startIndex`` from 1, ``count``, ``resources``; Node SDK ``sdk/identity``).

    :param transport: the transport.
    :param path: e.g. ``/api/identitymanagement/v3/Users``.
    :param params: ``filter``, ``attributes``, ``sortBy`` …
    :param count: items per page.
    """
    start, progress = 1, Progress(transport, path)
    while True:
        body = progress.get_object(path, {**(params or {}), "startIndex": start, "count": count})
        resources = list(body.get("resources") or body.get("Resources") or [])
        yield resources
        total = int(body.get("totalResults") or 0)
        start += len(resources)
        if not resources or start > total:
            return


def iter_offset_pages(
    transport: Transport,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    limit: int = MAX_FILE_SEARCH_LIMIT,
    stop_at_offset_cap: bool = False,
) -> Iterator[Page]:
    """Yield the pages of an IoT File search (``offset``/``limit``, plain arrays; Siemens docs, IoT File filtering).

    The service may answer fewer files than ``limit`` asks for (the spec caps it at 200 while the
    docs speak of 500), so a short page does not mean the end: the first request asks for
    ``count=true`` and paging ends at the total it names in ``X-Total-Count``, or at an empty page.

    :param transport: the transport.
    :param path: ``/api/iotfile/v3/files/{entityId}``.
    :param params: ``filter``, ``order`` …
    :param limit: items per page (the service's maximum is 200).
    :param stop_at_offset_cap: end quietly at the ``offset`` cap instead of raising, for a reader
        that wants only the first results (a clean-up that deletes the oldest files, then runs again).
    :raises MdspError: more results than the service can page to (``offset`` stops at 10,000);
        raised before the first page when the total says so. Narrow the filter.
    """
    offset, total, progress = 0, None, Progress(transport, path)
    while True:
        progress.count()
        if offset > MAX_FILE_SEARCH_OFFSET:
            if stop_at_offset_cap:
                return
            raise _past_offset_cap(path, total)
        query = {**(params or {}), "offset": offset, "limit": limit, "count": "true" if offset == 0 else None}
        response = transport.request("GET", path, params=query)
        page = list(parse_json(response) or [])
        if offset == 0:
            total = _total_count(response)
            if not stop_at_offset_cap and total is not None and total > MAX_FILE_SEARCH_OFFSET + max(len(page), 1):
                raise _past_offset_cap(path, total)
        if not page:
            return
        yield page
        offset += len(page)
        if total is not None and offset >= total:
            return


def _total_count(response: Any) -> int | None:
    text = str(response.headers.get("X-Total-Count") or "").strip()
    return int(text) if text.isdigit() else None


def _past_offset_cap(path: str, total: int | None) -> MdspError:
    count = f"{total} results" if total is not None else f"more than {MAX_FILE_SEARCH_OFFSET} results"
    return MdspError(
        f"The file search of {path} has {count}; IoT File pages only up to offset {MAX_FILE_SEARCH_OFFSET}. "
        "Narrow the 'filter' (for example by path or updated time)"
    )


def iter_next_record_pages(
    transport: Transport, path: str, *, params: Mapping[str, Any] | None = None
) -> Iterator[Page]:
    """Yield the pages of a TS Bulk read, following ``nextRecord`` until it is absent (Node SDK ``sdk/iotbulk``).

    :param transport: the transport.
    :param path: ``/api/iottsbulk/v3/timeseries/{entity}/{propertySet}``.
    :param params: ``from``, ``to`` (both required by the service), ``limit``, ``select``.
    """
    url, query = transport.url_for(path), dict(params or {})
    progress = Progress(transport, path)
    while True:
        body = progress.get_object(url, query)
        records = list(body.get("records") or [])
        progress.records(records)
        yield records
        link = body.get("nextRecord")
        if not link:
            return
        url, query = transport.resolve_link(url, str(link)), {}
        progress.link(url)
