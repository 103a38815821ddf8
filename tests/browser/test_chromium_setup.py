"""Without Chromium the browser tests are skipped with the reason, never passed."""

from __future__ import annotations

import pytest

from tests.browser import conftest


def test_without_chromium_and_without_root_the_reason_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest.shutil, "which", lambda name: None)
    monkeypatch.setattr(conftest.os.path, "exists", lambda path: False)
    monkeypatch.setattr(conftest.os, "geteuid", lambda: 1000)
    path, why = conftest.find_or_install_chromium()
    assert path is None
    assert "apt-get install chromium" in why


def test_an_installed_chromium_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest.shutil, "which", lambda name: "/usr/bin/chromium" if name == "chromium" else None)
    assert conftest.find_or_install_chromium() == ("/usr/bin/chromium", "")
