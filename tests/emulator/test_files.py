"""IoT File v3 in the emulator: ETags, ranges, search paging, multipart uploads."""

from __future__ import annotations

import pytest

from .conftest import MIN_PART_BYTES

pytestmark = pytest.mark.integration

FILES = "/api/iotfile/v3/files"


def test_put_etag_counts_up_and_if_match_guards_updates(emu, api, ids):
    url = f"{emu.url}{FILES}/{ids['Pump-A1-2']}/notes/shift.txt"
    created = api.put(url, data=b"one", headers={"type": "text/plain", "description": "shift notes"}, timeout=10)
    assert created.status_code == 201
    assert created.headers["ETag"] == "0"
    assert api.put(url, data=b"two", timeout=10).status_code == 409  # exists, no If-Match
    assert api.put(url, data=b"two", headers={"If-Match": "3"}, timeout=10).status_code == 412
    updated = api.put(url, data=b"two", headers={"If-Match": "0"}, timeout=10)
    assert updated.status_code == 204  # §0: 201 on create, 204 on update
    assert updated.headers["ETag"] == "1"
    got = api.get(url, timeout=10)
    assert got.content == b"two"
    assert got.headers["Content-Type"].startswith("application/octet-stream")
    assert got.headers["ETag"] == "1"


def test_range_requests(emu, api, ids):
    url = f"{emu.url}{FILES}/{ids['Pump-A1-2']}/data/range.bin"
    api.put(url, data=bytes(range(256)) * 4, headers={"type": "application/octet-stream"}, timeout=10)
    part = api.get(url, headers={"Range": "bytes=200-299"}, timeout=10)
    assert part.status_code == 206
    assert part.content == (bytes(range(256)) * 4)[200:300]
    assert part.headers["Content-Range"] == "bytes 200-299/1024"
    assert api.get(url, headers={"Range": "bytes=-24"}, timeout=10).content == bytes(range(232, 256))
    assert api.get(url, headers={"Range": "bytes=5000-6000"}, timeout=10).status_code == 416


def test_search_filter_offset_paging_and_count(emu, api, ids):
    entity = ids["Line-A2"]
    for k in range(12):
        api.put(f"{emu.url}{FILES}/{entity}/logs/day-{k:02d}.txt", data=b"x" * k, timeout=10)
    api.put(f"{emu.url}{FILES}/{entity}/other/readme.md", data=b"y", timeout=10)
    seen, offset = [], 0
    while True:
        page = api.get(
            f"{emu.url}{FILES}/{entity}",
            params={"filter": "name eq day-*.txt and path eq logs/", "offset": offset, "limit": 5},
            timeout=10,
        ).json()
        assert isinstance(page, list)
        seen += page
        if len(page) < 5:
            break
        offset += 5
    assert [f["name"] for f in seen] == [f"day-{k:02d}.txt" for k in range(12)]
    assert {"name", "path", "type", "size", "timestamp", "created", "updated", "etag"} <= set(seen[0])
    counted = api.get(f"{emu.url}{FILES}/{entity}", params={"count": "true", "limit": 1}, timeout=10)
    assert counted.headers["X-Total-Count"] == "13"
    ordered = api.get(f"{emu.url}{FILES}/{entity}", params={"order": "name desc"}, timeout=10).json()
    assert ordered[0]["name"] == "readme.md"


def test_search_offset_is_capped_at_10000_and_limit_at_200(emu, api, ids):
    entity = ids["Line-A1"]
    for k in range(205):
        api.put(f"{emu.url}{FILES}/{entity}/many/f{k:03d}.txt", data=b"x", timeout=10)
    assert api.get(f"{emu.url}{FILES}/{entity}", params={"offset": 10_000}, timeout=10).status_code == 200
    refused = api.get(f"{emu.url}{FILES}/{entity}", params={"offset": 10_001}, timeout=10)
    assert refused.status_code == 400
    assert set(refused.json()) == {"id", "message"}
    page = api.get(f"{emu.url}{FILES}/{entity}", params={"limit": 500, "count": "true"}, timeout=10)
    assert len(page.json()) == 200  # the spec's cap, whatever the client asks for
    assert int(page.headers["X-Total-Count"]) >= 205


@pytest.mark.parametrize(
    "unreadable",
    [
        "size eq 3",  # not a searchable field
        "name  eq 'a.txt'",  # two blanks
        "name eq'a.txt'",  # no blank before the value
        "name eq 'a.txt' or path eq 'x/'",  # only 'and' combines terms
        "updated gt 'yesterday'",  # not a time
        "name eq a b.txt",  # a blank in an unquoted value
    ],
)
def test_a_filter_the_service_cannot_read_is_ignored_not_refused(emu, api, ids, unreadable):
    entity = ids["Line-A2"]
    for name in ("a.txt", "b.txt"):
        api.put(f"{emu.url}{FILES}/{entity}/quoted/{name}", data=b"a", timeout=10)
    everything = api.get(f"{emu.url}{FILES}/{entity}", timeout=10).json()
    ignored = api.get(f"{emu.url}{FILES}/{entity}", params={"filter": unreadable}, timeout=10)
    assert ignored.status_code == 200
    assert len(ignored.json()) == len(everything) > 1


