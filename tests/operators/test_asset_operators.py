"""Asset Management operators: listing all pages with a small projection, reading, ETag-safe updates."""

from __future__ import annotations

import json

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError, MdspConflictError
from airflow_provider_mdsp.operators.assets import (
    MdspGetAssetOperator,
    MdspListAssetsOperator,
    MdspUpdateAssetOperator,
    asset_label,
    parse_fields,
    read_kwargs,
)
from tests.helpers.mock_gateway import AM, PUMP, PUMP2, api_calls, connect, query


@pytest.fixture
def gateway(mdsp_connection, requests_mock):
    return connect(mdsp_connection, requests_mock)


def asset(asset_id, name, etag=3):
    return {
        "assetId": asset_id,
        "name": name,
        "typeId": "acme.Pump",
        "parentId": "root",
        "etag": etag,
        "variables": [{"name": "serial", "value": "x" * 100}],
        "aspects": [{"name": "Vibration"}],
    }


def page(items, number, total):
    body = {"page": {"number": number, "size": 2, "totalPages": total}}
    if items:
        body["_embedded"] = {"assets": items}
    return body


def test_list_pages_to_the_end_with_the_filter_and_keeps_only_chosen_fields(gateway, requests_mock):
    requests_mock.get(
        f"{AM}/assets",
        [
            {"json": page([asset(PUMP, "pump-1"), asset(PUMP2, "pump-2")], 0, 2)},
            {"json": page([asset("c" * 32, "pump-3")], 1, 2)},
        ],
    )
    op = MdspListAssetsOperator(
        task_id="list",
        filter={"name": {"startsWith": "pump"}},
        type_id="acme.Pump",
        page_size=2,
        fields="assetId, name",
    )
    result = op.execute({})
    calls = api_calls(requests_mock)
    assert [query(c)["page"] for c in calls] == ["0", "1"]
    assert query(calls[0])["size"] == "2"
    assert json.loads(query(calls[0])["filter"]) == {"and": {"typeId": "acme.Pump", "name": {"startsWith": "pump"}}}
    assert result == {
        "records": 3,
        "data": [
            {"assetId": PUMP, "name": "pump-1"},
            {"assetId": PUMP2, "name": "pump-2"},
            {"assetId": "c" * 32, "name": "pump-3"},
        ],
    }


def test_list_with_no_match_is_empty(gateway, requests_mock):
    requests_mock.get(f"{AM}/assets", json=page([], 0, 0))
    assert MdspListAssetsOperator(task_id="list").execute({}) == {"records": 0, "data": []}


def test_list_into_a_file(gateway, requests_mock, tmp_path):
    requests_mock.get(f"{AM}/assets", json=page([asset(PUMP, "pump-1")], 0, 1))
    out = tmp_path / "assets.csv"
    result = MdspListAssetsOperator(
        task_id="list", fields=["assetId", "typeId"], output_path=str(out), output_format="csv"
    ).execute({})
    assert out.read_text().splitlines() == ["assetId,typeId", f"{PUMP},acme.Pump"]
    assert result["records"] == 1
    assert set(result) == {"path", "records", "format", "bytes"}


def test_empty_fields_are_refused():
    with pytest.raises(MdspConfigError) as err:
        parse_fields(" , ")
    assert err.value.field == "fields"


def test_get_asset_returns_it_with_its_etag(gateway, requests_mock):
    requests_mock.get(f"{AM}/assets/{PUMP}", json=asset(PUMP, "pump-1"))
    assert MdspGetAssetOperator(task_id="get", asset_id=PUMP).execute({})["etag"] == 3


def test_patch_reads_the_current_etag_and_sends_a_merge_patch(gateway, requests_mock):
    requests_mock.get(f"{AM}/assets/{PUMP}", json=asset(PUMP, "pump-1", etag=7))
    patch = requests_mock.patch(f"{AM}/assets/{PUMP}", json=asset(PUMP, "pump-one", etag=8))
    result = MdspUpdateAssetOperator(task_id="u", asset_id=PUMP, changes={"name": "pump-one"}).execute({})
    assert result == {"assetId": PUMP, "etag": "8", "name": "pump-one"}
    assert patch.last_request.headers["If-Match"] == "7"
    assert patch.last_request.headers["Content-Type"] == "application/merge-patch+json"
    assert json.loads(patch.last_request.body) == {"name": "pump-one"}


def test_put_with_a_pinned_etag_sends_it_and_a_conflict_fails(gateway, requests_mock):
    conflict = {"errors": [{"code": "mdsp.core.generic.conflict", "message": "etag mismatch"}]}
    put = requests_mock.put(f"{AM}/assets/{PUMP}", status_code=412, json=conflict)
    op = MdspUpdateAssetOperator(task_id="u", asset_id=PUMP, changes=asset(PUMP, "p"), etag="5", method="put")
    with pytest.raises(MdspConflictError):
        op.execute({})
    assert put.call_count == 1
    assert put.last_request.headers["If-Match"] == "5"


def test_update_method_and_changes_are_checked():
    with pytest.raises(MdspConfigError) as err:
        MdspUpdateAssetOperator(task_id="u", asset_id=PUMP, changes={}, method="post")
    assert err.value.field == "method"
    op = MdspUpdateAssetOperator(task_id="u2", asset_id=PUMP, changes="{'name': 'x'}")
    with pytest.raises(MdspConfigError, match="render_template_as_native_obj"):
        op.execute({})


def test_read_kwargs_turn_a_listed_asset_into_the_id_and_name_of_one_mapped_read():
    listed = {"assetId": PUMP, "name": "Pump-A1-1", "typeId": "demo.Pump"}
    assert read_kwargs(listed) == {"asset_id": PUMP, "asset_name": "Pump-A1-1"}
    assert read_kwargs({"assetId": PUMP}) == {"asset_id": PUMP, "asset_name": None}
    assert asset_label(PUMP, "Pump-A1-1") == f"Pump-A1-1 ({PUMP})"
    assert asset_label(PUMP) == PUMP


@pytest.mark.parametrize("bad", [PUMP, {"name": "Pump-A1-1"}, {"assetId": ""}])
def test_read_kwargs_refuse_what_is_not_a_listed_asset(bad):
    with pytest.raises(MdspConfigError, match="assetId") as raised:
        read_kwargs(bad)
    assert raised.value.field == "asset_id"
