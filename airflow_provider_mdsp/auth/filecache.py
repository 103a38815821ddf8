"""An opt-in token cache shared by the processes of one worker host.

Airflow runs every task in its own process, so an in-process cache alone still costs one token
request per task. With :class:`FileTokenCache`, the processes of a host take an exclusive
``fcntl.flock`` per credential identity, so N tasks starting together make one token request.

Tokens are stored in plain JSON, one file per identity, ``0600`` in a ``0700`` directory owned by
the current user (the same protection as ``~/.netrc``); files are replaced atomically. Where
``fcntl`` is missing (Windows) the cache does nothing and every process fetches its own token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from airflow_provider_mdsp.auth.access_token import Token
from airflow_provider_mdsp.exceptions import MdspConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

#: Environment variable naming the cache directory.
CACHE_DIR_ENV = "MDSP_TOKEN_CACHE_DIR"


def default_cache_dir() -> str:
    """Return ``$MDSP_TOKEN_CACHE_DIR``, or ``{tempdir}/airflow-provider-mdsp-{uid}``."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return configured
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return os.path.join(tempfile.gettempdir(), f"airflow-provider-mdsp-{uid}")


def directory_problem(mode: int, owner: int, my_uid: int) -> str | None:
    """Return why a directory is unsafe for tokens, or ``None`` when it is safe.

    :param mode: ``st_mode`` of the directory.
    :param owner: ``st_uid`` of the directory.
    :param my_uid: the current user's uid.
    """
    if not stat.S_ISDIR(mode):
        return "it is not a directory"
    if owner != my_uid:
        return f"it is owned by uid {owner}, not by the current user (uid {my_uid})"
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"it is writable by group or others (mode {stat.S_IMODE(mode):o})"
    return None


def token_to_json(token: Token) -> str:
    """Serialise a token for the cache file."""
    return json.dumps(dataclasses.asdict(token))


def token_from_json(text: str) -> Token | None:
    """Read a token from a cache file's text, or ``None`` when it is not a valid stored token."""
    try:
        data: Any = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            return None
        return Token(
            access_token=data["access_token"],
            expires_at=float(data["expires_at"]),
            issued_at=float(data["issued_at"]),
            scopes=tuple(str(s) for s in data.get("scopes") or ()),
            refresh_token=_str_or_none(data.get("refresh_token")),
            subtenant=_str_or_none(data.get("subtenant")),
        )
    except (ValueError, TypeError, KeyError):
        return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class FileTokenCache:
    """Share tokens between the processes of one host through files guarded by ``flock``.

    :param directory: where token files live; defaults to :func:`default_cache_dir`. It is created
        ``0700``; an existing one owned by another user or writable by group/others is refused.
    :raises MdspConfigError: the directory is unsafe or cannot be created.
    """

    def __init__(self, directory: str | None = None) -> None:
        self.directory = directory or default_cache_dir()
        self.enabled = fcntl is not None
        if not self.enabled:
            log.warning("fcntl is not available on this platform: tokens are not shared between processes.")
            return
        self._prepare_directory()

    def __repr__(self) -> str:
        return f"FileTokenCache(directory={self.directory!r}, enabled={self.enabled})"

    def _prepare_directory(self) -> None:
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            info = os.stat(self.directory)
        except OSError as exc:
            raise MdspConfigError(
                f"Cannot create the token cache directory {self.directory!r} ({exc.strerror}); "
                f"set {CACHE_DIR_ENV} to a writable directory.",
                field=CACHE_DIR_ENV,
            ) from None
        problem = directory_problem(info.st_mode, info.st_uid, os.getuid())
        if problem:
            raise MdspConfigError(
                f"Refusing to keep tokens in {self.directory!r}: {problem}. Remove it, or set "
                f"{CACHE_DIR_ENV} to a directory only you can write (mode 700).",
                field=CACHE_DIR_ENV,
            )

    def path_for(self, identity: str) -> str:
        """Return the token file of a credential identity (a hash of it; no name from user input).

        :param identity: the credentials' ``identity``.
        """
        name = hashlib.sha256(identity.encode()).hexdigest()[:40]
        return os.path.join(self.directory, name + ".json")

    def get_or_fetch(self, identity: str, fetch: Callable[[Token | None], Token]) -> Token:
        """Return the stored token if fresh; otherwise fetch one, store it and return it, under a lock.

        :param identity: the credentials' ``identity``.
        :param fetch: obtains a new token given the stored one (or ``None``).
        """
        if not self.enabled:
            return fetch(None)
        path = self.path_for(identity)
        with self._locked(path):
            stored = self._read(path)
            if stored is not None and stored.is_fresh():
                return stored
            token = fetch(stored)
            try:
                self._write(path, token)
            except OSError as exc:  # a full disk must not fail the task that just got a token
                log.warning("Could not store the token in %s (%s)", self.directory, exc.strerror)
            return token

    def invalidate(self, identity: str, token: Token) -> None:
        """Remove the stored token, but only if it is ``token`` (another process may have renewed it).

        A token carrying a refresh token is kept as an expired copy instead, so the newest rotated
        refresh token is not lost.

        :param identity: the credentials' ``identity``.
        :param token: the token that was rejected.
        """
        if not self.enabled:
            return
        path = self.path_for(identity)
        with self._locked(path):
            stored = self._read(path)
            if stored is None or stored.access_token != token.access_token:
                return
            if stored.refresh_token:
                self._write(path, dataclasses.replace(stored, expires_at=stored.issued_at))
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)

    @contextlib.contextmanager
    def _locked(self, path: str) -> Iterator[None]:
        assert fcntl is not None
        fd = os.open(path[: -len(".json")] + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _read(self, path: str) -> Token | None:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeError) as exc:
            log.warning("Ignoring unreadable token cache file %s (%s)", path, type(exc).__name__)
            return None
        token = token_from_json(text)
        if token is None:
            log.warning("Ignoring corrupt token cache file %s; it will be replaced", path)
        return token

    def _write(self, path: str, token: Token) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(token_to_json(token))
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
