"""Outputs on S3 (moto's server on loopback): straight to the final key, no copy, nothing orphaned.

Needs ``moto[server]``, ``s3fs`` and the Amazon provider (the cluster environment of
``scripts/cluster_test.py`` has them); skipped without them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

pytest.importorskip("moto")
pytest.importorskip("s3fs")
pytest.importorskip("airflow.providers.amazon")

from airflow_provider_mdsp.operators import storage
from airflow_provider_mdsp.operators.output import deliver_records
from tests.helpers.mock_gateway import TrackedPages, records

BUCKET = "mdsp-out"


class CountingApp:
    """WSGI middleware remembering each request as ``(method, path, query, copy source)``."""

    def __init__(self, app) -> None:
        self.app = app
        self.requests: list[tuple[str, str, str, str]] = []

    def __call__(self, environ, start_response):
        self.requests.append(
            (
                environ["REQUEST_METHOD"],
                environ.get("PATH_INFO", ""),
                environ.get("QUERY_STRING", ""),
                environ.get("HTTP_X_AMZ_COPY_SOURCE", ""),
            )
        )
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def s3_server() -> Iterator[tuple[str, CountingApp]]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    app = CountingApp(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", app
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def s3(s3_server, monkeypatch):
    """A fresh bucket, the ``aws_default`` connection pointing at it, and a boto3 client to inspect it."""
    import boto3
    from airflow.sdk.io import store

    url, app = s3_server
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": url, "region_name": "us-east-1"},
            }
        ),
    )
    store._STORE_CACHE.clear()  # filesystems are cached per connection; this one points at a new bucket
    client = boto3.client(
        "s3", endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []) if _exists(client) else []:
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    if not _exists(client):
        client.create_bucket(Bucket=BUCKET)
    app.requests.clear()
    return client, app


def _exists(client) -> bool:
    return any(b["Name"] == BUCKET for b in client.list_buckets().get("Buckets", []))


def keys(client) -> list[str]:
    return sorted(obj["Key"] for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def uploads(client) -> list[str]:
    return [u["Key"] for u in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]


def test_an_output_goes_straight_to_its_key_in_two_requests_without_a_copy(s3):
    client, app = s3
    result = deliver_records(
        iter([records(3), records(2)]), output_path=f"s3://{BUCKET}/day/pump.jsonl", max_xcom_records=0
    )
    writes = [r for r in app.requests if r[1].startswith(f"/{BUCKET}")]

    assert result["path"] == f"s3://aws_default@{BUCKET}/day/pump.jsonl"
    assert keys(client) == ["day/pump.jsonl"]
    body = client.get_object(Bucket=BUCKET, Key="day/pump.jsonl")["Body"].read()
    assert result["bytes"] == len(body)
    assert len(body.splitlines()) == 5
    assert not any(copy for *_, copy in writes), "no server-side copy"
    assert [(method, query) for method, _, query, _ in writes] == [
        ("GET", "uploads&prefix=day%2Fpump.jsonl"),
        ("PUT", ""),
    ]


def test_a_failure_mid_upload_aborts_the_multipart_upload_and_leaves_no_object(s3, monkeypatch):
    client, app = s3
    monkeypatch.setattr(storage, "OBJECT_STORE_BLOCK_BYTES", 5 * 2**20)  # S3's smallest part
    big_page = records(40, pad="x" * 100_000)  # ~4 MB a page: a part is uploaded after the second
    pages = TrackedPages([big_page, big_page, big_page, big_page], fail_at=4)
    with pytest.raises(ConnectionError):
        deliver_records(pages, output_path=f"s3://{BUCKET}/big.jsonl", max_xcom_records=0)
    started = [(m, q) for m, _, q, _ in app.requests if q == "uploads"]
    assert started == [("POST", "uploads")], "the writer had started a multipart upload"
    assert any(m == "DELETE" and q.startswith("uploadId=") for m, _, q, _ in app.requests), "and aborted it"
    assert keys(client) == []
    assert uploads(client) == []


def test_the_next_writer_aborts_the_upload_a_killed_writer_left(s3):
    client, _ = s3
    orphan = client.create_multipart_upload(Bucket=BUCKET, Key="day/pump.jsonl")
    client.upload_part(Bucket=BUCKET, Key="day/pump.jsonl", PartNumber=1, UploadId=orphan["UploadId"], Body=b"x" * 10)
    other = client.create_multipart_upload(Bucket=BUCKET, Key="day/pump.jsonl.other")
    assert sorted(uploads(client)) == ["day/pump.jsonl", "day/pump.jsonl.other"]

    deliver_records(iter([records(2)]), output_path=f"s3://{BUCKET}/day/pump.jsonl", max_xcom_records=0)

    assert uploads(client) == ["day/pump.jsonl.other"], "only the same key's upload is aborted"
    assert keys(client) == ["day/pump.jsonl"]
    client.abort_multipart_upload(Bucket=BUCKET, Key="day/pump.jsonl.other", UploadId=other["UploadId"])


def test_a_rewrite_that_fails_keeps_the_previous_object(s3):
    client, _ = s3
    client.put_object(Bucket=BUCKET, Key="pump.jsonl", Body=b'{"previous": true}\n')
    with pytest.raises(ConnectionError):
        deliver_records(
            TrackedPages([records(2), records(2)], fail_at=2),
            output_path=f"s3://{BUCKET}/pump.jsonl",
            max_xcom_records=0,
        )
    assert client.get_object(Bucket=BUCKET, Key="pump.jsonl")["Body"].read() == b'{"previous": true}\n'
    assert keys(client) == ["pump.jsonl"]
