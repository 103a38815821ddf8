"""Asset Management: paths, query, filters, ETag handling."""

from __future__ import annotations

import json

import pytest

from airflow_provider_mdsp.client.assets import asset_filter
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspConflictError, MdspNotFoundError

from .conftest import GATEWAY, query

AM = f"{GATEWAY}/api/assetmanagement/v3"
ASSET_ID = "a" * 32


def page(items, key="assets", total_pages=1):
    return {"_embedded": {key: items}, "page": {"number": 0, "size": 200, "totalPages": total_pages}}


def test_listing_assets_sends_filter_sort_size_and_flags(client, requests_mock):
    api = requests_mock.get(f"{AM}/assets", json=page([{"assetId": "x"}]))
    assets = list(
        client.assets.iter_assets(
            filter={"name": {"startsWith": "pump"}}, sort="name,asc", include_shared=True, basic_fields_only=False
        )
    )
    assert assets == [{"assetId": "x"}]
    q = query(api.last_request)
    assert json.loads(q["filter"]) == {"name": {"startsWith": "pump"}}
    assert q["sort"] == "name,asc"
    assert q["size"] == "200"
    assert q["page"] == "0"
    assert q["includeShared"] == "true"
    assert q["basicFieldsOnly"] == "false"
    # [ ] { } " must be percent-encoded for the RFC 3986-strict gateway.
    assert "{" not in api.last_request.url
    assert '"' not in api.last_request.url


def test_type_id_alone_becomes_a_type_filter(client, requests_mock):
    api = requests_mock.get(f"{AM}/assets", json={"page": {"totalPages": 0}})
    assert list(client.assets.iter_assets(type_id="acme.Pump")) == []
    assert json.loads(query(api.last_request)["filter"]) == {"typeId": "acme.Pump"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"name": "p1"}, {"and": {"typeId": "acme.Pump", "name": "p1"}}),
        ('{"and": {"name": "p1", "deleted": null}}', {"and": {"typeId": "acme.Pump", "name": "p1", "deleted": None}}),
        ({"or": {"name": "a"}}, {"and": {"typeId": "acme.Pump", "or": {"name": "a"}}}),
    ],
)
def test_type_id_is_and_combined_with_a_filter(given, expected):
    assert json.loads(asset_filter(given, "acme.Pump")) == expected


def test_type_id_in_both_places_is_refused():
    with pytest.raises(MdspConfigError) as err:
        asset_filter({"typeId": "x"}, "acme.Pump")
    assert err.value.field == "type_id"


def test_asset_ids_are_escaped_in_paths(client, requests_mock):
    api = requests_mock.get(f"{AM}/assets/a%2Fb%3Fc", json={"assetId": "a/b?c"})
    assert client.assets.get_asset("a/b?c") == {"assetId": "a/b?c"}
    assert api.called


def test_an_empty_asset_id_is_refused_before_any_call(client, requests_mock):
    with pytest.raises(MdspConfigError) as err:
        client.assets.get_asset(" ")
    assert err.value.field == "asset_id"
    assert requests_mock.call_count == 0


def test_root_asset_and_create(client, requests_mock):
    requests_mock.get(f"{AM}/assets/root", json={"assetId": "r"})
    created = requests_mock.post(f"{AM}/assets", status_code=201, json={"assetId": "n", "etag": "0"})
    assert client.assets.get_root_asset() == {"assetId": "r"}
    assert client.assets.create_asset({"name": "n", "typeId": "acme.Pump", "parentId": "r"})["assetId"] == "n"
    assert created.last_request.json() == {"name": "n", "typeId": "acme.Pump", "parentId": "r"}


def test_update_reads_the_etag_when_none_is_given(client, requests_mock):
    read = requests_mock.get(f"{AM}/assets/{ASSET_ID}", json={"assetId": ASSET_ID, "etag": "3"})
    put = requests_mock.put(f"{AM}/assets/{ASSET_ID}", json={"assetId": ASSET_ID, "etag": "4"})
    result = client.assets.update_asset(ASSET_ID, {"name": "new"})
    assert result["etag"] == "4"
    assert read.call_count == 1
    assert put.last_request.headers["If-Match"] == "3"
    assert put.last_request.json() == {"name": "new"}


def test_update_with_an_explicit_etag_sends_it_without_reading(client, requests_mock):
    put = requests_mock.put(f"{AM}/assets/{ASSET_ID}", json={})
    client.assets.update_asset(ASSET_ID, {"name": "new"}, etag=7)
    assert put.last_request.headers["If-Match"] == "7"
    assert requests_mock.call_count == 1


def test_a_conflict_after_an_auto_fetched_etag_is_retried_once_with_a_fresh_one(client, requests_mock):
    requests_mock.get(f"{AM}/assets/{ASSET_ID}", [{"json": {"etag": "3"}}, {"json": {"etag": "4"}}])
    put = requests_mock.put(
        f"{AM}/assets/{ASSET_ID}", [{"status_code": 412, "json": {"errors": [{"message": "stale"}]}}, {"json": {}}]
    )
    client.assets.update_asset(ASSET_ID, {"name": "new"})
    assert [r.headers["If-Match"] for r in put.request_history] == ["3", "4"]


