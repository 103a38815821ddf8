"""Paging makes progress or stops; responses have a size bound and a nesting bound."""

from __future__ import annotations

import gzip
import itertools
import json
import tracemalloc

import pytest

from airflow_provider_mdsp.client import pagination
from airflow_provider_mdsp.exceptions import MdspPagingError, MdspResponseError, MdspResponseTooLargeError
from tests.hostile.server import answer

TS = "/api/iottimeseries/v3/timeseries/a1/Vibration"
WINDOW = {"from_": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}


def page_of(start_minute: int) -> bytes:
    return json.dumps(
        [
            {"_time": f"2026-01-01T{(start_minute + k) // 60:02d}:{(start_minute + k) % 60:02d}:00.000Z", "v": k}
            for k in range(3)
        ]
    ).encode()


def test_new_links_over_the_same_records_end_the_read_with_a_paging_error(gateway, client_for):
    def same_data(handler, seen):
        number = seen.path.count("&p=")
        link = f'<{TS}?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z{"&p=" * (number + 1)}>; rel="next"'
        answer(handler, 200, page_of(0), {"Link": link})

    gateway.play("/api")(same_data)
    records: list = []
    pages = client_for().timeseries.iter_timeseries("a1", "Vibration", prefetch=0, **WINDOW)
    with pytest.raises(MdspPagingError, match="repeats data under new links"):
        records.extend(pages)
    assert len(records) == 3, "the first page only; the repeat is refused before it is handed out"
    assert gateway.count("/api") == 2


@pytest.mark.parametrize(
    ("limit", "most_requests"),
    [(3, 60), (2000, 3)],  # sequential: the page read ahead may be in flight
    ids=["cut-into-sub-windows", "too-few-pages-to-cut"],
)
def test_a_concurrent_read_over_repeated_records_ends_with_a_paging_error(limit, most_requests, gateway, client_for):
    def same_data(handler, seen):  # every link is new (one more "&p="), the records are the same
        answer(handler, 200, page_of(0), {"Link": f'<{seen.path}&p=>; rel="next"'})

    gateway.play("/api")(same_data)
    records: list = []
    pages = client_for().timeseries.iter_timeseries("a1", "Vibration", concurrency=4, limit=limit, **WINDOW)
    with pytest.raises(MdspPagingError, match="repeats data under new links"):
        records.extend(pages)
    assert len(records) == 3, "the first page only; the repeat is refused before it is handed out"
    assert gateway.count("/api") <= most_requests, "the workers stop with the read"


def test_a_concurrent_read_stops_at_max_pages_for_the_whole_read(gateway, client_for):
    calls: list = []

    def one_page_then_empty_windows(handler, seen):  # each sub-window is one empty page: 1 request each
        calls.append(seen)
        if len(calls) == 1:
            answer(handler, 200, page_of(0), {"Link": f'<{seen.path}&p=>; rel="next"'})
        else:
            answer(handler, 200, b"[]")

    gateway.play("/api")(one_page_then_empty_windows)
    with pytest.raises(MdspPagingError, match=r"more than 5 pages.*max_pages"):
        list(client_for(max_pages=5).timeseries.iter_timeseries("a1", "Vibration", concurrency=4, limit=3, **WINDOW))
    assert len(calls) < 20, "the workers stop with the read"


def test_a_read_stops_at_max_pages_and_says_how_to_raise_it(gateway, client_for):
    def endless(handler, seen):
        number = seen.path.count("&p=")
        link = f'<{TS}?from=x&to=y{"&p=" * (number + 1)}>; rel="next"'
        answer(handler, 200, page_of(number * 3), {"Link": link})

    gateway.play("/api")(endless)
    with pytest.raises(MdspPagingError, match=r"more than 4 pages.*max_pages"):
        list(client_for(max_pages=4).timeseries.iter_timeseries("a1", "Vibration", prefetch=0, **WINDOW))
    assert gateway.count("/api") == 4


def _endless(body_for):
    """A play whose every page says more follow; ``body_for(n)`` is the n-th page's JSON object."""

    def play(handler, seen):
        answer(
            handler, 200, json.dumps(body_for(int(seen.path.rsplit("n=", 1)[-1]) if "n=" in seen.path else 0)).encode()
        )

    return play


ENDLESS_OBJECT_PAGES = {
    "spring": (
        lambda t: pagination.iter_spring_pages(t, "/api/x", "items", size=1),
        lambda n: {"_embedded": {"items": [n]}, "page": {"totalPages": 10**6}},
    ),
    "keyed (Data Lake)": (
        lambda t: pagination.iter_keyed_pages(t, "/api/x", "items", size=1),
        lambda n: {"items": [n], "page": {"totalPages": 10**6}},
    ),
    "content (Tenant Management)": (
        lambda t: pagination.iter_content_pages(t, "/api/x", size=1),
        lambda n: {"content": [n], "last": False},
    ),
    "scim": (
        lambda t: pagination.iter_scim_pages(t, "/api/x", count=1),
        lambda n: {"resources": [n], "totalResults": 10**6},
    ),
    "nextRecord (TS Bulk)": (
        lambda t: pagination.iter_next_record_pages(t, "/api/x"),
        lambda n: {"records": [{"v": n}], "nextRecord": f"/api/x?n={n + 1}"},
    ),
}


@pytest.mark.parametrize(("pages", "body_for"), ENDLESS_OBJECT_PAGES.values(), ids=ENDLESS_OBJECT_PAGES)
def test_every_paging_style_stops_at_max_pages(pages, body_for, gateway, client_for):
    gateway.play("/api")(_endless(body_for))
    with pytest.raises(MdspPagingError, match=r"more than 3 pages.*max_pages"):
        list(itertools.islice(pages(client_for(max_pages=3).transport), 10))  # 10: a read that ignores max_pages
    assert gateway.count("/api") == 3


def test_a_compressed_bomb_is_refused_early_in_bounded_memory(gateway, client_for):
    bomb = gzip.compress(b"[" + b" " * (300 * 1024 * 1024) + b"]", compresslevel=9)
    assert len(bomb) < 400 * 1024
    gateway.play("/api")(lambda h, s: answer(h, 200, bomb, {"Content-Encoding": "gzip"}))
    client = client_for(max_response_bytes=8 * 1024 * 1024, max_retries=0)
    tracemalloc.start()
    try:
        with pytest.raises(MdspResponseTooLargeError, match=r"8 MiB.*max_response_mb"):
            client.request_json("GET", TS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB while refusing a 300 MiB bomb"


def test_json_nested_100000_deep_is_a_typed_error(gateway, client_for):
    gateway.play("/api")(lambda h, s: answer(h, 200, b"[" * 100_000 + b"]" * 100_000))
    with pytest.raises(MdspResponseError, match="nests JSON deeper"):
        client_for().request_json("GET", TS)
