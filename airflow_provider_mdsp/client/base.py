"""The base of every service client: the transport its calls go through."""

from __future__ import annotations

from airflow_provider_mdsp.client.transport import Transport


class ApiClient:
    """A client of one Insights Hub service; all service clients share the one transport they are given.

    :param transport: the transport to the gateway (session, token, retries, deadlines).
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
