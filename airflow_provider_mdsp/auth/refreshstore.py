"""The newest rotated refresh token of a connection, kept where every worker host sees it.

The OAuth 2.0 refresh flow may answer with a new refresh token; a service that revokes a refresh
token once used (as the emulator can, ``refresh_token_reuse: false``) then accepts only the newest
one. A worker host that keeps the rotated token to itself leaves every other host with a dead
token (``HTTP 401 [invalid_token]``). :class:`SharedRefreshToken` keeps it in a
:class:`RefreshTokenStore` (an Airflow Variable on a cluster, see ``hooks/refresh_store.py``; a
file on a shared mount with :class:`FileRefreshTokenStore`) and renews through it:

1. exchange the newest stored refresh token (or the connection's own, when none is stored);
2. if the service rejects it, another host may have just rotated it: re-read the store (a few
   times, within about 8 s) and exchange the newer token found there;
3. store the rotated token with a compare-and-swap: only over the value the exchange started from,
   so a slow host never writes back an older token over a newer one.

Each stored value records which connection token it descends from (a hash, never the token), so a
refresh token pasted anew into the connection wins over the chain of the old one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from typing import Protocol

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.auth.access_token import Token
from airflow_provider_mdsp.exceptions import MdspAuthError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

#: Seconds to wait before each re-read of the store after the service rejected a refresh token.
REREAD_WAITS = (0.2, 0.5, 1.0, 2.0, 4.0)


class RefreshTokenStore(Protocol):
    """Where the newest refresh token of a connection lives; seen by every host."""

    def load(self, key: str) -> str | None:
        """Return the stored text under ``key``, or ``None``."""

    def swap(self, key: str, expected: str | None, new: str) -> bool:
        """Store ``new`` under ``key`` only if the stored text is still ``expected``; tell whether it was."""


def rejected_refresh_token(exc: BaseException) -> bool:
    """Tell whether a token error means "this refresh token is no longer valid" (revoked, expired, unknown).

    UAA answers 401 ``invalid_token``; OAuth 2.0 (RFC 6749 §5.2) says 400 ``invalid_grant``.
    """
    if not isinstance(exc, MdspAuthError):
        return False
    return exc.status in (400, 401) and exc.code in ("invalid_token", "invalid_grant")


def origin_of(refresh_token: str) -> str:
    """Return the non-secret tag of a connection's refresh token: a SHA-256 prefix of it."""
    return hashlib.sha256(refresh_token.encode()).hexdigest()[:32]


def stored_value(origin: str, refresh_token: str) -> str:
    """Return the text stored for a rotated refresh token of the chain ``origin``."""
    return json.dumps({"origin": origin, "refresh_token": refresh_token})


def parse_stored(text: str | None, origin: str) -> str | None:
    """Return the refresh token in a stored text if it descends from ``origin``, else ``None``."""
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("origin") != origin:
        return None
    token = data.get("refresh_token")
    return token if isinstance(token, str) and token else None


class SharedRefreshToken:
    """Renew access tokens through the newest refresh token in a store every host sees.

    :param store: the store.
    :param key: the entry of this connection in the store.
    :param initial: the connection's own refresh token (used while the store has none of its chain).
    :param sleep: waits between re-reads; tests inject a recorder.
    """

    def __init__(
        self, store: RefreshTokenStore, key: str, initial: str, *, sleep: Callable[[float], None] = timeutil.sleep
    ) -> None:
        self.store = store
        self.key = key
        self.initial = initial
        self.origin = origin_of(initial)
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"SharedRefreshToken(store={type(self.store).__name__}, key={self.key!r})"

    def renew(self, exchange: Callable[[str], Token], previous: Token | None = None) -> Token:
        """Exchange the newest known refresh token for a new access token, and store the rotated one.

        :param exchange: sends one refresh request for a refresh token and returns the new token.
        :param previous: this process's last token (its refresh token is tried when the stored one
            is rejected, for a store that could not be written).
        :raises MdspAuthError: every known refresh token was rejected, or the exchange failed otherwise.
        """
        tried: set[str] = set()
        last_error: BaseException | None = None
        for wait in (0.0, *REREAD_WAITS):
            if wait:
                self._sleep(wait)
            raw = self._load()
            candidates = [parse_stored(raw, self.origin), previous.refresh_token if previous else None, self.initial]
            for candidate in candidates:
                if not candidate or candidate in tried:
                    continue
                tried.add(candidate)
                try:
                    token = exchange(candidate)
                except Exception as exc:
                    if not rejected_refresh_token(exc):
                        raise
                    last_error = exc
                    continue
                self._save(raw, candidate, token)
                return token
        assert last_error is not None
        raise last_error

    def _load(self) -> str | None:
        try:
            return self.store.load(self.key)
        except Exception as exc:  # a store outage must not stop a host that still holds a valid token
            log.warning("Could not read the shared refresh token %r: %s", self.key, exc)
            return None

    def _save(self, raw: str | None, used: str, token: Token) -> None:
        rotated = token.refresh_token
        if not rotated or rotated == used:
            return
        try:
            if not self.store.swap(self.key, raw, stored_value(self.origin, rotated)):
                log.info("The shared refresh token %r changed meanwhile; kept the newer one", self.key)
        except Exception as exc:
            log.warning(
                "Could not store the rotated refresh token in %r (%s): other hosts will not see it", self.key, exc
            )


class FileRefreshTokenStore:
    """A :class:`RefreshTokenStore` in a JSON file, swapped under an exclusive ``flock``.

    For a directory every host mounts (NFS locks through the lock manager) or for one host's
    processes; files are ``0600``.

    :param path: the JSON file (an object of key → stored text).
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"FileRefreshTokenStore({self.path!r})"

    def load(self, key: str) -> str | None:
        """Return the stored text under ``key``, or ``None``."""
        with self._locked():
            return self._read().get(key)

    def swap(self, key: str, expected: str | None, new: str) -> bool:
        """Store ``new`` under ``key`` if the stored text is still ``expected``."""
        with self._locked():
            entries = self._read()
            if entries.get(key) != expected:
                return False
            entries[key] = new
            tmp = f"{self.path}.tmp-{os.getpid()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entries, handle)
            os.replace(tmp, self.path)
            return True

    def _read(self) -> dict[str, str]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
