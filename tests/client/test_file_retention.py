"""Retention clean-up of IoT files: the exact search and DELETE requests, and convergence on retries."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_mdsp.client import file_retention
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspNotFoundError

from .conftest import GATEWAY, query

ENTITY = "a" * 32
SEARCH = f"{GATEWAY}/api/iotfile/v3/files/{ENTITY}"
CUTOFF = datetime(2026, 9, 1, tzinfo=timezone.utc)
OLD, NEW = "2026-05-01T00:00:00.000Z", "2026-10-01T00:00:00.000Z"


def meta(path: str, name: str, updated: str = OLD, etag: int = 0) -> dict:
    return {"path": path, "name": name, "updated": updated, "etag": etag, "size": 1}


def file_url(path: str) -> str:
    return f"{SEARCH}/{path}"


def test_the_search_asks_for_the_folder_name_and_cut_off_oldest_first_then_deletes_each_file(client, requests_mock):
    search = requests_mock.get(
        SEARCH, [{"json": [meta("logs/", "a.csv"), meta("logs/2024/", "b.csv")], "headers": {"X-Total-Count": "2"}}]
    )
    deletes = [requests_mock.delete(file_url(p), status_code=204) for p in ("logs/a.csv", "logs/2024/b.csv")]

    result = client.files.delete_older_files(
        ENTITY, before=CUTOFF, folder="/logs/", name="*.csv", verify_unchanged=False
    )

    assert query(search.request_history[0]) == {
        "filter": "name eq '*.csv' and path eq 'logs/*' and updated lt '2026-09-01T00:00:00.000Z'",
        "order": "updated asc",
        "offset": "0",
        "limit": "200",
        "count": "true",
    }
    assert [d.call_count for d in deletes] == [1, 1]
    assert all("If-Match" not in d.last_request.headers for d in deletes)  # the service takes none
    assert result == {
        "entityId": ENTITY,
        "folder": "logs/",
        "name": "*.csv",
        "updated_before": "2026-09-01T00:00:00.000Z",
        "matched": 2,
        "more": False,
        "dry_run": False,
        "deleted": 2,
        "already_gone": 0,
        "kept_changed": 0,
        "paths": ["logs/a.csv", "logs/2024/b.csv"],
    }


def test_files_the_service_returned_despite_the_filter_are_not_deleted(client, requests_mock):
    # The service ignores a filter it cannot read and answers every file (Siemens docs, IoT File filtering).
    everything = [
        meta("logs/", "a.csv"),
        meta("logs/", "new.csv", updated=NEW),
        meta("logs/", "c.txt"),
        meta("keep/", "d.csv"),
        meta("logsold/", "e.csv"),
    ]
    requests_mock.get(SEARCH, [{"json": everything, "headers": {"X-Total-Count": "5"}}])
    only = requests_mock.delete(file_url("logs/a.csv"), status_code=204)

    result = client.files.delete_older_files(ENTITY, before=CUTOFF, folder="logs", name="*.csv", verify_unchanged=False)

    assert result["paths"] == ["logs/a.csv"]
    assert only.call_count == 1
    assert [r.method for r in requests_mock.request_history].count("DELETE") == 1


def test_a_file_already_gone_counts_as_deleted(client, requests_mock):
    requests_mock.get(SEARCH, [{"json": [meta("", "a.csv"), meta("", "b.csv")]}, {"json": []}])
    requests_mock.delete(file_url("a.csv"), status_code=404, json={"id": "", "message": "not found"})
    requests_mock.delete(file_url("b.csv"), status_code=204)

    result = client.files.delete_older_files(ENTITY, before=CUTOFF, verify_unchanged=False)

    assert (result["deleted"], result["already_gone"], result["paths"]) == (1, 1, ["b.csv", "a.csv"])


def test_a_lost_delete_reply_is_resent_and_the_404_counts_as_deleted(client, requests_mock, sleeps):
    requests_mock.get(SEARCH, [{"json": [meta("", "a.csv")]}, {"json": []}])
    api = requests_mock.delete(
        file_url("a.csv"), [{"status_code": 504}, {"status_code": 404, "json": {"id": "", "message": "gone"}}]
    )

    result = client.files.delete_older_files(ENTITY, before=CUTOFF, verify_unchanged=False)

    assert api.call_count == 2
    assert (result["deleted"], result["already_gone"]) == (0, 1)


def test_delete_file_raises_for_a_missing_file_unless_missing_ok(client, requests_mock):
    requests_mock.delete(file_url("a.csv"), status_code=404, json={"id": "", "message": "not found"})
    with pytest.raises(MdspNotFoundError):
        client.files.delete_file(ENTITY, "a.csv")
    assert client.files.delete_file(ENTITY, "a.csv", missing_ok=True) is False


def test_verify_unchanged_keeps_a_file_written_since_the_search(client, requests_mock):
    requests_mock.get(
        SEARCH,
        [
            {"json": [meta("", "a.csv", etag=3), meta("", "b.csv", etag=1), meta("", "c.csv", etag=0)]},
            {"json": []},
            {"json": [meta("", "a.csv", updated=NEW, etag=4)]},  # a.csv was written again
            {"json": []},  # b.csv is gone already
            {"json": [meta("", "c.csv", etag=0)]},
        ],
    )
    c_delete = requests_mock.delete(file_url("c.csv"), status_code=204)
    a_delete = requests_mock.delete(file_url("a.csv"), status_code=204)

    result = client.files.delete_older_files(ENTITY, before=CUTOFF)

    assert (result["deleted"], result["already_gone"], result["kept_changed"]) == (1, 1, 1)
    assert result["paths"] == ["c.csv", "b.csv"]
    assert (a_delete.call_count, c_delete.call_count) == (0, 1)
    lookups = [query(r)["filter"] for r in requests_mock.request_history if r.method == "GET"][2:]
    assert lookups == ["name eq 'a.csv'", "name eq 'b.csv'", "name eq 'c.csv'"]


def test_at_most_max_files_are_deleted_and_more_says_the_rest_waits(client, requests_mock):
    files = [meta("", f"f{i}.csv") for i in range(3)]
    requests_mock.get(SEARCH, [{"json": files, "headers": {"X-Total-Count": "3"}}])
    for f in files:
        requests_mock.delete(file_url(f["name"]), status_code=204)

    result = client.files.delete_older_files(ENTITY, before=CUTOFF, max_files=2, verify_unchanged=False)

    assert (result["deleted"], result["more"], result["paths"]) == (2, True, ["f0.csv", "f1.csv"])


def test_a_preview_deletes_nothing(client, requests_mock):
    requests_mock.get(SEARCH, [{"json": [meta("", "a.csv")]}, {"json": []}])
    result = client.files.delete_older_files(ENTITY, before=CUTOFF, dry_run=True)
    assert (result["dry_run"], result["matched"], result["deleted"], result["paths"]) == (True, 1, 0, ["a.csv"])
    assert {r.method for r in requests_mock.request_history} == {"GET"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"folder": "it's"}, "folder"),
        ({"folder": "a//b"}, "folder"),
        ({"name": "x/*.csv"}, "name"),
        ({"max_files": 0}, "max_files"),
        ({"before": "2026-09-01"}, "updated_before"),
    ],
)
def test_bad_parameters_are_refused_before_any_request(client, requests_mock, kwargs, field):
    with pytest.raises(MdspConfigError) as caught:
        client.files.delete_older_files(ENTITY, **{"before": CUTOFF, **kwargs})
    assert caught.value.field == field
    assert requests_mock.request_history == []


def test_the_selection_matches_folder_name_and_time_locally():
    selection = file_retention.FileSelection("logs/", "r*.csv", CUTOFF)
    assert selection.matches(meta("logs/2024/", "run.csv"))
    assert not selection.matches(meta("logs/", "run.csv", updated=NEW))
    assert not selection.matches(meta("logs/", "run.txt"))
    assert not selection.matches(meta("blogs/", "run.csv"))
    assert not selection.matches(meta("logs/", "run.csv", updated="not a time"))


def test_a_search_past_the_offset_cap_ends_there_and_says_more_waits(client, requests_mock):
    # 20,000 recent files: none selected, and the search may only page to offset 10,000.
    def page(request, context):
        context.headers["X-Total-Count"] = "20000"
        return [meta("", f"n{request.qs['offset'][0]}-{i}.csv", updated=NEW) for i in range(200)]

    api = requests_mock.get(SEARCH, json=page)
    result = client.files.delete_older_files(ENTITY, before=CUTOFF)
    assert (result["matched"], result["more"]) == (0, True)
    assert int(query(api.last_request)["offset"]) == 10_000


def test_were_if_match_accepted_the_etag_found_is_sent_instead_of_a_second_lookup(client, requests_mock, monkeypatch):
    monkeypatch.setattr(file_retention, "DELETE_SENDS_IF_MATCH", True)
    requests_mock.get(SEARCH, [{"json": [meta("", "a.csv", etag=7)], "headers": {"X-Total-Count": "1"}}])
    api = requests_mock.delete(file_url("a.csv"), status_code=204)
    result = client.files.delete_older_files(ENTITY, before=CUTOFF)
    assert result["deleted"] == 1
    assert api.last_request.headers["If-Match"] == "7"
    assert [r.method for r in requests_mock.request_history].count("GET") == 1
