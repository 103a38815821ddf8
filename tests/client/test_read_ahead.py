"""Read-ahead paging: same pages in the same order, errors in place, bounded work after the consumer stops."""

from __future__ import annotations

import threading
import time

import pytest

from airflow_provider_mdsp.client.pagination import read_ahead
from airflow_provider_mdsp.exceptions import MdspServerError


def counted_pages(n: int, fetched: list[int], *, fail_at: int | None = None):
    for number in range(n):
        if number == fail_at:
            raise MdspServerError(503, "unavailable")
        fetched.append(number)
        yield [number]


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_pages_arrive_complete_and_in_order(depth):
    fetched: list[int] = []
    assert list(read_ahead(counted_pages(50, fetched), depth)) == [[n] for n in range(50)]


def test_an_error_comes_after_the_pages_before_it_with_its_type():
    got: list[list[int]] = []
    with pytest.raises(MdspServerError) as err:
        got.extend(read_ahead(counted_pages(10, [], fail_at=4), 2))
    assert got == [[0], [1], [2], [3]]
    assert err.value.status == 503


def test_the_next_page_is_fetched_while_the_current_one_is_handled():
    fetched: list[int] = []
    pages = read_ahead(counted_pages(5, fetched), 1)
    assert next(pages) == [0]
    deadline = time.monotonic() + 5
    while len(fetched) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fetched[:2] == [0, 1]  # page 1 was read while the caller still held page 0
    pages.close()


def test_stopping_early_stops_fetching_and_closes_the_source():
    fetched: list[int] = []
    closed = threading.Event()

    def source():
        try:
            yield from counted_pages(1000, fetched)
        finally:
            closed.set()

    pages = read_ahead(source(), 2)
    assert next(pages) == [0]
    pages.close()
    assert closed.wait(5)
    assert len(fetched) <= 1 + 2 + 1  # the page handed out, the buffer, one in hand


def test_a_closed_read_has_no_request_left_in_flight():
    """A page request in flight when the read is closed ends before ``close()`` returns.

    Otherwise it is answered after the read (or the task) has moved on: in the test suite it even
    landed in the next test's mock and broke that test's request count.
    """
    started, finished = threading.Event(), threading.Event()

    def slow_source():
        yield [0]
        started.set()
        time.sleep(0.3)  # the second page's request, in flight
        finished.set()
        yield [1]

    pages = read_ahead(slow_source(), 1)
    assert next(pages) == [0]
    assert started.wait(5)
    pages.close()
    assert finished.is_set()
