"""The error tree: every error pickles whole, as Airflow and Celery send errors between processes."""

from __future__ import annotations

import json
import pickle

import pytest

from airflow_provider_mdsp import exceptions as ex

ERRORS = [
    ex.MdspError("plain"),
    ex.MdspConfigError("tenant is empty", field="tenant"),
    ex.MdspConnectionError("refused", request_sent=False),
    ex.MdspTimeoutError("read timeout"),
    ex.MdspResponseError("not JSON", status=200, body_excerpt="<html>"),
    ex.MdspAuthError("bad secret", status=401, code="invalid_client"),
    ex.MdspTokenExpiredError("expired"),
    ex.api_error(429, '{"id":"x","message":"slow down"}', {"Retry-After": "7"}, method="GET", url="https://g/x?a=1"),
    ex.api_error(503, "", {}, method="PUT", url="https://g/y", reason="Service Unavailable"),
    ex.MdspNotFoundError(404, "no asset", code="404", request_id="r-1"),
    ex.MdspPartialWriteError({"records": 3, "errors": [{"entityId": "a", "propertySetName": "p", "status": 400}]}),
    ex.MdspJobFailedError("job failed"),
    ex.MdspWaitTimeoutError("gave up"),
]


def round_trip(error: BaseException) -> BaseException:
    return pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, as a worker would get them


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_pickle_and_unpickle_whole(error):
    back = round_trip(error)
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert back.__dict__ == error.__dict__


def test_an_unpickled_api_error_still_decides_retries():
    back = round_trip(ERRORS[7])
    assert (back.status, back.retry_after, back.retryable, back.not_processed) == (429, 7.0, True, True)


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_cross_a_trigger_event_as_json_and_come_back_of_the_same_kind(error):
    record = json.loads(json.dumps(ex.error_record(error)))  # what the triggerer stores and the task reads
    back = ex.error_from_record(record)
    assert type(back) is type(error)
    assert str(back) == str(error)
    for name in ("field", "request_sent", "status", "code", "request_id", "method", "url", "retry_after"):
        assert getattr(back, name, None) == getattr(error, name, None), name
    assert "body_excerpt" not in json.dumps(record)


def test_a_record_of_no_known_kind_gives_no_error():
    assert ex.error_from_record(None) is None
    assert ex.error_from_record({"kind": "ValueError", "message": "x"}) is None
    assert ex.error_from_record({"kind": "RETRY_STATUSES", "message": "x"}) is None
    assert ex.error_from_record({"kind": "MdspNoSuchError", "message": "x"}) is None
