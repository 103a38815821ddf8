"""The models' shared lookup: a stored item, or the error naming what is missing."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.emulator.errors import GENERIC_CODES, ApiError, lookup


def test_lookup_returns_the_stored_item():
    assert lookup({("e", "a.csv"): 1}, ("e", "a.csv"), "unused") == 1


def test_lookup_raises_404_with_the_generic_code_by_default():
    with pytest.raises(ApiError) as missing:
        lookup({}, "x", "Event 'x' not found")
    assert (missing.value.status, missing.value.code, missing.value.message) == (
        404,
        GENERIC_CODES[404],
        "Event 'x' not found",
    )


def test_lookup_takes_the_status_and_code_of_its_caller():
    with pytest.raises(ApiError) as missing:
        lookup({}, "t", "Event type 't' not found", "acme.noMatch", status=400)
    assert (missing.value.status, missing.value.code) == (400, "acme.noMatch")
