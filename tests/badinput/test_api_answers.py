"""Answers a real gateway, proxy or broken network can give: each ends in a typed error or the documented behaviour."""

from __future__ import annotations

import io
import json

import pytest
from urllib3 import HTTPResponse

from airflow_provider_mdsp.exceptions import (
    BODY_EXCERPT_CHARS,
    MdspConnectionError,
    MdspResponseError,
    MdspServerError,
    MdspUnsafeLinkError,
)
from airflow_provider_mdsp.hooks.mdsp import MdspHook
from tests.badinput.conftest import GATEWAY, TS_PATH, TS_URL, assert_no_secret, records

WINDOW = {"from_": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}
PROXY_PAGE = "<!DOCTYPE html><html><head><title>Access denied</title></head><body>" + "Blocked by policy. " * 2000


def read_all(conn: str) -> list[dict]:
    hook = MdspHook(conn)
    return [r for page in hook.client.timeseries.iter_timeseries_pages("asset1", "Vibration", **WINDOW) for r in page]


def link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="next"'}


def truncated(body: bytes, promised: int = 4096) -> HTTPResponse:
    """A response whose connection closes before the promised Content-Length arrives."""
    return HTTPResponse(
        body=io.BytesIO(body),
        headers={"Content-Length": str(promised), "Content-Type": "application/json"},
        status=200,
        preload_content=False,
        enforce_content_length=True,
    )


def test_a_body_that_is_not_json_is_a_response_error_naming_the_call(conn, token, requests_mock):
    requests_mock.get(TS_URL, text="OK", headers={"Content-Type": "application/json"})
    with pytest.raises(MdspResponseError, match="not valid JSON") as err:
        read_all(conn)
    assert TS_PATH in str(err.value)
    assert "from=" not in str(err.value), "no query string in the message"
    assert err.value.status == 200
    assert err.value.body_excerpt == "OK"


