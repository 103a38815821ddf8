"""Insights Hub REST client: transport, retries, paging and one client per service (no Airflow).

:class:`MdspClient` bundles one client per service over a single :class:`Transport`::

    client = MdspClient.create(ClientSettings("https://gateway.eu1.mindsphere.io"), token_provider)
    for record in client.timeseries.iter_timeseries(asset_id, "Vibration", from_=start, to=end):
        ...
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

import requests

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.client.aggregates import AggregatesClient
from airflow_provider_mdsp.client.asset_model import AssetModelClient
from airflow_provider_mdsp.client.assets import AssetsClient
from airflow_provider_mdsp.client.bulk import BulkClient
from airflow_provider_mdsp.client.datalake import DataLakeClient
from airflow_provider_mdsp.client.event_jobs import EventJobsClient
from airflow_provider_mdsp.client.events import EventsClient
from airflow_provider_mdsp.client.file_rules import FileDeleteRulesClient
from airflow_provider_mdsp.client.files import FilesClient
from airflow_provider_mdsp.client.identity import IdentityClient
from airflow_provider_mdsp.client.settings import ClientSettings
from airflow_provider_mdsp.client.tenants import TenantsClient
from airflow_provider_mdsp.client.timeseries import TimeSeriesClient
from airflow_provider_mdsp.client.transport import TokenSource, Transport

__all__ = [
    "AggregatesClient",
    "AssetModelClient",
    "AssetsClient",
    "BulkClient",
    "ClientSettings",
    "DataLakeClient",
    "EventJobsClient",
    "EventsClient",
    "FileDeleteRulesClient",
    "FilesClient",
    "IdentityClient",
    "MdspClient",
    "TenantsClient",
    "TimeSeriesClient",
    "TokenSource",
    "Transport",
]


class MdspClient:
    """One client per Insights Hub service, sharing one transport (session, token, retries).

    :param transport: the transport to the gateway.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.assets = AssetsClient(transport)
        self.timeseries = TimeSeriesClient(transport)
        self.aggregates = AggregatesClient(transport)
        self.events = EventsClient(transport)
        self.files = FilesClient(transport)
        self.file_rules = FileDeleteRulesClient(transport)
        self.bulk = BulkClient(transport)
        self.identity = IdentityClient(transport)
        self.asset_model = AssetModelClient(transport)
        self.datalake = DataLakeClient(transport)
        self.event_jobs = EventJobsClient(transport)
        self.tenants = TenantsClient(transport)

    @classmethod
    def create(
        cls,
        settings: ClientSettings,
        tokens: TokenSource,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = timeutil.sleep,
    ) -> MdspClient:
        """Build a client from settings and a token source.

        :param settings: gateway, timeouts, TLS, proxy and retry limits.
        :param tokens: where bearer tokens come from (e.g. ``auth.TokenProvider``).
        :param session: a ready ``requests.Session`` to share; by default one is built.
        :param sleep: the sleep used between retries; tests inject a recorder.
        """
        return cls(Transport(settings, tokens, session=session, sleep=sleep))

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send any API call through the transport (retries, token, typed errors); see :meth:`Transport.request`."""
        return self.transport.request(method, path, **kwargs)

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send any API call and return its JSON body; see :meth:`Transport.request_json`."""
        return self.transport.request_json(method, path, **kwargs)

    def close(self) -> None:
        """Close the pooled connections."""
        self.transport.close()

    def __enter__(self) -> MdspClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
