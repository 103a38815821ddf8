"""Aggregates v4: the §5 rules are checked before sending; the aggregates list comes back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_mdsp.client.aggregates import validate_aggregate_request
from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.timeutil import utcnow

from .conftest import GATEWAY, query

PATH = f"{GATEWAY}/api/iottsaggregates/v4/aggregates"
T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


def span(**kwargs):
    return {"from_": T0, "to": T0 + timedelta(**kwargs)}


VALID = [
    ({**span(hours=24), "interval_value": 2, "interval_unit": "minute"}),
    ({**span(hours=1), "interval_value": 60, "interval_unit": "MINUTE"}),
    ({**span(days=7), "interval_value": 1, "interval_unit": "hour"}),
    ({**span(days=1), "interval_value": 24, "interval_unit": "hour"}),
    ({**span(days=90), "interval_value": 90, "interval_unit": "day"}),
    ({**span(days=90), "interval_value": "12", "interval_unit": "week"}),
    ({**span(days=90), "interval_value": 3, "interval_unit": "month"}),
    ({"from_": None, "to": None, "interval_value": None, "interval_unit": None}),
    ({"from_": T0, "to": None, "interval_value": 1, "interval_unit": "day"}),
    ({**span(days=400), "interval_value": None, "interval_unit": None}),
]

INVALID = [
    # (request, field at fault, words the message must contain)
    ({**span(hours=1), "interval_value": 1, "interval_unit": "second"}, "interval_unit", "minute|hour|day|week|month"),
    ({**span(hours=1), "interval_value": 3, "interval_unit": "minute"}, "interval_value", "2–60 and even"),
    ({**span(hours=1), "interval_value": 62, "interval_unit": "minute"}, "interval_value", "2–60"),
    ({**span(hours=1), "interval_value": 0, "interval_unit": "hour"}, "interval_value", "1–24"),
    ({**span(hours=1), "interval_value": 25, "interval_unit": "hour"}, "interval_value", "1–24"),
    ({**span(days=1), "interval_value": 91, "interval_unit": "day"}, "interval_value", "1–90"),
    ({**span(days=1), "interval_value": 13, "interval_unit": "week"}, "interval_value", "1–12"),
    ({**span(days=1), "interval_value": 4, "interval_unit": "month"}, "interval_value", "1–3"),
    ({**span(days=1), "interval_value": 1.5, "interval_unit": "day"}, "interval_value", "whole number"),
    ({**span(days=1), "interval_value": True, "interval_unit": "day"}, "interval_value", "whole number"),
    ({**span(hours=24, minutes=2), "interval_value": 2, "interval_unit": "minute"}, "to", "24 hours"),
    ({**span(days=7, hours=1), "interval_value": 1, "interval_unit": "hour"}, "to", "7 days"),
    ({**span(days=91), "interval_value": 1, "interval_unit": "day"}, "to", "90 days"),
    ({**span(days=91), "interval_value": 1, "interval_unit": "month"}, "to", "90 days"),
    ({**span(hours=0), "interval_value": 1, "interval_unit": "day"}, "to", "after from_"),
    ({**span(hours=-1), "interval_value": None, "interval_unit": None}, "to", "after from_"),
    ({**span(days=1), "interval_value": 1, "interval_unit": None}, "interval_unit", "required"),
    ({**span(days=1), "interval_value": None, "interval_unit": "day"}, "interval_value", "required"),
    ({"from_": T0, "to": None, "interval_value": 1, "interval_unit": "hour"}, "to", "give both"),
    ({"from_": datetime(2024, 5, 1), "to": None, "interval_value": None, "interval_unit": None}, "from_", "naive"),
    ({"from_": T0, "to": None, "interval_value": 2, "interval_unit": "minute", "count": 721}, "count", "24 hours"),
    ({"from_": None, "to": T0, "interval_value": 1, "interval_unit": "hour", "count": 0}, "count", "at least 1"),
]


@pytest.mark.parametrize("request_", VALID)
def test_valid_requests_pass(request_):
    validate_aggregate_request(**request_)


@pytest.mark.parametrize(
    ("unit", "value", "since", "valid"),
    [
        ("hour", 1, timedelta(hours=20), True),  # hourly since yesterday: the service's range ends now
        ("hour", 1, timedelta(days=6, hours=23), True),
        ("hour", 1, timedelta(days=7, hours=1), False),
        ("minute", 2, timedelta(hours=23), True),
        ("minute", 2, timedelta(hours=25), False),
    ],
)
def test_from_alone_is_enough_when_now_is_within_the_units_longest_range(manual_clock, unit, value, since, valid):
    request_ = {"from_": utcnow() - since, "to": None, "interval_value": value, "interval_unit": unit}
    if valid:
        validate_aggregate_request(**request_)
    else:
        with pytest.raises(MdspConfigError, match=r"or a from_ within (7 days|24 hours) of now") as err:
            validate_aggregate_request(**request_)
        assert err.value.field == "to"


@pytest.mark.parametrize(("request_", "field", "words"), INVALID)
def test_invalid_requests_name_the_parameter_and_the_allowed_values(request_, field, words):
    with pytest.raises(MdspConfigError) as err:
        validate_aggregate_request(**request_)
    assert err.value.field == field
    assert field in str(err.value)
    assert words in str(err.value)


def test_get_aggregates_sends_the_query_and_returns_the_list(client, requests_mock):
    rows = [{"starttime": "a", "endtime": "b", "v": {"sum": 1}}]
    api = requests_mock.get(PATH, json={"aggregates": rows})
    got = client.aggregates.get_aggregates(
        "a1", "Vibration", from_=T0, to=T0 + timedelta(days=1), interval_value=1, interval_unit="Hour", select=["v"]
    )
    assert got == rows
    assert query(api.last_request) == {
        "assetId": "a1",
        "aspectName": "Vibration",
        "from": "2024-05-01T00:00:00.000Z",
        "to": "2024-05-02T00:00:00.000Z",
        "intervalValue": "1",
        "intervalUnit": "hour",
        "select": "v",
    }


def test_get_aggregates_without_parameters_lets_the_service_choose(client, requests_mock):
    api = requests_mock.get(PATH, json={"aggregates": []})
    assert client.aggregates.get_aggregates("a1", "Vibration") == []
    assert query(api.last_request) == {"assetId": "a1", "aspectName": "Vibration"}


def test_an_invalid_request_is_refused_before_any_call(client, requests_mock):
    with pytest.raises(MdspConfigError):
        client.aggregates.get_aggregates("a1", "Vibration", from_=T0, to=T0, interval_value=1, interval_unit="day")
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("bounds", [{"from_": T0}, {"to": T0}], ids=["from only", "to only"])
@pytest.mark.parametrize(("unit", "value", "count"), [("minute", 2, 30), ("hour", 1, 24)])
def test_count_with_one_bound_is_sent_for_minutes_and_hours(client, requests_mock, bounds, unit, value, count):
    api = requests_mock.get(PATH, json={"aggregates": []})
    client.aggregates.get_aggregates("a1", "Vibration", interval_value=value, interval_unit=unit, count=count, **bounds)
    sent = query(api.last_request)
    assert (sent["intervalUnit"], sent["count"]) == (unit, str(count))
    assert ("from" in sent, "to" in sent) == ("from_" in bounds, "to" in bounds)