def test_an_html_page_from_a_proxy_says_so_and_points_at_host_and_proxy(conn, token, requests_mock):
    requests_mock.get(TS_URL, text=PROXY_PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
    with pytest.raises(MdspResponseError, match="HTML page") as err:
        read_all(conn)
    assert "'host'" in str(err.value)
    assert "'proxy'" in str(err.value)
    assert len(err.value.body_excerpt) <= BODY_EXCERPT_CHARS + 1


def test_an_html_error_page_from_a_proxy_is_a_short_server_error_after_the_retries(conn, token, requests_mock):
    api = requests_mock.get(
        TS_URL, status_code=502, reason="Bad Gateway", text=PROXY_PAGE, headers={"Content-Type": "text/html"}
    )
    with pytest.raises(MdspServerError) as err:
        read_all(conn)
    assert api.call_count == 3, "first attempt plus max_retries=2"
    assert err.value.status == 502
    assert "Bad Gateway" in str(err.value)
    assert len(str(err.value)) < 300, "a proxy's page does not flood the task log"
    assert len(err.value.body_excerpt) <= BODY_EXCERPT_CHARS + 1


def test_a_truncated_json_body_is_a_response_error(conn, token, requests_mock):
    requests_mock.get(TS_URL, text=json.dumps(records(0, 50))[:700], headers={"Content-Type": "application/json"})
    with pytest.raises(MdspResponseError, match="truncated"):
        read_all(conn)


def test_a_connection_cut_mid_body_is_retried_then_a_connection_error_naming_the_host(conn, token, requests_mock):
    api = requests_mock.get(TS_URL, [{"raw": truncated(b'[{"_time":"2026-01-01T00:00:01Z"')} for _ in range(3)])
    with pytest.raises(MdspConnectionError) as err:
        read_all(conn)
    assert api.call_count == 3
    assert "gateway.eu1.mindsphere.io" in str(err.value)
    assert "mid-request" in str(err.value)
    assert err.value.request_sent is True


def test_a_read_recovers_when_a_cut_connection_is_followed_by_a_good_answer(conn, token, requests_mock):
    requests_mock.get(TS_URL, [{"raw": truncated(b"[{")}, {"json": records(0, 3)}])
    assert read_all(conn) == records(0, 3)


def test_a_huge_body_that_is_not_json_keeps_the_error_small(conn, token, requests_mock):
    huge = "x" * 20_000_000
    requests_mock.get(TS_URL, text=huge, headers={"Content-Type": "application/json"})
    with pytest.raises(MdspResponseError) as err:
        read_all(conn)
    assert len(str(err.value)) < 300
    assert len(err.value.body_excerpt) <= BODY_EXCERPT_CHARS + 1


def test_a_huge_error_body_keeps_the_error_small(conn, token, requests_mock):
    body = json.dumps({"id": "mdsp.core.generic.internalServerError", "message": "boom " * 3_000_000})
    requests_mock.get(TS_URL, status_code=500, text=body, headers={"Content-Type": "application/json"})
    with pytest.raises(MdspServerError) as err:
        read_all(conn)
    assert err.value.code == "mdsp.core.generic.internalServerError"
    assert len(err.value.body_excerpt) <= BODY_EXCERPT_CHARS + 1
    # The service's own message is kept, but its size is the service's; the excerpt is what is bounded.
    assert err.value.status == 500


@pytest.mark.parametrize(
    "empty", [{"json": []}, {"text": ""}, {"status_code": 204}], ids=["empty array", "empty body", "204"]
)
def test_an_empty_page_in_the_middle_does_not_end_the_read(conn, token, requests_mock, empty):
    page2, page3 = f"{TS_URL}?page=2", f"{TS_URL}?page=3"
    requests_mock.get(TS_URL, json=records(0, 2), headers=link(page2))
    requests_mock.get(page2, **empty, headers=link(page3))
    requests_mock.get(page3, json=records(2, 2))
    assert read_all(conn) == records(0, 4)


def test_an_empty_spring_page_in_the_middle_does_not_end_the_listing(conn, token, requests_mock):
    url = f"{GATEWAY}/api/assetmanagement/v3/assets"

    def page(number: int, items: list) -> dict:
        return {"_embedded": {"assets": items}, "page": {"number": number, "size": 2, "totalPages": 3}}

    requests_mock.get(
        url, [{"json": page(0, [{"assetId": "a"}])}, {"json": page(1, [])}, {"json": page(2, [{"assetId": "c"}])}]
    )
    assets = [a for p in MdspHook(conn).iter_pages("/api/assetmanagement/v3/assets") for a in p]
    assert assets == [{"assetId": "a"}, {"assetId": "c"}]


def test_a_next_link_to_another_host_is_refused_and_never_sent_the_token(conn, token, requests_mock):
    evil = requests_mock.get("https://collector.evil.example/api/x", json=[])
    requests_mock.get(TS_URL, json=records(0, 2), headers=link("https://collector.evil.example/api/x"))
    pages = MdspHook(conn).client.timeseries.iter_timeseries_pages("asset1", "Vibration", **WINDOW)
    assert next(pages) == records(0, 2), "pages before the bad link are delivered"
    with pytest.raises(MdspUnsafeLinkError, match=r"collector\.evil\.example") as err:
        next(pages)
    assert evil.call_count == 0
    assert_no_secret(str(err.value))


def test_a_next_link_on_the_gateway_over_plain_http_is_followed_over_https(conn, token, requests_mock):
    plain = requests_mock.get("http://gateway.eu1.mindsphere.io/api/next", json=[])
    requests_mock.get(TS_URL, json=records(0, 1), headers=link("http://gateway.eu1.mindsphere.io/api/next"))
    secure = requests_mock.get(f"{GATEWAY}/api/next", json=records(1, 1))
    assert read_all(conn) == records(0, 2)
    assert plain.call_count == 0
    assert secure.call_count == 1


def test_a_relative_next_link_is_followed_on_the_gateway(conn, token, requests_mock):
    requests_mock.get(TS_URL, json=records(0, 1), headers=link(f"{TS_PATH}?page=2"))
    requests_mock.get(f"{TS_URL}?page=2", json=records(1, 1))
    assert read_all(conn) == records(0, 2)


def test_a_next_link_that_repeats_a_page_stops_instead_of_looping(conn, token, requests_mock):
    again = f"{TS_URL}?page=2"
    requests_mock.get(TS_URL, json=records(0, 1), headers=link(again))
    requests_mock.get(again, json=records(1, 1), headers=link(again))
    with pytest.raises(MdspResponseError, match="repeats"):
        read_all(conn)


def test_an_object_where_a_page_of_records_belongs_is_a_response_error(conn, token, requests_mock):
    requests_mock.get(TS_URL, json={"records": records(0, 2)})
    with pytest.raises(MdspResponseError, match="JSON array"):
        read_all(conn)
