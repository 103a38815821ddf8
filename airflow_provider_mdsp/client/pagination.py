"""Streaming paging for every style the Insights Hub APIs use.

Each ``iter_*_pages`` generator yields one page (a list of items) at a time and never keeps earlier
pages, so a caller that writes page by page runs in flat memory. Styles (insights-hub-api.md):
Spring pages (Asset and Event Management, §3, §6), the time-series ``Link`` header (§4), SCIM
``startIndex``/``count`` (Identity, §8), file search ``offset``/``limit`` (IoT File, §7) and the bulk
read's ``nextRecord`` (§8). A link to another host is refused by the transport, and a link that
repeats the current page is an error rather than an endless loop.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import Any

import requests

from airflow_provider_mdsp.client.transport import Transport, parse_json
from airflow_provider_mdsp.exceptions import MdspError, MdspResponseError

#: IoT File search refuses an ``offset`` above this (§0, DOC api-iotfile-references-filtering).
MAX_FILE_SEARCH_OFFSET = 10_000
#: IoT File search answers at most this many files per page (§0, IoT File OpenAPI spec 3.2.4).
MAX_FILE_SEARCH_LIMIT = 200

Page = list[Any]


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
    thread = threading.Thread(target=_produce, args=(pages, buffer, stop), name="mdsp-read-ahead", daemon=True)
    thread.start()
    try:
        yield from drain(buffer)
    finally:
        stop.set()


def drain(buffer: queue.Queue[tuple[str, Any]]) -> Iterator[Any]:
    """Yield what a producer thread puts into ``buffer`` until its ``("done", None)``; raise its ``("error", exc)``.

    :param buffer: the queue of ``(kind, value)`` pairs, e.g. ``("page", [...])``.
    """
    while True:
        kind, value = buffer.get()
        if kind == "error":
            raise value
        if kind == "done":
            return
        yield value


def _produce(pages: Iterable[Page], buffer: queue.Queue[tuple[str, Any]], stop: threading.Event) -> None:
    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    iterator = iter(pages)
    try:
        for page in iterator:
            if not put(("page", page)):
                return
        put(("done", None))
    except BaseException as exc:  # handed to the consumer, who raises it
        put(("error", exc))
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

    ``_embedded`` is absent when nothing matches (§3). A page that comes back empty while
    ``page.totalPages`` says more follow is skipped, not taken as the end.

    :param transport: the transport.
    :param path: collection path, e.g. ``/api/assetmanagement/v3/assets``.
    :param embedded_key: key under ``_embedded``: ``assets``, ``events``, ``aspects`` …
    :param params: other query parameters (filter, sort …).
    :param size: page size; Asset Management defaults to 10, its docs recommend 200.
    """
    number = 0
    while True:
        body = transport.request_json("GET", path, params={**(params or {}), "page": number, "size": size})
        if not isinstance(body, Mapping):
            raise MdspResponseError(f"Expected a page object from {path}, got {type(body).__name__}")
        embedded = body.get("_embedded") or {}
        yield list(embedded.get(embedded_key) or [])
        page = body.get("page") or {}
        total_pages = int(page.get("totalPages") or 0)
        # Count pages ourselves: a server that echoes a wrong ``number`` must not loop us forever.
        number += 1
        has_next = bool((body.get("_links") or {}).get("next"))
        if number >= total_pages and not (has_next and not total_pages):
            return


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
    """Yield the pages of a time-series read, following the ``Link`` header until it is absent (§4).

    :param transport: the transport.
    :param path: ``/api/iottimeseries/v3/timeseries/{entity}/{propertySet}``.
    :param params: ``from``, ``to``, ``limit``, ``select`` …
    """
    for response in iter_link_responses(transport, path, params=params):
        yield link_page(response, path)


