"""Integrated Data Lake: exact requests (N:sdk/data-lake), and signed URLs called without the token."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
import requests

from airflow_provider_mdsp.exceptions import MdspConfigError, MdspForbiddenError, MdspResponseError

from .conftest import GATEWAY, query

DL = f"{GATEWAY}/api/datalake/v3"
SIGNED = "https://storage.example/bucket/exports/a%20b.json?X-Amz-Signature=secret-sig"


def test_an_upload_signs_the_path_and_puts_the_stream_without_the_bearer(client, requests_mock):
    sign = requests_mock.post(
        f"{DL}/generateUploadObjectUrls", json={"objectUrls": [{"path": "exports/a b.json", "signedUrl": SIGNED}]}
    )
    put = requests_mock.put(SIGNED, status_code=200)
    result = client.datalake.upload_object("/exports/a b.json", io.BytesIO(b"x" * 10), subtenant_id="sub1")
    assert result == {"path": "exports/a b.json", "bytes": 10}
    assert sign.last_request.json() == {"paths": [{"path": "exports/a%20b.json"}], "subtenantId": "sub1"}
    assert sign.last_request.headers["Authorization"] == "Bearer t1"
    assert "Authorization" not in put.last_request.headers


def test_a_download_streams_the_signed_url_into_the_handle(client, requests_mock):
    requests_mock.post(
        f"{DL}/generateDownloadObjectUrls", json={"objectUrls": [{"path": "e/x.bin", "signedUrl": SIGNED}]}
    )
    get = requests_mock.get(SIGNED, content=b"abc" * 1000)
    out = io.BytesIO()
    assert client.datalake.download_object("e/x.bin", out) == 3000
    assert out.getvalue() == b"abc" * 1000
    assert "Authorization" not in get.last_request.headers


def test_a_storage_refusal_is_typed_and_keeps_the_signature_out_of_the_message(client, requests_mock):
    requests_mock.post(
        f"{DL}/generateDownloadObjectUrls", json={"objectUrls": [{"path": "e/x.bin", "signedUrl": SIGNED}]}
    )
    expired = (  # S3's answer to an expired pre-signed URL
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired'
        " &amp; was refused</Message><X-Amz-Expires>3600</X-Amz-Expires><RequestId>4E8A1C</RequestId></Error>"
    )
    requests_mock.get(SIGNED, status_code=403, text=expired)
    with pytest.raises(MdspForbiddenError) as caught:
        client.datalake.download_object("e/x.bin", io.BytesIO())
    error = caught.value
    assert (error.code, error.request_id) == ("AccessDenied", "4E8A1C")
    assert error.message == "Request has expired & was refused"
    assert "secret-sig" not in str(error)


def test_an_answer_without_the_path_asked_for_is_a_response_error(client, requests_mock):
    requests_mock.post(f"{DL}/generateDownloadObjectUrls", json={"objectUrls": []})
    with pytest.raises(MdspResponseError, match="no signed URL"):
        client.datalake.download_object("e/x.bin", io.BytesIO())


def test_a_lost_connection_resends_a_seekable_upload_from_its_start(client, requests_mock):
    requests_mock.post(f"{DL}/generateUploadObjectUrls", json={"objectUrls": [{"path": "a.bin", "signedUrl": SIGNED}]})
    put = requests_mock.put(SIGNED, [{"exc": requests.exceptions.ConnectionError}, {"status_code": 200}])
    assert client.datalake.upload_object("a.bin", io.BytesIO(b"0123456789"))["bytes"] == 10
    assert put.call_count == 2


def test_metadata_and_folder_listing_requests(client, requests_mock):
    one = requests_mock.get(f"{DL}/objectMetadata/e/x.bin", json={"name": "x.bin", "size": 3})
    assert client.datalake.get_object_metadata("e/x.bin", subtenant_id="s")["size"] == 3
    assert query(one.last_request) == {"subtenantid": "s"}
    listing = requests_mock.get(
        f"{DL}/objectMetadata/e",
        [
            {"json": {"objectMetadata": [{"path": "e/1"}], "page": {"totalPages": 2}}},
            {"json": {"objectMetadata": [{"path": "e/2"}], "page": {"totalPages": 2}}},
        ],
    )
    assert [o["path"] for o in client.datalake.iter_objects("e", size=1)] == ["e/1", "e/2"]
    assert [query(r)["page"] for r in listing.request_history] == ["0", "1"]


def test_an_import_job_sends_the_documented_body_and_is_not_resent(client, requests_mock):
    api = requests_mock.post(f"{DL}/timeSeriesImportJobs", status_code=201, json={"id": "j1", "status": "PENDING"})
    job = client.datalake.create_import_job(
        "day-1",
        ["a1"],
        ["PumpData"],
        from_=datetime(2026, 5, 1, tzinfo=timezone.utc),
        to="2026-05-02T00:00:00Z",
        destination="/exports/day-1/",
        subtenant_id="sub1",
    )
    assert job["id"] == "j1"
    assert api.last_request.json() == {
        "name": "day-1",
        "assetIds": ["a1"],
        "aspectNames": ["PumpData"],
        "from": "2026-05-01T00:00:00.000Z",
        "to": "2026-05-02T00:00:00.000Z",
        "destination": "exports/day-1",
        "subtenantId": "sub1",
    }
    requests_mock.post(f"{DL}/timeSeriesImportJobs", exc=requests.exceptions.ReadTimeout)
    with pytest.raises(Exception):
        client.datalake.create_import_job("d", ["a"], ["p"], from_="2026-05-01T00:00:00Z", to="2026-05-02T00:00:00Z")
    assert requests_mock.call_count == 2  # one POST each: a create is never blindly resent


def test_an_import_job_needs_assets_and_aspects(client):
    with pytest.raises(MdspConfigError, match="asset_ids"):
        client.datalake.create_import_job("d", [], ["p"], from_="2026-05-01T00:00:00Z", to="2026-05-02T00:00:00Z")


def test_a_job_is_found_by_name_filtered_by_subtenant(client, requests_mock):
    api = requests_mock.get(
        f"{DL}/timeSeriesImportJobs",
        json={"timeSeriesImportJobs": [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}], "page": {"totalPages": 1}},
    )
    assert client.datalake.find_import_job("b", subtenant_id="s1")["id"] == "2"
    assert query(api.last_request)["filter"] == '{"subtenantId":"s1"}'
    assert client.datalake.find_import_job("c") is None


def test_details_and_delete_paths(client, requests_mock):
    details = requests_mock.get(f"{DL}/timeSeriesImportJobs/j%2F1/details", json={"progress": 100.0})
    delete = requests_mock.delete(f"{DL}/timeSeriesImportJobs/j%2F1", status_code=204)
    assert client.datalake.get_import_job_details("j/1")["progress"] == 100.0
    client.datalake.delete_import_job("j/1")
    assert details.called
    assert delete.called
