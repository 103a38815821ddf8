"""``MdspApiOperator``: call any Insights Hub endpoint the provider does not wrap yet."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.base import MdspBaseOperator, MdspReadOperator
from airflow_provider_mdsp.operators.output import OUTPUT_FORMATS, too_many_for_xcom
from airflow_provider_mdsp.params import PAGING_STYLES

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def check_call(method: str, paging: str | None, headers: Mapping[str, str] | None, output_format: str) -> str:
    """Check the operator's call arguments and return the upper-case method.

    :raises MdspConfigError: unknown method, paging style or output format; paging with a method
        other than GET, or with headers (pages are fetched by the hook, with its own headers).
    """
    verb = str(method).upper()
    if verb not in METHODS:
        raise MdspConfigError(f"method must be one of {', '.join(METHODS)}, not {method!r}", field="method")
    if output_format not in OUTPUT_FORMATS:
        raise MdspConfigError(
            f"output_format must be one of {', '.join(OUTPUT_FORMATS)}, not {output_format!r}", field="output_format"
        )
    if paging is None:
        return verb
    if paging not in PAGING_STYLES:
        raise MdspConfigError(
            f"paging must be one of {', '.join(PAGING_STYLES)} or None, not {paging!r}", field="paging"
        )
    if verb != "GET":
        raise MdspConfigError(f"paging works with GET only, not {verb}", field="paging")
    if headers:
        raise MdspConfigError("headers cannot be combined with paging; leave paging=None", field="headers")
    return verb


def body_pages(body: Any) -> Iterator[list[Any]]:
    """Present a JSON body as pages of records: a list is one page, anything else one record."""
    if body is None:
        return
    yield body if isinstance(body, list) else [body]


class MdspApiOperator(MdspReadOperator):
    """Call any Insights Hub endpoint, optionally following its paging, and return the result.

    Without ``paging`` the parsed JSON body is returned; a list body longer than
    ``max_xcom_records`` raises unless ``output_path`` is set, and with ``output_path`` the body is
    written there (a list as records, anything else as one record). With ``paging`` every page is
    streamed through the output policy of :func:`~airflow_provider_mdsp.operators.output.deliver_records`.

    ``params`` is reserved by Airflow for DAG params, so query parameters go in ``query``.

    Output: ``output_path`` (a file, written atomically; templated), ``output_format`` and
    ``max_xcom_records``, as :class:`~airflow_provider_mdsp.operators.base.MdspReadOperator` describes.

    :param endpoint: path under the gateway, e.g. ``/api/eventmanagement/v3/eventtypes``.
    :param method: HTTP method.
    :param query: query parameters.
    :param json: JSON body.
    :param headers: extra headers (not with ``paging``).
    :param paging: ``None``, ``spring``, ``link``, ``scim``, ``offset`` or ``next_record``.
    :param embedded_key: for ``spring`` paging, the key under ``_embedded``; defaults to the
        endpoint's last path segment.
    :param page_size: items per page, where the paging style has one.
    :param idempotent: whether a retry after the server may have acted is harmless (default: by
        method; POST is not retried once it may have been received).
    :param time_field: record key holding a time, for ``first_time``/``last_time`` in the summary.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "endpoint",
        "query",
        "json",
        "headers",
    )
    template_fields_renderers = {"json": "json", "query": "json", "headers": "json"}

    def __init__(
        self,
        *,
        endpoint: str,
        method: str = "GET",
        query: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        paging: str | None = None,
        embedded_key: str | None = None,
        page_size: int | None = None,
        idempotent: bool | None = None,
        time_field: str | None = "_time",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.method = check_call(method, paging, headers if isinstance(headers, Mapping) else None, self.output_format)
        self.endpoint = endpoint
        self.query = query
        self.json = json
        self.headers = headers
        self.paging = paging
        self.embedded_key = embedded_key
        self.page_size = page_size
        self.idempotent = idempotent
        self.time_field = time_field

    def execute(self, context: Any) -> Any:
        """Send the request (and follow pages) and return the body or an output summary."""
        check_call(self.method, self.paging, self.headers, self.output_format)
        if self.paging is not None:
            pages = self.hook.iter_pages(
                self.endpoint,
                paging=self.paging,
                params=self.query,
                embedded_key=self.embedded_key,
                page_size=self.page_size,
            )
            return self.deliver(pages, time_field=self.time_field, what="items")
        body = self.hook.request(
            self.method,
            self.endpoint,
            params=self.query,
            json=self.json,
            headers=self.headers,
            idempotent=self.idempotent,
        )
        if self.output_path:
            return self.deliver(body_pages(body), time_field=self.time_field, what="items")
        if isinstance(body, list) and len(body) > self.max_xcom_records:
            raise too_many_for_xcom(len(body), self.max_xcom_records, "items")
        return body
