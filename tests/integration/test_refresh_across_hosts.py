"""A refresh-token connection on two hosts, against an emulator that revokes used refresh tokens.

Two long-lived processes stand for two worker hosts: each has its own token cache directory and
its own process memory; they share only the refresh-token store. They take turns renewing their
token (three rotations each) and reading the gateway with it. Without the shared store the second
host's first renewal fails with the connection's revoked refresh token, as on a real cluster.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from airflow_provider_mdsp.emulator import run_emulator
from airflow_provider_mdsp.emulator.config import demo_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TECH_ID, TECH_SECRET = "demo-techuser", "demo-secret"

# One "host": renews its token on every line read from stdin and reads the root asset with it.
_HOST = """
import sys
from airflow_provider_mdsp.auth import RefreshTokenCredentials
from airflow_provider_mdsp.auth.filecache import FileTokenCache
from airflow_provider_mdsp.auth.refreshstore import FileRefreshTokenStore, SharedRefreshToken
from airflow_provider_mdsp.client import MdspClient
from airflow_provider_mdsp.client.settings import ClientSettings
from airflow_provider_mdsp.client.token_fetch import token_provider_for

gateway, token_url, refresh, cache_dir, store = sys.argv[1:6]
creds = RefreshTokenCredentials("demo-techuser", "demo-secret", refresh, token_url, tenant="demo")
settings = ClientSettings(gateway_url=gateway, max_retries=0)
shared = SharedRefreshToken(FileRefreshTokenStore(store), "mdsp_refresh_token_mdsp_default", refresh) if store else None
tokens = token_provider_for(settings, creds, shared_cache=FileTokenCache(cache_dir), shared_refresh=shared)
client = MdspClient.create(settings, tokens)
for _ in sys.stdin:
    tokens.invalidate()
    try:
        token = tokens.get_token()
        root = client.request_json("GET", "/api/assetmanagement/v3/assets/root")
        print("ok", root["name"], token.refresh_token[:6], flush=True)
    except Exception as exc:
        print("failed", type(exc).__name__, str(exc).replace("\\n", " "), flush=True)
"""


class Host:
    def __init__(self, emu, refresh: str, cache_dir: Path, store: Path | None) -> None:
        args = [emu.url, emu.token_url, refresh, str(cache_dir), str(store or "")]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HOST, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )

    def renew(self) -> str:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("renew\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def revoking_emulator():
    with run_emulator(config=demo_config().with_overrides(refresh_token_reuse=False)) as emu:
        yield emu


def two_hosts(emu, tmp_path: Path, shared_store: bool) -> tuple[Host, Host]:
    issued = requests.post(f"{emu.url}/_emulator/refresh-token", json={"client_id": TECH_ID}, timeout=10).json()
    store = tmp_path / "shared" / "refresh-tokens.json" if shared_store else None
    if store:
        store.parent.mkdir()
    hosts = []
    for name in ("host-a", "host-b"):
        cache = tmp_path / name
        cache.mkdir(mode=0o700)
        hosts.append(Host(emu, issued["refresh_token"], cache, store))
    return hosts[0], hosts[1]


def test_two_hosts_with_separate_caches_share_the_rotated_refresh_token_for_three_rotations(
    revoking_emulator, tmp_path
):
    a, b = two_hosts(revoking_emulator, tmp_path, shared_store=True)
    try:
        answers = [host.renew() for _ in range(3) for host in (a, b)]
    finally:
        a.close()
        b.close()
    assert [answer.split()[:2] for answer in answers] == [["ok", "demo"]] * 6, answers
    assert len({answer.split()[2] for answer in answers}) == 6, "every renewal rotated the refresh token"


def test_without_the_shared_store_the_second_host_fails_with_the_revoked_token(revoking_emulator, tmp_path):
    """The failure the store prevents: the rotated token stays on the first host."""
    a, b = two_hosts(revoking_emulator, tmp_path, shared_store=False)
    try:
        first, second = a.renew(), b.renew()
    finally:
        a.close()
        b.close()
    assert first.startswith("ok demo")
    assert second.startswith("failed MdspAuthError"), second
    assert "invalid_token" in second
