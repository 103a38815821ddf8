"""The shared token cache under a hostile local user: symlinks, planted files, a squatted directory.

Each test checks what a task would notice: it never uses a token it did not fetch or store itself,
never writes through a link, and keeps working (fetching its own token) instead of failing.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from airflow_provider_mdsp.auth import FileTokenCache, Token, filecache

from .helpers import IDENTITY, T0, Fetcher

pytestmark = pytest.mark.skipif(filecache.fcntl is None, reason="the shared cache needs fcntl")

PLANTED = Token("planted-by-another-identity", T0 + 10**9, T0)


def plant(path: Path) -> None:
    path.write_text(filecache.token_to_json(PLANTED))
    path.chmod(0o600)


def test_a_directory_swapped_for_a_symlink_is_not_used_on_the_next_call(tmp_path, caplog):
    directory = tmp_path / "cache"
    cache = FileTokenCache(str(directory))
    fetcher = Fetcher()
    assert cache.get_or_fetch(IDENTITY, fetcher).access_token == "token-1"
    # Another identity swaps the directory for a link to its own, holding its token under our name.
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    plant(theirs / Path(cache.path_for(IDENTITY)).name)
    directory.rename(tmp_path / "moved")
    directory.symlink_to(theirs)
    caplog.set_level(logging.WARNING)

    got = cache.get_or_fetch(IDENTITY, fetcher)

    assert got.access_token == "token-2", "fetched anew, the planted token was not read"
    assert "symbolic link" in caplog.text
    assert filecache.token_from_json((theirs / Path(cache.path_for(IDENTITY)).name).read_text()) == PLANTED


def test_a_token_file_replaced_by_a_symlink_is_ignored_and_its_target_untouched(tmp_path):
    cache = FileTokenCache(str(tmp_path / "cache"))
    target = tmp_path / "elsewhere.json"
    plant(target)
    Path(cache.path_for(IDENTITY)).symlink_to(target)
    fetcher = Fetcher()

    assert cache.get_or_fetch(IDENTITY, fetcher).access_token == "token-1"
    assert fetcher.previous == [None], "the linked token was never read"
    assert filecache.token_from_json(target.read_text()) == PLANTED, "written beside the link, not through it"
    assert not Path(cache.path_for(IDENTITY)).is_symlink()


def test_a_lock_file_replaced_by_a_symlink_makes_the_task_fetch_its_own_token(tmp_path, caplog):
    cache = FileTokenCache(str(tmp_path / "cache"))
    victim = tmp_path / "victim"
    victim.write_text("keep")
    Path(cache.path_for(IDENTITY)[: -len(".json")] + ".lock").symlink_to(victim)
    caplog.set_level(logging.WARNING)
    fetcher = Fetcher()

    assert cache.get_or_fetch(IDENTITY, fetcher).access_token == "token-1"
    assert victim.read_text() == "keep"
    assert "lock file" in caplog.text


def test_a_directory_opened_to_others_after_creation_is_checked_on_the_next_use(tmp_path):
    directory = tmp_path / "cache"
    cache = FileTokenCache(str(directory))
    fetcher = Fetcher()
    cache.get_or_fetch(IDENTITY, fetcher)
    directory.chmod(0o777)

    assert cache.get_or_fetch(IDENTITY, fetcher).access_token == "token-2"
    assert fetcher.previous[1] is None, "nothing read from a directory others may write"


def test_a_default_directory_squatted_by_someone_else_moves_the_cache_to_a_private_one(
    tmp_path, monkeypatch, caplog, clock
):
    monkeypatch.delenv(filecache.CACHE_DIR_ENV, raising=False)
    monkeypatch.setattr(filecache.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    squatted = Path(filecache.default_cache_dir())
    squatted.mkdir(parents=True)
    squatted.chmod(0o777)  # what another local user's pre-created directory looks like to us
    if os.geteuid() == 0:
        os.chown(squatted, 4242, -1)
    caplog.set_level(logging.WARNING)

    cache = FileTokenCache()
    fetcher = Fetcher()
    cache.get_or_fetch(IDENTITY, fetcher)

    assert cache.directory == str(tmp_path / "xdg" / "airflow-provider-mdsp" / "tokens")
    assert Path(cache.path_for(IDENTITY)).exists()
    assert (os.stat(cache.directory).st_mode & 0o777) == 0o700
    assert str(squatted) in caplog.text
    assert "using" in caplog.text
    assert cache.get_or_fetch(IDENTITY, fetcher).access_token == "token-1", "shared through the private directory"


def test_a_directory_named_explicitly_is_still_refused_when_unsafe(tmp_path):
    from airflow_provider_mdsp.exceptions import MdspConfigError

    shared = tmp_path / "shared"
    shared.mkdir()
    (tmp_path / "link").symlink_to(shared)

    with pytest.raises(MdspConfigError, match="symbolic link"):
        FileTokenCache(str(tmp_path / "link"))
