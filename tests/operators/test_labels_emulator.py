"""Labels of mapped reads: asset names looked up once per asset, for reads mapped over events."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.operators.assets import asset_names

pytestmark = pytest.mark.integration


def test_asset_names_looks_each_asset_up_once(emulator_connection):
    demo = emulator_connection.demo_assets()
    pumps = [demo["Pump-A1-1"], demo["Pump-B2-2"], demo["Pump-A1-1"]]
    before = emulator_connection.stats()["calls"]
    assert asset_names(pumps) == {demo["Pump-A1-1"]: "Pump-A1-1", demo["Pump-B2-2"]: "Pump-B2-2"}
    after = emulator_connection.stats()["calls"]
    gets = {k: n - before.get(k, 0) for k, n in after.items() if k.startswith("GET") and n != before.get(k, 0)}
    assert sum(n for k, n in gets.items() if "/assets/" in k) == 2, gets
