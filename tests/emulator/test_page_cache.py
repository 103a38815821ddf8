"""The emulator's benchmark page cache: the same pages, served again until the series is written."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_mdsp.emulator.services.timeseries.pagecache import PageCache

pytestmark = pytest.mark.integration


def test_the_cache_keeps_the_most_recently_used_pages_and_forgets_a_written_series():
    cache = PageCache(2)
    cache.put(("a", "p", 1), ("[1]", None))
    cache.put(("a", "p", 2), ("[2]", "<next>"))
    assert cache.get(("a", "p", 1)) == ("[1]", None)
    cache.put(("b", "p", 3), ("[3]", None))
    assert cache.get(("a", "p", 2)) is None, "the least recently used page left"
    cache.forget("a", "p")
    assert cache.get(("a", "p", 1)) is None
    assert cache.get(("b", "p", 3)) == ("[3]", None)
    off = PageCache(0)
    off.put(("a", "p", 1), ("[1]", None))
    assert off.get(("a", "p", 1)) is None


@pytest.fixture(scope="module")
def cached_emulator() -> Any:
    from airflow_provider_mdsp.emulator import run_emulator
    from airflow_provider_mdsp.emulator.config import demo_config

    with run_emulator(config=demo_config().with_overrides(page_cache=100)) as emu:
        yield emu


def test_a_cached_page_is_the_rendered_page_until_the_series_is_written(cached_emulator):
    emu = cached_emulator
    token = requests.post(
        emu.token_url, auth=("demo-techuser", "demo-secret"), data={"grant_type": "client_credentials"}, timeout=10
    ).json()["access_token"]
    asset = emu.demo_assets()["bench-motor"]
    url = f"{emu.url}/api/iottimeseries/v3/timeseries/{asset}/Vibration"
    headers = {"Authorization": f"Bearer {token}"}
    window = {"from": "2020-01-01T00:00:00.000Z", "to": "2020-01-01T00:00:10.000Z", "limit": 2}
    first = requests.get(url, params=window, headers=headers, timeout=10)
    assert first.json() == []
    again = requests.get(url, params=window, headers=headers, timeout=10)
    assert (again.text, again.headers.get("Link")) == (first.text, first.headers.get("Link"))
    records = [{"_time": f"2020-01-01T00:00:0{s}.000Z", "Velocity": float(s)} for s in range(1, 4)]
    requests.put(url, json=records, headers=headers, timeout=10).raise_for_status()
    fresh = requests.get(url, params=window, headers=headers, timeout=10)
    assert [r["_time"] for r in fresh.json()] == ["2020-01-01T00:00:01.000Z", "2020-01-01T00:00:02.000Z"]
    assert 'rel="next"' in fresh.headers["Link"]
