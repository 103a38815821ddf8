"""IoT File v4 delete rules: the exact requests of list, create, delete and ensure, and no rule twice."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.client import file_rules
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspConflictError

from .conftest import GATEWAY

ASSET = "b" * 32
RULES = f"{GATEWAY}/api/iotfile/v4/fileDeleteRules"


def rule(path: str = "/logs", days: int = 30, rule_id: str = "r1", state: str = "ACTIVE", asset: str = ASSET) -> dict:
    return {"id": rule_id, "assetId": asset, "path": path, "deleteAfterDays": days, "state": state}


def test_list_uses_the_published_path_with_its_trailing_slash(client, requests_mock):
    api = requests_mock.get(RULES + "/", json=[rule()])
    assert client.file_rules.list_rules() == [rule()]
    assert api.called


@pytest.mark.parametrize(
    "body",
    [[rule()], {"_embedded": {"fileDeleteRules": [rule()]}, "page": {}}, {"content": [rule()]}],
)
def test_list_reads_a_bare_array_or_a_page(client, requests_mock, body):
    requests_mock.get(RULES + "/", json=body)
    assert client.file_rules.list_rules() == [rule()]


def test_create_posts_an_array_with_the_folder_written_as_in_the_samples(client, requests_mock):
    api = requests_mock.post(RULES, status_code=201, json=[{**rule(), "created": "2026-11-30 00:00:00.0"}])
    created = client.file_rules.create_rules([{"assetId": ASSET, "path": "logs/", "deleteAfterDays": 30}])
    assert api.last_request.json() == [{"assetId": ASSET, "path": "/logs", "deleteAfterDays": 30}]
    assert created[0]["id"] == "r1"


def test_delete_addresses_the_rule_and_a_missing_one_counts_as_deleted(client, requests_mock):
    api = requests_mock.delete(RULES + "/r1", [{"status_code": 204}, {"status_code": 404, "json": {"message": "x"}}])
    assert client.file_rules.delete_rule("r1") is True
    assert client.file_rules.delete_rule("r1") is False
    assert api.call_count == 2


def test_ensure_creates_a_missing_rule_once(client, requests_mock):
    requests_mock.get(RULES + "/", json=[rule("/other", rule_id="r0")])
    post = requests_mock.post(RULES, status_code=201, json=[rule(days=90, rule_id="r2")])
    result = client.file_rules.ensure_rule(ASSET, "logs", 90)
    assert post.call_count == 1
    assert post.last_request.json() == [{"assetId": ASSET, "path": "/logs", "deleteAfterDays": 90}]
    assert (result["id"], result["action"], result["state"]) == ("r2", "created", "ACTIVE")


def test_ensure_leaves_an_equal_rule_alone(client, requests_mock):
    requests_mock.get(RULES + "/", json=[rule("/logs/", days=90)])
    post = requests_mock.post(RULES, status_code=201, json=[])
    assert client.file_rules.ensure_rule(ASSET, "/logs", 90)["action"] == "unchanged"
    assert not post.called


def test_ensure_refuses_other_days_unless_replace_which_deletes_then_creates(client, requests_mock):
    requests_mock.get(RULES + "/", json=[rule(days=30)])
    post = requests_mock.post(RULES, status_code=201, json=[rule(days=60, rule_id="r2")])
    delete = requests_mock.delete(RULES + "/r1", status_code=204)
    with pytest.raises(MdspConfigError) as caught:
        client.file_rules.ensure_rule(ASSET, "logs", 60)
    assert caught.value.field == "delete_after_days"
    assert not post.called
    assert not delete.called
    result = client.file_rules.ensure_rule(ASSET, "logs", 60, replace=True)
    assert (result["action"], result["id"]) == ("replaced", "r2")
    methods = [r.method for r in requests_mock.request_history]
    assert methods[-2:] == ["DELETE", "POST"]


def test_ensure_refuses_a_second_rule_in_one_folder_hierarchy(client, requests_mock):
    requests_mock.get(RULES + "/", json=[rule("/logs")])
    post = requests_mock.post(RULES, status_code=201, json=[])
    with pytest.raises(MdspConfigError, match="one rule per hierarchy"):
        client.file_rules.ensure_rule(ASSET, "logs/2024", 30)
    assert not post.called


def test_rules_marked_for_delete_or_of_other_assets_do_not_count(client, requests_mock):
    requests_mock.get(RULES + "/", json=[rule(state="MARKED_FOR_DELETE"), rule(asset="c" * 32, rule_id="r9")])
    requests_mock.post(RULES, status_code=201, json=[rule(rule_id="r2")])
    assert client.file_rules.ensure_rule(ASSET, "logs", 30)["action"] == "created"


def test_a_create_whose_reply_was_lost_is_found_not_repeated(client, requests_mock):
    requests_mock.get(RULES + "/", [{"json": []}, {"json": [rule(days=45, rule_id="r7")]}])
    post = requests_mock.post(RULES, status_code=504)
    result = client.file_rules.ensure_rule(ASSET, "logs", 45)
    assert post.call_count == 1  # a POST is not resent after it may have reached the service
    assert (result["id"], result["action"]) == ("r7", "created")


def test_a_conflict_that_is_not_our_rule_is_raised(client, requests_mock):
    requests_mock.get(RULES + "/", json=[])
    requests_mock.post(RULES, status_code=409, json={"id": "", "message": "Only one rule per folder hierarchy"})
    with pytest.raises(MdspConflictError):
        client.file_rules.ensure_rule(ASSET, "logs", 45)


@pytest.mark.parametrize("days", [29, 366, 30.5, True, "30", None])
def test_days_outside_30_to_365_are_refused_before_any_request(client, requests_mock, days):
    with pytest.raises(MdspConfigError) as caught:
        client.file_rules.ensure_rule(ASSET, "logs", days)  # type: ignore[arg-type]
    assert caught.value.field == "delete_after_days"
    assert requests_mock.request_history == []


def test_ensure_no_rule_deletes_the_rule_on_the_folder_once(client, requests_mock):
    requests_mock.get(RULES + "/", [{"json": [rule()]}, {"json": []}])
    delete = requests_mock.delete(RULES + "/r1", status_code=204)
    assert client.file_rules.ensure_no_rule(ASSET, "logs")["action"] == "deleted"
    assert client.file_rules.ensure_no_rule(ASSET, "logs")["action"] == "absent"
    assert delete.call_count == 1


def test_rule_paths_and_hierarchies():
    assert file_rules.rule_path(None) == "/"
    assert file_rules.rule_path("a/b/") == "/a/b"
    assert file_rules.overlaps("/a", "/a/b")
    assert file_rules.overlaps("/", "/x")
    assert not file_rules.overlaps("/a", "/ab")