def test_quoted_filter_values_match_names_with_blanks(emu, api, ids):
    entity = ids["Line-A2"]
    api.put(f"{emu.url}{FILES}/{entity}/quoted/day one.txt", data=b"a", timeout=10)
    found = api.get(
        f"{emu.url}{FILES}/{entity}", params={"filter": "name eq 'day one.txt' and path eq 'quoted/'"}, timeout=10
    ).json()
    assert [f["path"] + f["name"] for f in found] == ["quoted/day one.txt"]


def test_paths_longer_than_100_characters_are_refused(emu, api, ids):
    base = f"{emu.url}{FILES}/{ids['Pump-A1-2']}/"
    assert api.put(base + "p" * 100, data=b"x", timeout=10).status_code == 201
    too_long = api.put(base + "p" * 101, data=b"x", timeout=10)
    assert too_long.status_code == 400
    assert "at most 100" in too_long.json()["message"]
    assert api.put(base + "q" * 101, params={"upload": "start"}, timeout=10).status_code == 400


def test_delete_takes_no_if_match_so_a_stale_one_does_not_stop_it(emu, api, ids):
    url = f"{emu.url}{FILES}/{ids['Pump-A1-2']}/tmp/versioned.txt"
    api.put(url, data=b"v0", timeout=10)
    assert api.delete(url, headers={"If-Match": "99"}, timeout=10).status_code == 204
    assert api.get(url, timeout=10).status_code == 404


def test_delete_then_404_in_file_error_body(emu, api, ids):
    url = f"{emu.url}{FILES}/{ids['Pump-A1-2']}/tmp/gone.txt"
    api.put(url, data=b"bye", timeout=10)
    assert api.delete(url, timeout=10).status_code == 204
    missing = api.get(url, timeout=10)
    assert missing.status_code == 404
    assert set(missing.json()) == {"id", "message"}


def test_seeded_files(emu, api, ids):
    files = api.get(f"{emu.url}{FILES}/{ids['demo']}", timeout=10).json()
    assert {f["path"] + f["name"] for f in files} >= {"manuals/pump-manual.txt", "manuals/motor-manual.txt"}


def test_a_short_last_part_sent_as_part_n_is_refused_even_with_an_empty_complete(emu, api, ids):
    url = f"{emu.url}{FILES}/{ids['bench-motor']}/raw/short-last.bin"
    api.put(url, params={"upload": "start"}, timeout=10)
    assert api.put(url, params={"part": 1}, data=b"a" * MIN_PART_BYTES, timeout=10).status_code == 200
    assert api.put(url, params={"part": 2}, data=b"tail", timeout=10).status_code == 400
    # What the client did before: the short part as ?part=N, then an empty complete.
    incomplete = api.put(url, params={"upload": "complete"}, timeout=10)
    assert incomplete.status_code == 201
    assert api.get(url, timeout=10).content == b"a" * MIN_PART_BYTES  # the tail never arrived


def test_multipart_upload(emu, api, ids):
    url = f"{emu.url}{FILES}/{ids['bench-motor']}/raw/big.bin"
    part1, part2, last = b"a" * MIN_PART_BYTES, b"b" * MIN_PART_BYTES, b"c" * 10
    assert api.put(url, params={"upload": "start"}, timeout=10).status_code == 200
    api.put(url, params={"part": 1}, data=part1, timeout=10)
    api.put(url, params={"part": 2}, data=part2, timeout=10)
    parts = api.get(f"{emu.url}/api/iotfile/v3/fileslist/{ids['bench-motor']}/raw/big.bin", timeout=10).json()
    assert [p["partNo"] for p in parts] == [1, 2]
    assert {"objectKey", "partNo", "created"} == set(parts[0])
    done = api.put(
        url, params={"upload": "complete"}, data=last, headers={"type": "application/octet-stream"}, timeout=10
    )
    assert done.status_code == 201
    assert api.get(url, timeout=10).content == part1 + part2 + last


def test_multipart_rules_and_abort(emu, api, ids):
    url = f"{emu.url}{FILES}/{ids['bench-motor']}/raw/small.bin"
    api.put(url, params={"upload": "start"}, timeout=10)
    tiny = api.put(url, params={"part": 1}, data=b"tiny", timeout=10)
    assert tiny.status_code == 400  # below the minimum part size
    assert "upload=complete" in tiny.json()["message"]
    assert api.put(url, params={"upload": "abort"}, timeout=10).status_code == 200
    assert api.put(url, params={"part": 3}, data=b"x", timeout=10).status_code == 404
