"""TokenProvider: one cached token per credential identity, renewed before it expires.

A provider returns its cached token while it is fresh (:meth:`Token.is_fresh`, one clock and one
margin), lets exactly one thread fetch a new one when it is not, and drops a token on a 401 only if
it is still the token that was rejected. :func:`get_token_provider` keeps one provider per
credential identity and way of fetching per process, so every hook in a worker that fetches alike
shares one token (tokens are reused, renewed before expiry, and never fetched more often than
needed). How a token travels from a connection to a request header: docs/dev/token-path.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.auth.access_token import Token
from airflow_provider_mdsp.auth.credentials import Credentials
from airflow_provider_mdsp.exceptions import MdspTimeoutError

if TYPE_CHECKING:
    from airflow_provider_mdsp.auth.filecache import FileTokenCache

log = logging.getLogger(__name__)

#: A token fetcher: given the previous token (or ``None``), return a new one.
Fetch = Callable[[Token | None], Token]


class TokenProvider:
    """Cache a token for one set of credentials and renew it, thread-safely, before it expires.

    :param credentials: the credentials the token is for; their ``identity`` keys the shared cache.
    :param fetch: obtains a new token given the previous one (which carries the rotated refresh
        token); usually :func:`~airflow_provider_mdsp.auth.grants.obtain_token` bound to a session
        and wrapped in the client's retries. For a user token it just re-checks expiry.
    :param shared_cache: an opt-in :class:`FileTokenCache` shared by the processes of one host.
    :param on_new_token: called with every token this provider has not seen before, before any
        caller gets it (the hook registers it with Airflow's secret masker).
    """

    def __init__(
        self,
        credentials: Credentials,
        fetch: Fetch,
        *,
        shared_cache: FileTokenCache | None = None,
        on_new_token: Callable[[Token], None] | None = None,
    ) -> None:
        self.credentials = credentials
        self._fetch = fetch
        self._shared_cache = shared_cache
        self._on_new_token = on_new_token
        self._lock = threading.Lock()
        self._token: Token | None = None
        # Kept after invalidate() so the refresh flow still has the newest rotated refresh token.
        self._previous: Token | None = None
        self._finished = 0  # fetch attempts finished, successful or not
        self._last_error: BaseException | None = None
        #: How many times ``fetch`` was called (by this process), for tests and benchmarks.
        self.fetch_count = 0

    def __repr__(self) -> str:
        return f"TokenProvider(flow={self.credentials.flow!r}, token={self._token!r})"

    def get_token(self, *, timeout: float | None = None) -> Token:
        """Return a fresh token: the cached one while fresh, otherwise a newly fetched one.

        When several threads find the token stale at once, one fetches while the others wait and
        then get its token. If that fetch fails, the threads that waited for it get the same error
        instead of each sending another request.

        :param timeout: the longest wait, in seconds, for another thread's fetch (the caller's own
            deadline); ``None`` waits as long as that fetch takes (itself bounded by its deadline).
        :raises MdspTimeoutError: another thread's fetch did not finish within ``timeout``.
        """
        token = self._token
        if token is not None and token.is_fresh():
            return token
        seen = self._finished
        if not self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            raise MdspTimeoutError(
                f"Waited {timeout:.3g} s for another thread's {self.credentials.flow} token request; giving up at "
                "this call's deadline (connection field 'response_timeout')",
                request_sent=False,
            )
        with _Release(self._lock):
            token = self._token
            if token is not None and token.is_fresh():
                return token
            if self._finished != seen and self._last_error is not None:
                # A fetch finished (and failed) while this caller waited for the lock.
                raise self._last_error
            try:
                new = self._obtain(token or self._previous)
            except BaseException as exc:
                self._last_error = exc
                raise
            finally:
                self._finished += 1
            self._last_error = None
            if self._on_new_token is not None and not _same(new, token or self._previous):
                self._on_new_token(new)
            self._token = self._previous = new
            return new

    def invalidate(self, token: Token | None = None) -> None:
        """Drop the cached token so the next :meth:`get_token` fetches a new one.

        :param token: the token that was rejected (for example by a 401). The cached token is only
            dropped if it is this one, so a stale 401 does not throw away a token another thread has
            just renewed. ``None`` drops whatever is cached.
        """
        with self._lock:
            current = self._token
            if current is None or (token is not None and not _same(current, token)):
                return
            self._token = None
            log.debug("Dropped the cached %s token", self.credentials.flow)
            if self._shared_cache is not None:
                self._shared_cache.invalidate(self.credentials.identity, current)

    def _obtain(self, previous: Token | None) -> Token:
        if self._shared_cache is None:
            return self._counted_fetch(previous)
        return self._shared_cache.get_or_fetch(
            self.credentials.identity, lambda stored: self._counted_fetch(stored or previous)
        )

    def _counted_fetch(self, previous: Token | None) -> Token:
        self.fetch_count += 1
        return self._fetch(previous)


class _Release:
    """Release an already acquired lock when the block ends."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def _same(a: Token | None, b: Token | None) -> bool:
    # By value, not identity: a token re-read from the file cache is a new object.
    return a is not None and b is not None and a.access_token == b.access_token


_providers: dict[Hashable, TokenProvider] = {}
_providers_lock = threading.Lock()


def get_token_provider(
    credentials: Credentials, fetch: Fetch, *, fetch_key: Hashable = (), **kwargs: Any
) -> TokenProvider:
    """Return the process-wide :class:`TokenProvider` for these credentials, creating it on first use.

    Providers are keyed by the credentials' ``identity`` and by ``fetch_key``: everything else that
    changes how a token is fetched (TLS, CA bundle, proxy, timeouts, retries, shared cache). Hooks
    that agree on both share one provider and so one token; a hook whose proxy or CA bundle differs
    gets its own provider instead of silently using the first one's session.

    :param credentials: the credentials.
    :param fetch: the token fetcher, used only if the provider is created now.
    :param fetch_key: a hashable summary of how ``fetch`` and ``kwargs`` reach the token endpoint.
    :param kwargs: ``shared_cache`` and ``on_new_token``, passed to :class:`TokenProvider`.
    """
    key = (credentials.identity, fetch_key)
    with _providers_lock:
        provider = _providers.get(key)
        if provider is None:
            provider = _providers[key] = TokenProvider(credentials, fetch, **kwargs)
        return provider


def clear_token_providers() -> None:
    """Forget every process-wide provider (for tests, or after credentials were rotated)."""
    with _providers_lock:
        _providers.clear()
