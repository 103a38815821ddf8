"""Time values: aware datetimes and ISO strings in, UTC milliseconds out, naive values refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_mdsp.client.timeutil import format_time, parse_time
from airflow_provider_mdsp.exceptions import MdspConfigError

CET = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc), "2024-05-01T10:00:00.000Z"),
        (datetime(2024, 5, 1, 11, 0, 0, 123999, tzinfo=CET), "2024-05-01T10:00:00.123Z"),
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000Z"),
        ("2024-05-01T12:00:00.5+02:00", "2024-05-01T10:00:00.500Z"),
        ("2024-05-01 10:00:00.123456789+0000", "2024-05-01T10:00:00.123Z"),
        ("2024-05-01T10:00+00:00", "2024-05-01T10:00:00.000Z"),
    ],
)
def test_times_render_as_utc_milliseconds(value, expected):
    assert format_time(value) == expected


def test_a_naive_datetime_is_refused_naming_the_parameter():
    with pytest.raises(MdspConfigError, match="from_ is a naive datetime") as err:
        format_time(datetime(2024, 5, 1), name="from_")
    assert err.value.field == "from_"
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("text", ["2024-05-01T10:00:00", "2024-05-01", "yesterday", ""])
def test_strings_without_offset_or_not_iso_are_refused(text):
    with pytest.raises(MdspConfigError) as err:
        format_time(text, name="to")
    assert err.value.field == "to"


def test_parse_time_returns_an_aware_utc_datetime():
    parsed = parse_time("2024-05-01T12:00:00.250+02:00")
    assert parsed == datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=timezone.utc)
    assert parsed.tzinfo is timezone.utc


def test_an_impossible_date_is_refused():
    with pytest.raises(MdspConfigError, match="not a valid date"):
        parse_time("2024-02-30T00:00:00Z")
