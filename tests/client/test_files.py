"""IoT File: single and multipart uploads read part by part, streamed downloads, search, delete."""

from __future__ import annotations

import io

import pytest
import requests

from airflow_provider_mdsp.client import files as fs
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspConnectionError, MdspServerError

from .conftest import GATEWAY, query

ENTITY = "a" * 32
URL = f"{GATEWAY}/api/iotfile/v3/files/{ENTITY}/reports/day%201.csv"
PART = fs.MIN_PART_SIZE


class RecordingReader(io.BytesIO):
    """A binary file that records how many bytes each read asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)


def test_a_small_file_goes_in_one_put_with_its_metadata(client, requests_mock):
    api = requests_mock.put(URL, status_code=201, headers={"ETag": '"0"'})
    result = client.files.put_file(
        ENTITY,
        "/reports/day 1.csv",
        b"a,b\n1,2\n",
        content_type="text/csv",
        description="daily",
        timestamp="2024-05-01T00:00:00Z",
    )
    assert result == {"entityId": ENTITY, "path": "reports/day 1.csv", "size": 8, "etag": "0", "parts": 1}
    sent = api.last_request
    assert sent.body == b"a,b\n1,2\n"
    assert sent.query == ""
    assert sent.headers["type"] == "text/csv"
    assert sent.headers["description"] == "daily"
    assert sent.headers["timestamp"] == "2024-05-01T00:00:00.000Z"
    assert sent.headers["Content-Type"] == "application/octet-stream"
    assert "If-Match" not in sent.headers


def test_an_update_sends_if_match(client, requests_mock):
    api = requests_mock.put(URL, headers={"ETag": "4"})
    assert client.files.put_file(ENTITY, "reports/day 1.csv", b"x", etag=3)["etag"] == "4"
    assert api.last_request.headers["If-Match"] == "3"


def test_a_file_of_exactly_one_part_is_a_single_put(client, requests_mock):
    api = requests_mock.put(URL, headers={"ETag": "0"})
    result = client.files.put_file(ENTITY, "reports/day 1.csv", io.BytesIO(b"x" * PART), part_size=PART)
    assert result["parts"] == 1
    assert api.call_count == 1


def test_a_large_file_object_is_uploaded_in_parts_read_one_at_a_time(client, requests_mock):
    data = bytes(range(256)) * ((2 * PART + 1000) // 256 + 1)
    source = RecordingReader(data)
    api = requests_mock.put(URL, headers={"ETag": "7"})
    result = client.files.put_file(ENTITY, "reports/day 1.csv", source, part_size=PART, etag="6")
    calls = [(query(r), r.body) for r in api.request_history]
    assert [q for q, _ in calls] == [
        {"upload": "start"},
        {"part": "1"},
        {"part": "2"},
        {"upload": "complete"},  # carries the last, short part (§0)
    ]
    parts = [body for _, body in calls[1:]]
    assert [len(p) for p in parts] == [PART, PART, len(data) - 2 * PART]
    assert b"".join(parts) == data
    assert all(r.headers["If-Match"] == "6" for r in api.request_history)
    # Never more than one part is asked of the stream at once.
    assert max(source.asked) <= PART
    assert result == {"entityId": ENTITY, "path": "reports/day 1.csv", "size": len(data), "etag": "7", "parts": 3}


def test_a_failed_part_aborts_the_upload(client, requests_mock, sleeps):
    def answer(request, context):
        context.status_code = 500 if request.qs.get("part") == ["2"] else 200
        return ""

    api = requests_mock.put(URL, text=answer)
    with pytest.raises(MdspServerError):
        client.files.put_file(ENTITY, "reports/day 1.csv", b"z" * (2 * PART + 1), part_size=PART)
    assert [query(r) for r in api.request_history][-1] == {"upload": "abort"}
    assert {"upload": "complete"} not in [query(r) for r in api.request_history]


def test_a_failed_abort_keeps_the_original_error(client, requests_mock):
    def answer(request, context):
        context.status_code = 500 if "complete" in request.url or "abort" in request.url else 200
        return ""

    requests_mock.put(URL, text=answer)
    with pytest.raises(MdspServerError) as err:
        client.files.put_file(ENTITY, "reports/day 1.csv", b"z" * (PART + 1), part_size=PART)
    assert "upload=complete" not in str(err.value)  # the URL in errors has no query string
    assert requests_mock.request_history[-1].qs == {"upload": ["abort"]}


def test_a_part_size_under_5_mb_is_refused(client, requests_mock):
    with pytest.raises(MdspConfigError) as err:
        client.files.put_file(ENTITY, "a.bin", b"x", part_size=PART - 1)
    assert err.value.field == "part_size"
    assert requests_mock.call_count == 0


def test_a_text_file_is_refused(client):
    with pytest.raises(MdspConfigError, match="rb"):
        client.files.put_file(ENTITY, "a.txt", io.StringIO("text"))


@pytest.mark.parametrize("bad", ["", "/", "a//b", None])
def test_bad_paths_are_refused(client, bad):
    with pytest.raises(MdspConfigError) as err:
        client.files.put_file(ENTITY, bad, b"x")
    assert err.value.field == "file_path"


def test_download_streams_chunks_into_the_destination(client, requests_mock, monkeypatch):
    monkeypatch.setattr(fs, "DOWNLOAD_CHUNK_SIZE", 1000)
    body = b"0123456789" * 1050
    api = requests_mock.get(URL, body=io.BytesIO(body))
    writes = []

    class Dest(io.BytesIO):
        def write(self, chunk):
            writes.append(len(chunk))
            return super().write(chunk)

    dest = Dest()
    assert client.files.download_file(ENTITY, "reports/day 1.csv", dest) == len(body)
    assert dest.getvalue() == body
    assert max(writes) <= 1000
    assert len(writes) >= 11
    assert api.last_request.stream is True
    assert api.last_request.headers["Accept"] == "*/*"


def test_a_connection_lost_mid_download_is_a_connection_error(client, requests_mock):
    class Broken(io.BytesIO):
        def read(self, *args, **kwargs):
            raise requests.exceptions.ChunkedEncodingError("connection broken")

    requests_mock.get(URL, body=Broken(b"x"))
    with pytest.raises(MdspConnectionError):
        client.files.download_file(ENTITY, "reports/day 1.csv", io.BytesIO())


@pytest.mark.parametrize(
    ("given", "header"), [((200, 600), "bytes=200-600"), ("0-9", "bytes=0-9"), ((5, None), "bytes=5-")]
)
def test_get_file_with_a_range(client, requests_mock, given, header):
    api = requests_mock.get(URL, content=b"part", status_code=206)
    assert client.files.get_file(ENTITY, "reports/day 1.csv", byte_range=given) == b"part"
    assert api.last_request.headers["Range"] == header


def test_search_pages_by_offset(client, requests_mock):
    api = requests_mock.get(
        f"{GATEWAY}/api/iotfile/v3/files/{ENTITY}", [{"json": [{"name": "a"}, {"name": "b"}]}, {"json": []}]
    )
    got = list(client.files.iter_files(ENTITY, filter="name eq *.csv", order="updated desc", limit=2))
    assert got == [{"name": "a"}, {"name": "b"}]
    assert query(api.request_history[0]) == {
        "filter": "name eq *.csv",
        "order": "updated desc",
        "offset": "0",
        "limit": "2",
        "count": "true",
    }


def test_delete_sends_no_if_match_the_service_would_ignore(client, requests_mock):
    api = requests_mock.delete(URL, status_code=204)
    client.files.delete_file(ENTITY, "reports/day 1.csv")
    assert "If-Match" not in api.last_request.headers
    with pytest.raises(TypeError):
        client.files.delete_file(ENTITY, "reports/day 1.csv", etag=2)  # type: ignore[call-arg]


def test_a_path_over_100_characters_is_refused_before_sending(client, requests_mock):
    api = requests_mock.put(f"{GATEWAY}/api/iotfile/v3/files/{ENTITY}/{'p' * 101}")
    with pytest.raises(MdspConfigError, match="at most 100") as err:
        client.files.put_file(ENTITY, "p" * 101, b"x")
    assert err.value.field == "file_path"
    assert not api.called
