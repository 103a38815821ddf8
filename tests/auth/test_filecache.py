"""FileTokenCache: one token request for many processes, private files, corrupt-file recovery."""

from __future__ import annotations

import http.server
import json
import logging
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_mdsp.auth import FileTokenCache, TenantCredentials, Token, TokenProvider, filecache
from airflow_provider_mdsp.auth.filecache import directory_problem
from airflow_provider_mdsp.exceptions import MdspConfigError

from .helpers import CLIENT_SECRET, IDENTITY, T0, Fetcher

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache(tmp_path: Path) -> FileTokenCache:
    return FileTokenCache(str(tmp_path / "cache"))


# --- many processes, one request ------------------------------------------------------------------


class _TokenServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    requests_seen = 0
    lock = threading.Lock()


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    server: _TokenServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.requests_seen += 1
            n = self.server.requests_seen
        time.sleep(0.3)  # a slow token endpoint widens the window in which processes could race
        body = json.dumps({"access_token": f"shared-{n}", "expires_in": 1800}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def token_server() -> Iterator[_TokenServer]:
    server = _TokenServer(("127.0.0.1", 0), _TokenHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


WORKER = textwrap.dedent(
    """
    import os, sys, time
    import requests
    from airflow_provider_mdsp.auth import FileTokenCache, TenantCredentials, fetch_tenant_token

    cache_dir, token_url, ready, go = sys.argv[1:5]
    creds = TenantCredentials("cid", "secret", "demo", token_url)
    cache = FileTokenCache(cache_dir)
    session = requests.Session()
    open(ready, "w").close()
    while not os.path.exists(go):
        time.sleep(0.005)
    token = cache.get_or_fetch(creds.identity, lambda prev: fetch_tenant_token(session, creds, timeout=10))
    print(token.access_token)
    """
)


def test_processes_starting_together_make_exactly_one_token_request(tmp_path, token_server):
    url = f"http://127.0.0.1:{token_server.server_address[1]}/oauth/token"
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    procs = []
    for i in range(5):
        args = [str(tmp_path / "cache"), url, str(tmp_path / f"ready-{i}"), str(go)]
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        )
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{i}").exists() for i in range(5)):
        assert time.monotonic() < deadline, "worker processes did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    go.touch()  # all five ask for a token at once

    outputs = [p.communicate(timeout=60) for p in procs]

    assert [p.returncode for p in procs] == [0] * 5, [err.decode() for _, err in outputs]
    assert [out.decode().strip() for out, _ in outputs] == ["shared-1"] * 5
    assert token_server.requests_seen == 1


def test_two_providers_sharing_a_cache_fetch_once(cache, clock):
    fetcher = Fetcher()
    creds = TenantCredentials("cid", CLIENT_SECRET, "demo", "https://demo.piam.eu1.mindsphere.io/oauth/token")
    first = TokenProvider(creds, fetcher, shared_cache=cache)
    second = TokenProvider(creds, fetcher, shared_cache=cache)  # as in another process

    assert first.get_token() == second.get_token()
    assert (first.fetch_count, second.fetch_count) == (1, 0)


# --- files on disk ----------------------------------------------------------------------------------


def test_directory_is_0700_and_token_files_are_0600(cache):
    cache.get_or_fetch(IDENTITY, Fetcher())

    assert stat.S_IMODE(os.stat(cache.directory).st_mode) == 0o700
    names = os.listdir(cache.directory)
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["json", "lock"]
    for name in names:
        assert stat.S_IMODE(os.stat(os.path.join(cache.directory, name)).st_mode) == 0o600
    assert IDENTITY not in "".join(names)


def test_a_stored_fresh_token_is_read_back_without_a_fetch(cache, clock):
    cache.get_or_fetch(IDENTITY, Fetcher())
    fetcher = Fetcher()

    token = FileTokenCache(cache.directory).get_or_fetch(IDENTITY, fetcher)

    assert token == Token("token-1", T0 + 1800, T0, refresh_token="rt-1")
    assert fetcher.previous == []


def test_a_stale_stored_token_is_passed_to_fetch_and_replaced(cache, clock):
    cache.get_or_fetch(IDENTITY, Fetcher())
    clock.advance(1800)
    fetcher = Fetcher()

    token = cache.get_or_fetch(IDENTITY, fetcher)

    assert fetcher.previous[0] is not None
    assert fetcher.previous[0].refresh_token == "rt-1"  # the refresh flow continues from here
    assert token.access_token == "token-1"  # the new one, from the new fetcher
    assert json.loads(Path(cache.path_for(IDENTITY)).read_text())["refresh_token"] == "rt-1"


@pytest.mark.parametrize("content", ["{not json", "[]", '{"access_token": 5}', '{"access_token": "x"}', ""])
def test_a_corrupt_cache_file_is_treated_as_empty_and_replaced(cache, clock, caplog, content):
    Path(cache.path_for(IDENTITY)).write_text(content)
    fetcher = Fetcher()

    token = cache.get_or_fetch(IDENTITY, fetcher)

    assert fetcher.previous == [None]
    assert token.access_token == "token-1"
    assert json.loads(Path(cache.path_for(IDENTITY)).read_text())["access_token"] == "token-1"
    assert "corrupt token cache file" in caplog.text


def test_invalidate_removes_only_the_rejected_token(cache, clock):
    plain = Token("plain", T0 + 1800, T0)
    cache.get_or_fetch(IDENTITY, lambda previous: plain)

    cache.invalidate(IDENTITY, Token("someone-elses", T0 + 1800, T0))
    assert os.path.exists(cache.path_for(IDENTITY))
    cache.invalidate(IDENTITY, plain)
    assert not os.path.exists(cache.path_for(IDENTITY))


def test_invalidate_keeps_the_rotated_refresh_token_as_an_expired_copy(cache, clock):
    token = cache.get_or_fetch(IDENTITY, Fetcher())

    cache.invalidate(IDENTITY, token)
    fetcher = Fetcher()
    cache.get_or_fetch(IDENTITY, fetcher)

    assert fetcher.previous[0] is not None
    assert fetcher.previous[0].refresh_token == "rt-1"


def test_provider_invalidate_reaches_the_shared_cache(cache, clock):
    creds = TenantCredentials("cid", CLIENT_SECRET, "demo", "https://demo.piam.eu1.mindsphere.io/oauth/token")
    provider = TokenProvider(creds, Fetcher(), shared_cache=cache)
    old = provider.get_token()

    provider.invalidate(old)
    other = TokenProvider(creds, Fetcher(), shared_cache=cache)  # another process

    assert other.get_token().access_token == "token-1"
    assert other.fetch_count == 1  # it did not reuse the rejected token from the file


# --- unsafe directories, no fcntl ------------------------------------------------------------------


def test_a_group_writable_directory_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)

    with pytest.raises(MdspConfigError, match="writable by group or others") as info:
        FileTokenCache(str(shared))

    assert info.value.field == "MDSP_TOKEN_CACHE_DIR"


