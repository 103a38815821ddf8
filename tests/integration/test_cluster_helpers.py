"""The hook's cluster helpers: the token-sharing hint, and the refresh-token Variable store."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_mdsp.hooks import mdsp as hook_module
from airflow_provider_mdsp.hooks.mdsp import SHARING_HINT, MdspHook
from airflow_provider_mdsp.hooks.refresh_store import VariableRefreshTokenStore, refresh_token_variable

pytestmark = pytest.mark.integration


@pytest.fixture
def hints(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Record the hook's info lines; every test starts as a fresh task process would."""
    monkeypatch.setattr(hook_module, "_sharing_hint_logged", False)
    lines: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        MdspHook, "log", property(lambda self: type("L", (), {"info": lambda _, *a: lines.append(a)})())
    )
    return lines


def test_a_task_fetching_its_own_token_logs_the_sharing_hint_once(emulator_connection, hints):
    MdspHook().client.assets.get_root_asset()
    MdspHook().client.transport.tokens.invalidate()
    MdspHook().client.assets.get_root_asset()
    assert hints == [(SHARING_HINT, "mdsp_default")]
    assert '"shared_cache": true' in SHARING_HINT % "mdsp_default"


def test_no_hint_when_the_connection_already_shares_tokens(emulator_connection, hints, monkeypatch, tmp_path):
    import json
    import os

    conn = json.loads(os.environ["AIRFLOW_CONN_MDSP_DEFAULT"])
    conn["extra"]["shared_cache"] = True
    monkeypatch.setenv("AIRFLOW_CONN_MDSP_DEFAULT", json.dumps(conn))
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    monkeypatch.setenv("MDSP_TOKEN_CACHE_DIR", str(cache))
    MdspHook().client.assets.get_root_asset()
    assert hints == []


def test_the_variable_store_writes_only_over_the_value_it_expects(monkeypatch):
    from airflow.sdk import Variable

    values: dict[str, str] = {}
    monkeypatch.setattr(Variable, "get", staticmethod(lambda key, default=None: values.get(key, default)))
    monkeypatch.setattr(
        Variable, "set", staticmethod(lambda key, value, description=None: values.__setitem__(key, value))
    )
    store, key = VariableRefreshTokenStore(), refresh_token_variable("mdsp_default")
    assert key == "mdsp_refresh_token_mdsp_default"
    assert store.load(key) is None
    assert store.swap(key, None, "one")
    assert not store.swap(key, None, "two")
    assert store.swap(key, "one", "two")
    assert store.load(key) == "two"
