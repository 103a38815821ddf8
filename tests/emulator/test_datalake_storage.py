"""The Data Lake's pre-signed storage in the emulator: an object above the size limit is refused as S3 refuses it.

The limit (5 GB, MAX_OBJECT_BYTES) is shrunk to a few bytes where the storage route reads it.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
import requests

from airflow_provider_mdsp.emulator.services.datalake import storage_routes
from airflow_provider_mdsp.emulator.services.datalake.store import TENANT_OWNER, LakeStore

pytestmark = pytest.mark.integration

LAKE = "/api/datalake/v3"
LIMIT = 1024
CHUNK = 256


@pytest.fixture
def lake(monkeypatch, emu) -> Callable[[], LakeStore]:
    """Shrink the largest object to ``LIMIT`` bytes; return a function giving the demo tenant's store."""
    monkeypatch.setattr(storage_routes, "MAX_OBJECT_BYTES", LIMIT)
    seen = []
    real = storage_routes.emulator_state

    def spy(request):
        seen.append(real(request))
        return seen[-1]

    monkeypatch.setattr(storage_routes, "emulator_state", spy)
    return lambda: seen[-1].backend("demo").lake


def upload_url(emu, api, path: str) -> str:
    r = api.post(f"{emu.url}{LAKE}/generateUploadObjectUrls", json={"paths": [{"path": path}]}, timeout=10)
    assert r.status_code == 200, r.text
    url: str = r.json()["objectUrls"][0]["signedUrl"]
    return url


def chunks(size: int) -> Iterator[bytes]:
    """A body of ``size`` bytes without a length: ``requests`` sends it chunked, with no Content-Length."""
    for start in range(0, size, CHUNK):
        yield b"x" * min(CHUNK, size - start)


def s3_code(text: str) -> str | None:
    error = ElementTree.fromstring(text)  # noqa: S314 - the emulator's own answer
    assert error.tag == "Error"
    assert error.findtext("Message") == storage_routes.TOO_LARGE
    return error.findtext("Code")


def assert_nothing_left(emu, api, store: LakeStore, path: str) -> None:
    assert api.get(f"{emu.url}{LAKE}/objectMetadata/{path}", timeout=10).status_code == 404
    assert (TENANT_OWNER, path) not in store.objects
    assert not store.file(TENANT_OWNER, path).exists()
    assert list(store.root.rglob(".upload-*")) == []


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_an_object_of_exactly_the_limit_is_stored(emu, api, lake, streamed):
    path = f"limit/exact-{streamed}.bin"
    r = requests.put(upload_url(emu, api, path), data=chunks(LIMIT) if streamed else b"x" * LIMIT, timeout=10)
    assert r.status_code == 200, r.text
    assert lake().get(TENANT_OWNER, path).size == LIMIT


def test_a_declared_size_above_the_limit_is_refused_before_the_body_is_sent(emu, api, lake):
    path = "limit/declared.bin"
    url = urlsplit(upload_url(emu, api, path))
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.putrequest("PUT", f"{url.path}?{url.query}")
        conn.putheader("Content-Length", str(LIMIT + 1))
        conn.endheaders()  # no body: the answer must come from the declared size alone
        response = conn.getresponse()
        status, text = response.status, response.read().decode()
    finally:
        conn.close()
    assert status == 400
    assert s3_code(text) == "EntityTooLarge"
    assert_nothing_left(emu, api, lake(), path)


def test_a_streamed_body_that_passes_the_limit_is_refused_and_leaves_nothing(emu, api, lake):
    path = "limit/streamed.bin"
    r = requests.put(upload_url(emu, api, path), data=chunks(LIMIT + 1), timeout=10)
    assert "Content-Length" not in r.request.headers
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/xml")
    assert s3_code(r.text) == "EntityTooLarge"
    assert_nothing_left(emu, api, lake(), path)


def test_a_refused_replacement_keeps_the_object_it_would_have_replaced(emu, api, lake):
    path = "limit/kept.bin"
    assert requests.put(upload_url(emu, api, path), data=b"before", timeout=10).status_code == 200
    refused = requests.put(upload_url(emu, api, path), data=chunks(LIMIT + 1), timeout=10)
    assert refused.status_code == 400
    store = lake()
    assert store.get(TENANT_OWNER, path).size == len(b"before")
    assert store.file(TENANT_OWNER, path).read_bytes() == b"before"
    assert list(store.root.rglob(".upload-*")) == []