def iter_link_responses(
    transport: Transport, path: str, *, params: Mapping[str, Any] | None = None
) -> Generator[requests.Response, None, None]:
    """Yield the undecoded responses of a time-series read, following the ``Link`` header (§4).

    A response's bytes take a fraction of the memory of its decoded records, so concurrent window
    reads hold pages this way until they are written (:mod:`~airflow_provider_mdsp.client.windows`).

    :param transport: the transport.
    :param path: ``/api/iottimeseries/v3/timeseries/{entity}/{propertySet}``.
    :param params: ``from``, ``to``, ``limit``, ``select`` …
    """
    url, query = transport.url_for(path), dict(params or {})
    seen: set[str] = set()
    while True:
        response = transport.request("GET", url, params=query)
        yield response
        link = next_link(response.headers.get("Link"))
        if not link:
            return
        url, query = transport.resolve_link(response.url, link), {}
        if url in seen:
            raise MdspResponseError(f"The next-page link of {path} repeats an earlier page; stopping")
        seen.add(url)


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
    """Yield the pages of a SCIM list (``startIndex`` from 1, ``count``, ``resources``; §8).

    :param transport: the transport.
    :param path: e.g. ``/api/identitymanagement/v3/Users``.
    :param params: ``filter``, ``attributes``, ``sortBy`` …
    :param count: items per page.
    """
    start = 1
    while True:
        body = transport.request_json("GET", path, params={**(params or {}), "startIndex": start, "count": count})
        if not isinstance(body, Mapping):
            raise MdspResponseError(f"Expected a SCIM list object from {path}")
        resources = list(body.get("resources") or body.get("Resources") or [])
        yield resources
        total = int(body.get("totalResults") or 0)
        start += len(resources)
        if not resources or start > total:
            return


def iter_offset_pages(
    transport: Transport, path: str, *, params: Mapping[str, Any] | None = None, limit: int = MAX_FILE_SEARCH_LIMIT
) -> Iterator[Page]:
    """Yield the pages of an IoT File search (``offset``/``limit``, plain arrays; §0, §7).

    The service may answer fewer files than ``limit`` asks for (the spec caps it at 200 while the
    docs speak of 500), so a short page does not mean the end: the first request asks for
    ``count=true`` and paging ends at the total it names in ``X-Total-Count``, or at an empty page.

    :param transport: the transport.
    :param path: ``/api/iotfile/v3/files/{entityId}``.
    :param params: ``filter``, ``order`` …
    :param limit: items per page (the service's maximum is 200).
    :raises MdspError: more results than the service can page to (``offset`` stops at 10,000);
        raised before the first page when the total says so. Narrow the filter.
    """
    offset, total = 0, None
    while True:
        if offset > MAX_FILE_SEARCH_OFFSET:
            raise _past_offset_cap(path, total)
        query = {**(params or {}), "offset": offset, "limit": limit, "count": "true" if offset == 0 else None}
        response = transport.request("GET", path, params=query)
        page = list(parse_json(response) or [])
        if offset == 0:
            total = _total_count(response)
            if total is not None and total > MAX_FILE_SEARCH_OFFSET + max(len(page), 1):
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
    """Yield the pages of a TS Bulk read, following ``nextRecord`` until it is absent (§8).

    :param transport: the transport.
    :param path: ``/api/iottsbulk/v3/timeseries/{entity}/{propertySet}``.
    :param params: ``from``, ``to`` (both required by the service), ``limit``, ``select``.
    """
    url, query = transport.url_for(path), dict(params or {})
    seen: set[str] = set()
    while True:
        body = transport.request_json("GET", url, params=query)
        if not isinstance(body, Mapping):
            raise MdspResponseError(f"Expected a bulk read object from {path}")
        yield list(body.get("records") or [])
        link = body.get("nextRecord")
        if not link:
            return
        url, query = transport.resolve_link(url, str(link)), {}
        if url in seen:
            raise MdspResponseError(f"The nextRecord link of {path} repeats an earlier page; stopping")
        seen.add(url)
