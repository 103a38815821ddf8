"""Token values: freshness from one clock and one margin, short lifetimes, and a repr without values."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.auth import REFRESH_MARGIN, Token, refresh_margin_for
from airflow_provider_mdsp.auth.access_token import jwt_claims

from .helpers import ACCESS_TOKEN, REFRESH_TOKEN, T0, make_jwt


@pytest.mark.parametrize(
    ("lifetime", "margin"),
    [(1800, REFRESH_MARGIN), (3600, REFRESH_MARGIN), (600, 150), (60, 15), (0, 0), (-5, 0)],
)
def test_refresh_margin_is_capped_at_a_quarter_of_the_lifetime(lifetime, margin):
    assert refresh_margin_for(lifetime) == margin


def test_a_normal_token_is_fresh_until_five_minutes_before_expiry(clock):
    token = Token(ACCESS_TOKEN, expires_at=T0 + 1800, issued_at=T0)

    assert token.is_fresh()
    assert token.is_fresh(at=T0 + 1800 - REFRESH_MARGIN - 1)
    assert not token.is_fresh(at=T0 + 1800 - REFRESH_MARGIN)
    clock.advance(1800 - REFRESH_MARGIN + 1)
    assert not token.is_fresh()
    assert token.expires_in() == REFRESH_MARGIN - 1


def test_a_sixty_second_token_is_fresh_for_forty_five_seconds():
    token = Token(ACCESS_TOKEN, expires_at=T0 + 60, issued_at=T0)

    assert token.is_fresh(at=T0 + 44.9)
    assert not token.is_fresh(at=T0 + 45)


def test_an_explicit_margin_overrides_the_default():
    token = Token(ACCESS_TOKEN, expires_at=T0 + 1800, issued_at=T0)

    assert token.is_fresh(at=T0 + 1790, margin=0)
    assert not token.is_fresh(at=T0 + 1000, margin=900)


def test_the_clock_is_the_patched_one(clock):
    clock.advance(12.5)
    assert timeutil.epoch() == T0 + 12.5


def test_repr_hides_access_and_refresh_tokens():
    token = Token(ACCESS_TOKEN, T0 + 1800, T0, ("iot.tim.r",), REFRESH_TOKEN, "sub-1")

    for text in (repr(token), str(token), f"{token}", repr([token])):
        assert ACCESS_TOKEN not in text
        assert REFRESH_TOKEN not in text
    assert "iot.tim.r" in repr(token)
    assert "sub-1" in repr(token)


def test_tokens_compare_by_value_and_are_immutable():
    token = Token(ACCESS_TOKEN, T0 + 1800, T0)

    assert token == Token(ACCESS_TOKEN, T0 + 1800, T0)
    with pytest.raises(AttributeError):
        token.access_token = "other"  # type: ignore[misc]


@pytest.mark.parametrize("value", ["abc", "a.b", "a.!!!.c", "a." + "W10" + ".c", ""])
def test_jwt_claims_of_garbage_is_empty(value):
    assert jwt_claims(value) == {}


def test_jwt_claims_reads_the_payload_unverified():
    assert jwt_claims(make_jwt({"exp": 5, "scope": ["a"]})) == {"exp": 5, "scope": ["a"]}
