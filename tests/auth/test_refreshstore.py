"""SharedRefreshToken: which refresh token is exchanged, when the store is re-read, what is stored."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.auth.access_token import Token
from airflow_provider_mdsp.auth.refreshstore import (
    FileRefreshTokenStore,
    SharedRefreshToken,
    origin_of,
    parse_stored,
    stored_value,
)
from airflow_provider_mdsp.exceptions import MdspAuthError, MdspServerError

KEY = "mdsp_refresh_token_mdsp_default"


class MemoryStore:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.on_load = None

    def load(self, key):
        if self.on_load:
            self.on_load()
        return self.values.get(key)

    def swap(self, key, expected, new):
        if self.values.get(key) != expected:
            return False
        self.values[key] = new
        return True


class Service:
    """A token endpoint that revokes each refresh token once used."""

    def __init__(self, valid: str) -> None:
        self.valid = {valid}
        self.sent: list[str] = []
        self.issued = 0

    def exchange(self, refresh: str) -> Token:
        self.sent.append(refresh)
        if refresh not in self.valid:
            raise MdspAuthError("rejected", status=401, code="invalid_token")
        self.valid.discard(refresh)
        self.issued += 1
        rotated = f"r{self.issued}"
        self.valid.add(rotated)
        return Token(access_token=f"a{self.issued}", expires_at=2e9, issued_at=1e9, refresh_token=rotated)


def test_the_first_exchange_uses_the_connection_token_and_stores_the_rotated_one():
    store, service = MemoryStore(), Service("r0")
    token = SharedRefreshToken(store, KEY, "r0").renew(service.exchange)
    assert token.access_token == "a1"
    assert parse_stored(store.values[KEY], origin_of("r0")) == "r1"
    assert "r0" not in store.values[KEY], "only a hash of the connection's token is stored"


def test_another_host_uses_the_stored_token_not_its_revoked_connection_token():
    store, service = MemoryStore(), Service("r0")
    SharedRefreshToken(store, KEY, "r0").renew(service.exchange)
    token = SharedRefreshToken(store, KEY, "r0").renew(service.exchange)
    assert service.sent == ["r0", "r1"]
    assert token.refresh_token == "r2"
    assert parse_stored(store.values[KEY], origin_of("r0")) == "r2"


def test_a_rejected_token_makes_the_host_reread_the_store_while_another_host_writes():
    store, service = MemoryStore(), Service("r0")
    shared = SharedRefreshToken(store, KEY, "r0", sleep=lambda s: None)
    service.exchange("r0")  # another host has just exchanged r0 for r1 …
    loads = []

    def other_host_writes_later():
        loads.append(1)
        if len(loads) == 3:  # … and stores r1 while this host retries
            store.values[KEY] = stored_value(origin_of("r0"), "r1")

    store.on_load = other_host_writes_later
    token = shared.renew(service.exchange)
    assert service.sent == ["r0", "r0", "r1"]
    assert token.refresh_token == "r2"


def test_all_tokens_rejected_raises_the_services_error_after_a_few_short_waits():
    waits: list[float] = []
    shared = SharedRefreshToken(MemoryStore(), KEY, "r0", sleep=waits.append)
    with pytest.raises(MdspAuthError, match="rejected"):
        shared.renew(Service("other").exchange)
    assert 0 < sum(waits) < 10


def test_a_new_token_pasted_into_the_connection_wins_over_the_old_chain():
    store, service = MemoryStore(), Service("fresh")
    store.values[KEY] = stored_value(origin_of("old"), "old-chain-r7")
    token = SharedRefreshToken(store, KEY, "fresh").renew(service.exchange)
    assert service.sent == ["fresh"]
    assert parse_stored(store.values[KEY], origin_of("fresh")) == token.refresh_token


def test_other_errors_are_raised_at_once_without_trying_other_tokens():
    def down(refresh):
        raise MdspServerError(503, "down")

    with pytest.raises(MdspServerError):
        SharedRefreshToken(MemoryStore(), KEY, "r0").renew(down)


def test_a_store_that_cannot_be_read_or_written_does_not_stop_the_renewal():
    class Broken:
        def load(self, key):
            raise OSError("store down")

        def swap(self, key, expected, new):
            raise OSError("store down")

    assert SharedRefreshToken(Broken(), KEY, "r0").renew(Service("r0").exchange).access_token == "a1"


def test_the_file_store_swaps_only_over_the_expected_value(tmp_path):
    store = FileRefreshTokenStore(str(tmp_path / "tokens.json"))
    assert store.load(KEY) is None
    assert store.swap(KEY, None, "one")
    assert not store.swap(KEY, None, "two")
    assert store.swap(KEY, "one", "two")
    assert store.load(KEY) == "two"
    assert oct((tmp_path / "tokens.json").stat().st_mode & 0o777) == "0o600"
