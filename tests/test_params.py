"""Parse-time parameter values: one normaliser for every list-or-CSV parameter."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.params import names_list


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        (" a, b ,", ["a", "b"]),
        ("a,,b", ["a", "b"]),
        (["x", " y ", ""], ["x", "y"]),
        (("Pump-1",), ["Pump-1"]),
        ([1, 2], ["1", "2"]),
    ],
)
def test_names_come_from_a_list_or_a_comma_separated_string(value, expected):
    assert names_list(value) == expected
