"""TokenProvider: reuse while fresh, renew inside the margin, one fetch under contention, safe invalidate."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.auth import (
    REFRESH_MARGIN,
    RefreshTokenCredentials,
    TenantCredentials,
    Token,
    TokenProvider,
    UserTokenCredentials,
    clear_token_providers,
    get_token_provider,
    user_token,
)
from airflow_provider_mdsp.exceptions import MdspAuthError, MdspTokenExpiredError

from .helpers import CLIENT_SECRET, T0, make_jwt

CREDS = TenantCredentials("cid", CLIENT_SECRET, "demo", "https://demo.piam.eu1.mindsphere.io/oauth/token")


class Issuer:
    """A fake token endpoint: each call returns a new token of ``lifetime`` seconds from now."""

    def __init__(self, lifetime: float = 1800.0, delay: float = 0.0) -> None:
        self.lifetime = lifetime
        self.delay = delay
        self.previous: list[Token | None] = []
        self._n = itertools.count(1)

    def __call__(self, previous: Token | None) -> Token:
        self.previous.append(previous)
        if self.delay:
            time.sleep(self.delay)
        at = timeutil.epoch()
        n = next(self._n)
        return Token(f"token-{n}", at + self.lifetime, at, refresh_token=f"rt-{n}")


def test_calls_inside_the_lifetime_reuse_one_token(clock):
    provider = TokenProvider(CREDS, Issuer())

    seen = set()
    for _ in range(50):
        seen.add(provider.get_token().access_token)
        clock.advance(1800 / 100)  # half the lifetime in total

    assert seen == {"token-1"}
    assert provider.fetch_count == 1


def test_a_token_inside_the_refresh_margin_is_renewed(clock):
    provider = TokenProvider(CREDS, Issuer())
    first = provider.get_token()

    clock.advance(1800 - REFRESH_MARGIN - 1)
    assert provider.get_token() is first
    clock.advance(2)  # now inside the margin, still valid for almost 5 minutes
    second = provider.get_token()

    assert second.access_token == "token-2"
    assert provider.fetch_count == 2


def test_short_sixty_second_tokens_are_used_for_most_of_their_life(clock):
    provider = TokenProvider(CREDS, Issuer(lifetime=60))

    uses: dict[str, int] = {}
    for _ in range(120):  # two minutes, one call a second
        name = provider.get_token().access_token
        uses[name] = uses.get(name, 0) + 1
        clock.advance(1)

    assert provider.fetch_count == 3
    assert all(count >= 45 for count in list(uses.values())[:2])


def test_invalidate_of_a_stale_token_keeps_the_one_another_thread_renewed(clock):
    provider = TokenProvider(CREDS, Issuer())
    old = provider.get_token()
    clock.advance(1800 - 10)
    new = provider.get_token()  # renewed by "another thread"

    provider.invalidate(old)  # the 401 that was caused by the old token arrives late

    assert provider.get_token() is new
    assert provider.fetch_count == 2
    provider.invalidate(new)
    assert provider.get_token().access_token == "token-3"


def test_invalidate_without_a_token_drops_the_cached_one(clock):
    provider = TokenProvider(CREDS, Issuer())
    provider.get_token()

    provider.invalidate()

    assert provider.get_token().access_token == "token-2"


def test_sixteen_threads_on_an_empty_cache_make_one_fetch():
    issuer = Issuer(delay=0.05)
    provider = TokenProvider(CREDS, issuer)
    barrier = threading.Barrier(16)
    results: list[str] = []

    def call() -> None:
        barrier.wait()
        results.append(provider.get_token().access_token)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)

    assert provider.fetch_count == 1
    assert results == ["token-1"] * 16


def test_threads_waiting_on_a_failed_fetch_share_its_error_instead_of_retrying():
    calls = []

    def failing(previous: Token | None) -> Token:
        calls.append(previous)
        time.sleep(0.3)  # long enough for all eight threads to queue behind this attempt
        raise MdspAuthError("rejected")

    provider = TokenProvider(CREDS, failing)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def call() -> None:
        barrier.wait()
        try:
            provider.get_token()
        except MdspAuthError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)

    assert len(calls) == 1
    assert len(errors) == 8
    with pytest.raises(MdspAuthError):  # a later call tries again
        provider.get_token()
    assert len(calls) == 2


def test_on_new_token_sees_each_new_token_once_before_it_is_returned(clock):
    registered: list[str] = []
    provider = TokenProvider(CREDS, Issuer(), on_new_token=lambda t: registered.append(t.access_token))

    provider.get_token()
    provider.get_token()
    clock.advance(1800)
    token = provider.get_token()

    assert registered == ["token-1", "token-2"]
    assert token.access_token == registered[-1]


def test_the_refresh_flow_gets_the_rotated_refresh_token_even_after_invalidate(clock):
    issuer = Issuer()
    provider = TokenProvider(
        RefreshTokenCredentials("cid", CLIENT_SECRET, "rt-0", "https://demo.piam.eu1.mindsphere.io/oauth/token"),
        issuer,
    )
    provider.get_token()
    provider.invalidate()
    provider.get_token()

    assert issuer.previous[0] is None
    assert issuer.previous[1] is not None
    assert issuer.previous[1].refresh_token == "rt-1"


def test_a_user_token_is_returned_until_it_expires_then_names_the_field(clock):
    jwt = make_jwt({"exp": T0 + 600, "iat": T0 - 1200})
    creds = UserTokenCredentials(jwt)
    registered: list[Token] = []
    provider = TokenProvider(creds, lambda previous: user_token(creds), on_new_token=registered.append)

    assert provider.get_token().access_token == jwt
    clock.advance(599)  # inside the margin: re-validated, still handed out
    assert provider.get_token().access_token == jwt
    clock.advance(2)
    with pytest.raises(MdspTokenExpiredError, match="`user_token`"):
        provider.get_token()
    assert len(registered) == 1


def test_the_registry_shares_one_provider_per_identity():
    first = get_token_provider(CREDS, Issuer())
    same = get_token_provider(
        TenantCredentials("cid", CLIENT_SECRET, "demo", "https://demo.piam.eu1.mindsphere.io/oauth/token"),
        Issuer(),
    )
    other = get_token_provider(
        TenantCredentials("cid", "another-secret", "demo", "https://demo.piam.eu1.mindsphere.io/oauth/token"),
        Issuer(),
    )

    assert same is first
    assert other is not first
    clear_token_providers()
    assert get_token_provider(CREDS, Issuer()) is not first


def test_the_registry_is_thread_safe():
    barrier = threading.Barrier(16)
    found: list[TokenProvider] = []

    def call() -> None:
        barrier.wait()
        found.append(get_token_provider(CREDS, Issuer()))

    threads = [threading.Thread(target=call) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)

    assert len({id(p) for p in found}) == 1


def test_repr_shows_no_token():
    provider = TokenProvider(CREDS, lambda previous: Token("at-VISIBLE?", T0 + 1800, T0))
    provider.get_token()

    assert "at-VISIBLE?" not in repr(provider)
    assert CLIENT_SECRET not in repr(provider)
