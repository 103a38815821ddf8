"""Spring-style paging shared by Asset Management and Event Management (§3, §6).

``page`` is 0-based, ``size`` defaults per service; the body is ``_embedded.<key>`` (absent
when nothing matches), ``page{size,totalElements,totalPages,number}`` and ``_links`` with
``self`` always, ``first``/``last`` when there is more than one page, ``prev``/``next`` where
they exist (the Spring HATEOAS rule).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request

from .errors import ApiError
from .filters import Special, compile_filter
from .wire import query_int, url_with

#: ``(request, stored resource) -> wire form``
Render = Callable[[Request, dict[str, Any]], dict[str, Any]]

# Gap: the real maximum page size of Asset Management is not documented (2000 is assumed).
MAX_PAGE_SIZE = 2000


def page_params(request: Request, default_size: int, max_size: int = MAX_PAGE_SIZE) -> tuple[int, int]:
    """Read ``page`` and ``size``.

    :param request: the request
    :param default_size: ``size`` when absent
    :param max_size: largest ``size`` allowed
    :raises ApiError: 400 for negative pages or sizes out of range
    """
    page = query_int(request, "page", 0, minimum=0)
    size = query_int(request, "size", default_size, minimum=1, maximum=max_size)
    return page, size


def parse_sort(sort: str | None, default_field: str, default_desc: bool = False) -> tuple[str, bool]:
    """Return ``(field, descending)`` of a ``sort`` parameter (``field``, ``field,asc|desc``, or ``asc``/``desc``).

    :param sort: the ``sort`` query parameter
    :param default_field: field used when ``sort`` names none
    :param default_desc: direction used when ``sort`` names none
    :raises ApiError: 400 for an unknown direction
    """
    field, desc = default_field, default_desc
    if sort:
        head, _, tail = sort.partition(",")
        if head.strip().lower() in ("asc", "desc") and not tail:
            desc = head.strip().lower() == "desc"
        else:
            field = head.strip() or default_field
            direction = tail.strip().lower() or "asc"
            if direction not in ("asc", "desc"):
                raise ApiError(400, f"sort direction must be asc or desc, got {tail!r}")
            desc = direction == "desc"
    return field, desc


def sort_items(
    items: list[dict[str, Any]], sort: str | None, default_field: str, default_desc: bool = False
) -> list[dict[str, Any]]:
    """Sort resources by ``sort`` (:func:`parse_sort`).

    :param items: resources
    :param sort: the ``sort`` query parameter
    :param default_field: field used when ``sort`` names none
    :param default_desc: direction used when ``sort`` names none
    :raises ApiError: 400 for an unknown direction
    """
    field, desc = parse_sort(sort, default_field, default_desc)

    def key(item: dict[str, Any]) -> tuple[int, Any]:
        value = item.get(field)
        if value is None:
            return (0, 0)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (1, value)
        return (2, value if isinstance(value, str) else json.dumps(value, sort_keys=True))

    return sorted(items, key=key, reverse=desc)


def spring_page(
    request: Request,
    items: list[dict[str, Any]],
    page: int,
    size: int,
    embedded_key: str,
    render: Render = lambda request, item: item,
) -> dict[str, Any]:
    """Cut one page out of ``items`` and wrap it in the Spring HATEOAS body.

    :param request: the request (links keep its other query parameters)
    :param items: all matching resources, already sorted
    :param page: 0-based page number
    :param size: page size
    :param embedded_key: key under ``_embedded``, e.g. ``assets``
    :param render: ``(request, stored resource) -> wire form``, as the routes render one resource
    """
    total = len(items)
    total_pages = (total + size - 1) // size
    chunk = items[page * size : (page + 1) * size]
    body: dict[str, Any] = {}
    if chunk:
        body["_embedded"] = {embedded_key: [render(request, i) for i in chunk]}
    links = {"self": {"href": url_with(request, page=page, size=size)}}
    if total_pages > 1:
        links["first"] = {"href": url_with(request, page=0, size=size)}
    if 0 < page <= total_pages:
        links["prev"] = {"href": url_with(request, page=page - 1, size=size)}
    if page + 1 < total_pages:
        links["next"] = {"href": url_with(request, page=page + 1, size=size)}
    if total_pages > 1:
        links["last"] = {"href": url_with(request, page=total_pages - 1, size=size)}
    body["page"] = {"size": size, "totalElements": total, "totalPages": total_pages, "number": page}
    body["_links"] = links
    return body


def filtered_page(
    request: Request,
    embedded_key: str,
    default_size: int,
    source: Callable[[], Iterable[dict[str, Any]]],
    *,
    max_size: int = MAX_PAGE_SIZE,
    special: dict[str, Special] | None = None,
    render: Render = lambda request, item: item,
    sort_by_default: bool = True,
) -> dict[str, Any]:
    """Answer a listing: read paging, apply ``filter``, sort (by ``name`` by default) and cut a page.

    Paging and filter are checked before ``source`` runs, so their 400s come before its 404.

    :param request: the request
    :param embedded_key: key under ``_embedded``
    :param default_size: ``size`` when absent
    :param source: returns every resource of the listing
    :param max_size: largest ``size`` allowed
    :param special: extra filter operators (see :func:`~.filters.compile_filter`)
    :param render: ``(request, stored resource) -> wire form``, as the routes render one resource
    :param sort_by_default: ``False`` keeps the stored order unless ``sort`` is given
    """
    page, size = page_params(request, default_size, max_size)
    predicate, _ = compile_filter(request.query_params.get("filter"), special)
    items = [i for i in source() if predicate(i)]
    sort = request.query_params.get("sort")
    if sort or sort_by_default:
        items = sort_items(items, sort, "name")
    return spring_page(request, items, page, size, embedded_key, render)
