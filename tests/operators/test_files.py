"""File operators: streamed uploads (multipart above the part size), atomic downloads, bounded search."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError, MdspServerError
from airflow_provider_mdsp.operators.files import (
    MdspDownloadFileOperator,
    MdspSearchFilesOperator,
    MdspUploadFileOperator,
    guess_content_type,
)
from tests.helpers.gateway import ASSET, FILES, connect, context, query

MIB = 1024 * 1024


@pytest.fixture
def gateway(mdsp_connection, requests_mock):
    return connect(mdsp_connection, requests_mock)


def test_upload_small_file_in_one_put_with_guessed_type(gateway, requests_mock, tmp_path):
    source = tmp_path / "day.csv"
    source.write_bytes(b"a,b\n1,2\n")
    put = requests_mock.put(f"{FILES}/{ASSET}/reports/day.csv", headers={"ETag": '"0"'})
    op = MdspUploadFileOperator(
        task_id="up", entity_id=ASSET, file_path="/reports/day.csv", local_path=str(source), description="daily"
    )
    assert op.execute(context()) == {"entityId": ASSET, "path": "reports/day.csv", "size": 8, "etag": "0", "parts": 1}
    assert put.last_request.body == b"a,b\n1,2\n"
    assert (put.last_request.headers["type"], put.last_request.headers["description"]) == ("text/csv", "daily")
    assert "If-Match" not in put.last_request.headers


def test_upload_takes_an_upstream_summary_and_its_asset_event_says_which_file_version(gateway, requests_mock, tmp_path):
    from tests.helpers.gateway import FakeOutletEvents

    source = tmp_path / "pump.jsonl"
    source.write_bytes(b'{"_time": "2026-01-01T00:00:00Z"}\n')
    requests_mock.put(f"{FILES}/{ASSET}/raw/pump.jsonl", headers={"ETag": '"4"'})
    read_summary = {
        "asset_id": ASSET,
        "aspect": "PumpData",
        "records": 1,
        "path": f"file://{source}",
        "format": "jsonl",
    }
    op = MdspUploadFileOperator(task_id="up", entity_id=ASSET, file_path="raw/pump.jsonl", source_path=read_summary)
    events = FakeOutletEvents()
    op.execute(context(outlet_events=events))
    [(_alias, uri, extra)] = events.added
    assert uri.endswith(f"/{ASSET}/files/raw/pump.jsonl")
    size = source.stat().st_size
    assert extra == {"entity_id": ASSET, "path": "raw/pump.jsonl", "etag": "4", "size": size, "records": 1}


def test_a_templated_upload_path_updates_one_folder_asset_and_its_events_name_each_file(
    gateway, requests_mock, tmp_path
):
    from tests.helpers.gateway import FakeOutletEvents

    source = tmp_path / "day.csv"
    source.write_bytes(b"a\n1\n")
    read = {"path": f"file://{source}", "records": 1, "first_time": "t1", "last_time": "t2", "from": "f", "to": "t"}
    events = FakeOutletEvents()
    for day in ("2026-05-01", "2026-05-02"):
        requests_mock.put(f"{FILES}/{ASSET}/reports/{day}.csv", headers={"ETag": '"0"'})
        op = MdspUploadFileOperator(task_id="up", entity_id=ASSET, file_path="reports/{{ ds }}.csv", source_path=read)
        op.file_path = f"reports/{day}.csv"  # as Airflow renders it
        op.execute(context(outlet_events=events))
    # One asset for every run (no Airflow asset per file), each event naming its file and data.
    folder = f"mdsp://gateway.eu1.mindsphere.io/{ASSET}/files/reports/*"
    assert {uri for _alias, uri, _extra in events.added} == {folder}
    paths = [extra["path"] for _alias, _uri, extra in events.added]
    assert paths == ["reports/2026-05-01.csv", "reports/2026-05-02.csv"]
    assert events.added[0][2] == {
        "entity_id": ASSET,
        "path": "reports/2026-05-01.csv",
        "etag": "0",
        "size": 4,
        "records": 1,
        "first_time": "t1",
        "last_time": "t2",
        "from": "f",
        "to": "t",
    }


class AssetEvents:
    """Stands in for ``context["outlet_events"]`` of declared assets (unhashable on Airflow 3.1): by URI."""

    def __init__(self):
        self.events = {}

    def __getitem__(self, asset):
        from types import SimpleNamespace

        return self.events.setdefault(asset.uri, SimpleNamespace(extra=None))


def test_an_upload_with_an_airflow_asset_declares_it_and_fills_its_event(gateway, requests_mock, tmp_path):
    from airflow.sdk import Asset

    source = tmp_path / "day.csv"
    source.write_bytes(b"a\n")
    requests_mock.put(f"{FILES}/{ASSET}/in/x-1.csv", headers={"ETag": '"7"'})
    readings = Asset("pump_readings")
    op = MdspUploadFileOperator(
        task_id="up",
        entity_id="{{ params.a }}",
        file_path="in/x-{{ ds }}.csv",
        local_path=str(source),
        airflow_asset=readings,
    )
    assert op.outlets == [readings]  # at parse time, no alias, although ids and path are templated
    by_name = MdspUploadFileOperator(
        task_id="up2", entity_id=ASSET, file_path="in/x.csv", local_path=str(source), airflow_asset="pump_readings"
    )
    assert by_name.outlets == [readings]
    op.entity_id, op.file_path = ASSET, "in/x-1.csv"
    events = AssetEvents()
    op.execute(context(outlet_events=events))
    assert events[readings].extra == {"entity_id": ASSET, "path": "in/x-1.csv", "etag": "7", "size": 2}
    with pytest.raises(MdspConfigError, match="airflow_asset") as refused:
        MdspUploadFileOperator(task_id="up3", entity_id=ASSET, file_path="x", local_path="x", airflow_asset="{{ x }}")
    assert refused.value.field == "airflow_asset"


def test_upload_above_the_part_size_goes_in_parts_from_any_storage_uri(gateway, requests_mock, tmp_path):
    source = tmp_path / "big.bin"
    source.write_bytes(b"x" * (5 * MIB) + b"tail")
    put = requests_mock.put(f"{FILES}/{ASSET}/raw/big.bin", headers={"ETag": "1"})
    op = MdspUploadFileOperator(
        task_id="up", entity_id=ASSET, file_path="raw/big.bin", source_path=f"file://{source}", part_size=5 * MIB
    )
    result = op.execute(context())
    assert (result["size"], result["parts"]) == (5 * MIB + 4, 2)
    steps = [query(r) for r in put.request_history]
    assert steps == [{"upload": "start"}, {"part": "1"}, {"upload": "complete"}]
    assert put.request_history[2].body == b"tail"
    assert put.last_request.headers["type"] == "application/octet-stream"


def test_upload_with_overwrite_sends_the_current_etag(gateway, requests_mock, tmp_path):
    source = tmp_path / "day.json"
    source.write_bytes(b"[]")
    search = requests_mock.get(
        f"{FILES}/{ASSET}",
        json=[
            {"name": "day.json", "path": "other/", "etag": 7},
            {"name": "day.json", "path": "reports/", "etag": 3},
        ],
    )
    put = requests_mock.put(f"{FILES}/{ASSET}/reports/day.json", headers={"ETag": "4"})
    op = MdspUploadFileOperator(
        task_id="up", entity_id=ASSET, file_path="reports/day.json", local_path=str(source), overwrite=True
    )
    assert op.execute(context())["etag"] == "4"
    assert query(search.last_request)["filter"] == "name eq 'day.json' and path eq 'reports/'"
    assert put.last_request.headers["If-Match"] == "3"
    assert put.last_request.headers["type"] == "application/json"


def test_upload_of_an_existing_file_without_overwrite_says_how_to_replace_it(gateway, requests_mock, tmp_path):
    source = tmp_path / "day.json"
    source.write_bytes(b"[]")
    requests_mock.put(f"{FILES}/{ASSET}/day.json", status_code=409, json={"id": "x", "message": "File exists"})
    other = {"name": "day.json", "path": "", "size": 7, "etag": 3}
    requests_mock.get(f"{FILES}/{ASSET}", [{"json": [other]}, {"json": []}])
    op = MdspUploadFileOperator(task_id="up", entity_id=ASSET, file_path="day.json", local_path=str(source))
    with pytest.raises(MdspConfigError, match="overwrite=True") as err:
        op.execute(context())
    assert err.value.field == "overwrite"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "local_path"),
        ({"local_path": "/a", "source_path": "file:///b"}, "local_path"),
        ({"local_path": "/does/not/exist.csv"}, "local_path"),
        ({"source_path": "file:///does/not/exist.csv"}, "source_path"),
    ],
)
def test_upload_source_mistakes_are_clear(gateway, requests_mock, kwargs, field):
    with pytest.raises(MdspConfigError) as err:
        MdspUploadFileOperator(task_id="up", entity_id=ASSET, file_path="x.csv", **kwargs).execute(context())
    assert err.value.field == field


def test_download_streams_into_place_atomically(gateway, requests_mock, tmp_path):
    requests_mock.get(f"{FILES}/{ASSET}/reports/day%201.csv", content=b"a,b\n" * 1000)
    target = tmp_path / "out" / "day.csv"
    op = MdspDownloadFileOperator(
        task_id="down", entity_id=ASSET, file_path="reports/day 1.csv", output_path=str(target)
    )
    assert op.execute(context()) == {"path": str(target), "bytes": 4000}
    assert target.read_bytes() == b"a,b\n" * 1000
    assert [p.name for p in target.parent.iterdir()] == ["day.csv"]


def test_a_failed_download_leaves_nothing_behind_and_keeps_an_old_file(gateway, requests_mock, tmp_path):
    requests_mock.get(f"{FILES}/{ASSET}/day.csv", status_code=500, json={"id": "x", "message": "boom"})
    target = tmp_path / "day.csv"
    target.write_bytes(b"yesterday")
    op = MdspDownloadFileOperator(task_id="down", entity_id=ASSET, file_path="day.csv", output_path=f"file://{target}")
    with pytest.raises(MdspServerError):
        op.execute(context())
    assert target.read_bytes() == b"yesterday"
    assert [p.name for p in tmp_path.iterdir()] == ["day.csv"]


def test_search_returns_a_bounded_list_or_writes_a_file(gateway, requests_mock, tmp_path):
    found = [{"name": f"f{i}.csv", "path": "r/", "updated": f"2024-05-0{i}T00:00:00.000Z"} for i in (1, 2)]
    api = requests_mock.get(f"{FILES}/{ASSET}", json=found, headers={"X-Total-Count": "2"})
    op = MdspSearchFilesOperator(task_id="s", entity_id=ASSET, filter="name eq f*.csv", order="updated desc")
    result = op.execute(context())
    assert result == {
        "records": 2,
        "first_time": "2024-05-01T00:00:00.000Z",
        "last_time": "2024-05-02T00:00:00.000Z",
        "data": found,
    }
    assert query(api.last_request) == {
        "filter": "name eq f*.csv",
        "order": "updated desc",
        "offset": "0",
        "limit": "200",
        "count": "true",
    }
    with pytest.raises(MdspConfigError) as err:
        MdspSearchFilesOperator(task_id="s", entity_id=ASSET, max_xcom_records=1).execute(context())
    assert err.value.field == "output_path"
    written = MdspSearchFilesOperator(task_id="s", entity_id=ASSET, output_path=str(tmp_path / "l.jsonl")).execute(
        context()
    )
    assert (written["records"], written["format"]) == (2, "jsonl")


def test_content_type_guess_falls_back_to_octet_stream():
    assert guess_content_type("a/b.unknownext", "c.txt") == "text/plain"
    assert guess_content_type(None, "x.json") == "application/json"
    assert guess_content_type("noext") == "application/octet-stream"
