"""docs/emulator.md states facts users copy: keep them in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

from airflow_provider_mdsp.emulator import config
from airflow_provider_mdsp.emulator.seed import HOT_PUMP, OVERHEAT_END_S, OVERHEAT_START_S
from airflow_provider_mdsp.emulator.services.assets.models import asset_id_for

DOC = Path(__file__).resolve().parents[2] / "docs" / "emulator.md"


def test_documented_asset_ids_match_the_id_rule():
    rows = re.findall(r"^\| `([\w-]+)` \| `([0-9a-f]{32})` \|$", DOC.read_text(encoding="utf-8"), re.MULTILINE)
    assert len(rows) == 20
    assert {name: asset_id_for("demo", name) for name, _ in rows} == dict(rows)


def test_documented_credentials_and_overheat_window_match_the_code():
    text = DOC.read_text(encoding="utf-8")
    for value in (
        config.DEMO_CLIENT_ID,
        config.DEMO_CLIENT_SECRET,
        config.DEMO_READER_ID,
        config.DEMO_READER_SECRET,
        config.DEMO_APP_CLIENT_ID,
        config.DEMO_APP_SECRET,
        config.DEMO_SUBTENANT,
    ):
        assert f"`client_id={value}`" in text or f"`client_secret={value}`" in text or f"`{value}`" in text
    start, end = OVERHEAT_START_S // 3600, OVERHEAT_END_S % 3600 // 60
    assert f"**`{HOT_PUMP}` overheats every day from {start}:00 to {start}:{end} UTC**" in text
