"""MdspClient: one transport shared by every service client."""

from __future__ import annotations

import requests

from airflow_provider_mdsp.client import (
    AggregatesClient,
    AssetsClient,
    BulkClient,
    ClientSettings,
    EventsClient,
    FilesClient,
    IdentityClient,
    MdspClient,
    TimeSeriesClient,
    Transport,
)

from .conftest import GATEWAY


def test_create_builds_one_transport_shared_by_all_services(tokens, sleeps, requests_mock):
    session = requests.Session()
    client = MdspClient.create(ClientSettings(GATEWAY), tokens, session=session, sleep=sleeps)
    assert isinstance(client.transport, Transport)
    assert client.transport.session is session
    services = {
        "assets": AssetsClient,
        "timeseries": TimeSeriesClient,
        "aggregates": AggregatesClient,
        "events": EventsClient,
        "files": FilesClient,
        "bulk": BulkClient,
        "identity": IdentityClient,
    }
    for name, cls in services.items():
        service = getattr(client, name)
        assert isinstance(service, cls)
        assert service.transport is client.transport


def test_request_and_request_json_go_through_the_transport(client, tokens, requests_mock):
    requests_mock.get(f"{GATEWAY}/api/x", json={"a": 1})
    assert client.request_json("GET", "/api/x", params={"q": "1"}) == {"a": 1}
    assert client.request("GET", "/api/x").status_code == 200
    assert tokens.asked == 2
    assert requests_mock.last_request.headers["Authorization"] == "Bearer t1"


def test_the_client_closes_its_session_as_a_context_manager(tokens):
    closed = []
    session = requests.Session()
    session.close = lambda: closed.append(True)  # type: ignore[method-assign]
    with MdspClient.create(ClientSettings(GATEWAY), tokens, session=session):
        pass
    assert closed == [True]
