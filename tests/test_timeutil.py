"""Time values: aware datetimes and ISO strings in, UTC milliseconds out, naive values refused; one clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.timeutil import ManualClock, format_time, parse_time, record_time, to_utc, using_clock
from tests.helpers.time import SAME_INSTANT, py310_fromisoformat

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
        ("2024-05-01T12:00+0200", "2024-05-01T10:00:00.000Z"),
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


def test_the_python310_stand_in_is_as_strict_as_python310():
    for text in ("2026-05-01T10:00:00.5Z", "2026-05-01T12:00:00+0200", "2026-05-01T10:00:00Z"):
        with pytest.raises(ValueError):
            py310_fromisoformat(text)


@pytest.mark.parametrize("value", SAME_INSTANT, ids=str)
def test_every_spelling_of_an_instant_parses_alike_on_python310(python310, value):
    assert to_utc(value, "from_time") == datetime(2026, 5, 1, 10, 0, 0, 500000, tzinfo=timezone.utc)
    assert type(to_utc(value, "from_time")) is datetime  # pendulum in, a plain datetime out
    assert format_time(value) == "2026-05-01T10:00:00.500Z"


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("2026-05-01T10:00:00.5Z", 1)])
def test_record_times_are_read_leniently(value, expected):
    parsed = record_time(value)
    assert (parsed is None) == (expected is None)
    assert record_time("2026-05-01T10:00:00") == datetime(2026, 5, 1, 10, tzinfo=timezone.utc)  # naive: UTC
    assert record_time("not a time") is None


def test_a_manual_clock_moves_every_layer_without_waiting():
    clock = ManualClock(start=1_777_000_000.0)
    with using_clock(clock):
        timeutil.sleep(90)
        assert timeutil.epoch() == 1_777_000_090.0
        assert timeutil.monotonic() == 90.0
        assert timeutil.utcnow() == datetime.fromtimestamp(1_777_000_090, timezone.utc)
        assert timeutil.deadline_after(timedelta(minutes=1)) == format_time(timeutil.utcnow() + timedelta(minutes=1))
    assert clock.sleeps == [90]
    assert isinstance(timeutil.current_clock(), timeutil.SystemClock)
