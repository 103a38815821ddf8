"""The base of every service client: the transport its calls go through."""

from __future__ import annotations

from collections.abc import Mapping

from airflow_provider_mdsp.client.transport import Transport
from airflow_provider_mdsp.exceptions import MdspNotFoundError


class ApiClient:
    """A client of one Insights Hub service; all service clients share the one transport they are given.

    :param transport: the transport to the gateway (session, token, retries, deadlines).
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def _delete(self, path: str, *, missing_ok: bool, headers: Mapping[str, str] | None = None) -> bool:
        """DELETE ``path``; return ``True`` when this call deleted it, ``False`` when it was already gone.

        :param path: the resource's path.
        :param missing_ok: a resource that is not there (404) counts as deleted, so a retried or
            repeated delete (its first answer lost, or a re-run) converges instead of failing.
        :param headers: extra headers, e.g. ``If-Match``.
        :raises MdspNotFoundError: a 404 without ``missing_ok``.
        """
        try:
            self.transport.request("DELETE", path, headers=headers).close()
        except MdspNotFoundError:
            if not missing_ok:
                raise
            return False
        return True