def test_a_second_conflict_is_raised(client, requests_mock):
    requests_mock.get(f"{AM}/assets/{ASSET_ID}", json={"etag": "3"})
    put = requests_mock.put(f"{AM}/assets/{ASSET_ID}", status_code=409, json={"errors": [{"message": "busy"}]})
    with pytest.raises(MdspConflictError):
        client.assets.update_asset(ASSET_ID, {"name": "new"})
    assert put.call_count == 2


def test_a_conflict_with_an_explicit_etag_is_raised_at_once(client, requests_mock):
    put = requests_mock.put(f"{AM}/assets/{ASSET_ID}", status_code=412, json={"errors": [{"message": "stale"}]})
    with pytest.raises(MdspConflictError):
        client.assets.update_asset(ASSET_ID, {"name": "new"}, etag="2")
    assert put.call_count == 1


def test_patch_sends_a_merge_patch(client, requests_mock):
    requests_mock.get(f"{AM}/assets/{ASSET_ID}", json={"etag": "5"})
    patch = requests_mock.patch(f"{AM}/assets/{ASSET_ID}", json={"description": "d"})
    assert client.assets.patch_asset(ASSET_ID, {"description": "d"}) == {"description": "d"}
    sent = patch.last_request
    assert sent.headers["Content-Type"] == "application/merge-patch+json"
    assert sent.headers["If-Match"] == "5"
    assert json.loads(sent.body) == {"description": "d"}


def test_delete_sends_if_match(client, requests_mock):
    requests_mock.get(f"{AM}/assets/{ASSET_ID}", json={"etag": "9"})
    delete = requests_mock.delete(f"{AM}/assets/{ASSET_ID}", status_code=204)
    assert client.assets.delete_asset(ASSET_ID) is True
    assert delete.last_request.headers["If-Match"] == "9"


def test_a_delete_whose_first_answer_was_lost_converges_when_retried(client, requests_mock):
    requests_mock.get(f"{AM}/assets/{ASSET_ID}", json={"etag": "9"})
    gone = {"status_code": 404, "json": {"errors": [{"message": "no asset"}]}}
    delete = requests_mock.delete(f"{AM}/assets/{ASSET_ID}", [{"status_code": 503}, gone])
    assert client.assets.delete_asset(ASSET_ID) is False  # the retry found it gone: deleted all the same
    assert delete.call_count == 2


def test_deleting_an_asset_that_is_not_there_is_done_unless_asked_to_raise(client, requests_mock):
    gone = {"status_code": 404, "json": {"errors": [{"message": "no asset"}]}}
    requests_mock.get(f"{AM}/assets/{ASSET_ID}", **gone)
    delete = requests_mock.delete(f"{AM}/assets/{ASSET_ID}", **gone)
    assert client.assets.delete_asset(ASSET_ID) is False
    assert client.assets.delete_asset(ASSET_ID, etag=3) is False
    assert delete.call_count == 1  # the ETag read already found it gone
    with pytest.raises(MdspNotFoundError):
        client.assets.delete_asset(ASSET_ID, missing_ok=False)
    with pytest.raises(MdspNotFoundError):
        client.assets.delete_asset(ASSET_ID, etag=3, missing_ok=False)


def test_update_of_a_missing_asset_is_not_found(client, requests_mock):
    requests_mock.get(f"{AM}/assets/{ASSET_ID}", status_code=404, json={"errors": [{"message": "none"}]})
    with pytest.raises(MdspNotFoundError):
        client.assets.update_asset(ASSET_ID, {"name": "x"})


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("iter_asset_aspects", f"assets/{ASSET_ID}/aspects", "aspects"),
        ("iter_asset_variables", f"assets/{ASSET_ID}/variables", "variables"),
    ],
)
def test_aspects_and_variables_are_paged(client, requests_mock, method, path, key):
    api = requests_mock.get(f"{AM}/{path}", [{"json": page([1], key, 2)}, {"json": page([2], key, 2)}])
    assert list(getattr(client.assets, method)(ASSET_ID)) == [1, 2]
    assert api.call_count == 2


def test_types_are_listed_and_read(client, requests_mock):
    requests_mock.get(f"{AM}/assettypes", json=page([{"id": "acme.Pump"}], "assetTypes"))
    requests_mock.get(f"{AM}/aspecttypes", json=page([{"id": "acme.Vib"}], "aspectTypes"))
    requests_mock.get(f"{AM}/assettypes/acme.Pump", json={"id": "acme.Pump"})
    requests_mock.get(f"{AM}/aspecttypes/acme.Vib", json={"id": "acme.Vib"})
    assert list(client.assets.iter_asset_types(filter={"id": {"startsWith": "acme."}})) == [{"id": "acme.Pump"}]
    assert json.loads(query(requests_mock.request_history[0])["filter"]) == {"id": {"startsWith": "acme."}}
    assert list(client.assets.iter_aspect_types()) == [{"id": "acme.Vib"}]
    assert client.assets.get_asset_type("acme.Pump") == {"id": "acme.Pump"}
    assert client.assets.get_aspect_type("acme.Vib") == {"id": "acme.Vib"}