@pytest.mark.parametrize(
    ("mode", "owner", "problem"),
    [
        (stat.S_IFDIR | 0o700, 1000, None),
        (stat.S_IFDIR | 0o755, 1000, None),
        (stat.S_IFDIR | 0o700, 0, "owned by uid 0"),
        (stat.S_IFDIR | 0o720, 1000, "writable by group"),
        (stat.S_IFDIR | 0o702, 1000, "writable by group or others"),
        (stat.S_IFREG | 0o600, 1000, "not a directory"),
    ],
)
def test_directory_problem(mode, owner, problem):
    found = directory_problem(mode, owner, 1000)

    assert found == problem if problem is None else problem in (found or "")


def test_a_file_in_place_of_the_directory_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")

    with pytest.raises(MdspConfigError, match="MDSP_TOKEN_CACHE_DIR"):
        FileTokenCache(str(blocker / "cache"))


def test_default_directory_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MDSP_TOKEN_CACHE_DIR", str(tmp_path / "from-env"))

    assert FileTokenCache().directory == str(tmp_path / "from-env")
    monkeypatch.delenv("MDSP_TOKEN_CACHE_DIR")
    assert filecache.default_cache_dir().endswith(f"airflow-provider-mdsp-{os.getuid()}")


def test_without_fcntl_nothing_is_shared(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(filecache, "fcntl", None)
    caplog.set_level(logging.WARNING)
    fetcher = Fetcher()

    cache = FileTokenCache(str(tmp_path / "unused"))
    cache.get_or_fetch(IDENTITY, fetcher)
    cache.get_or_fetch(IDENTITY, fetcher)

    assert len(fetcher.previous) == 2
    assert not (tmp_path / "unused").exists()
    assert "not shared between processes" in caplog.text
