"""Rendered time-series pages kept for benchmarks (``page_cache`` in the emulator config).

Rendering a 2000-record page of generated data takes the emulator about 10 ms of CPU, more than
a well-written client spends on it; on a 2-core machine a benchmark of the client would mostly
measure the emulator. With ``page_cache`` set, a page already rendered is served again from
memory (body and ``Link``), so only the first read of a window pays for rendering. Any write to
or delete from a series forgets its pages. Off by default: tests and demos render every page, and
generated data moving with the clock (the newest record, the oldest one dropping out of the span)
is always current.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

#: ``(body, Link header or None)``
CachedPage = tuple[str, "str | None"]


class PageCache:
    """A least-recently-used store of rendered pages.

    :param size: the most pages kept; 0 keeps none.
    """

    def __init__(self, size: int = 0) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[Any, ...], CachedPage] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> CachedPage | None:
        """Return the page rendered for ``key``, if kept."""
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
        return page

    def put(self, key: tuple[Any, ...], page: CachedPage) -> None:
        """Keep a rendered page (the least recently used one leaves when full)."""
        if self.size <= 0:
            return
        self._pages[key] = page
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)

    def forget(self, entity: str, ps: str) -> None:
        """Drop every page of one series (after a write or delete)."""
        for key in [k for k in self._pages if k[:2] == (entity, ps)]:
            del self._pages[key]
