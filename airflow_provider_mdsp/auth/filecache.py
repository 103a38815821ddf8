"""An opt-in token cache shared by the processes of one worker host.

Airflow runs every task in its own process, so an in-process cache alone still costs one token
request per task. With :class:`FileTokenCache`, the processes of a host take an exclusive
``fcntl.flock`` per credential identity, so N tasks starting together make one token request.

Tokens are stored in plain JSON, one file per identity, ``0600`` in a ``0700`` directory owned by
the current user (the same protection as ``~/.netrc``); files are replaced atomically. Where
``fcntl`` is missing (Windows) the cache does nothing and every process fetches its own token.

The directory is checked on every use, not once per process: it is opened without following a
symbolic link and its owner and mode are read from the open handle, and every file in it (token,
lock, temporary file) is opened relative to that handle with ``O_NOFOLLOW``. A directory swapped
for a symlink, or a token file planted by another user, is never used. When the *default*
directory is unusable (another local user created it first), the cache moves to a private
per-user directory and logs why, instead of failing every task.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import logging
import os
import stat
import tempfile
import uuid
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


def fallback_cache_dir() -> str:
    """Return the private per-user directory used when the default one is unusable.

    ``$XDG_CACHE_HOME/airflow-provider-mdsp/tokens``, else ``~/.cache/airflow-provider-mdsp/tokens``.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "airflow-provider-mdsp", "tokens")


#: Open a directory only if it is one and not a symbolic link.
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
#: Never follow a symbolic link planted in place of a cache file.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class UnsafeDirectory(Exception):
    """The cache directory must not hold tokens; the message says why."""


def file_problem(info: os.stat_result, my_uid: int) -> str | None:
    """Return why an opened cache file must not be trusted, or ``None``.

    :param info: ``fstat`` of the open file.
    :param my_uid: the current user's uid.
    """
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file"
    if info.st_uid != my_uid:
        return f"it is owned by uid {info.st_uid}, not by the current user"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"group or others may write it (mode {stat.S_IMODE(info.st_mode):o})"
    return None


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
        ``0700``; an existing one owned by another user, writable by group/others or a symbolic
        link is refused. An unusable *default* directory is replaced by :func:`fallback_cache_dir`.
    :raises MdspConfigError: the directory given (argument or ``MDSP_TOKEN_CACHE_DIR``) is unsafe
        or cannot be created.
    """

    def __init__(self, directory: str | None = None) -> None:
        self._chosen = bool(directory or os.environ.get(CACHE_DIR_ENV))
        self.directory = directory or default_cache_dir()
        self.enabled = fcntl is not None
        if not self.enabled:
            log.warning("fcntl is not available on this platform: tokens are not shared between processes.")
            return
        try:
            self._prepare(self.directory)
        except UnsafeDirectory as exc:
            if self._chosen:
                raise self._config_error(str(exc)) from None
            self._fall_back(str(exc))

    def __repr__(self) -> str:
        return f"FileTokenCache(directory={self.directory!r}, enabled={self.enabled})"

    def _config_error(self, problem: str) -> MdspConfigError:
        return MdspConfigError(
            f"Refusing to keep tokens in {self.directory!r}: {problem}. Remove it, or set "
            f"{CACHE_DIR_ENV} to a directory only you can write (mode 700).",
            field=CACHE_DIR_ENV,
        )

    def _fall_back(self, problem: str) -> None:
        """Move to the private per-user directory, saying why; fail only if that one is unusable too."""
        unusable, self.directory = self.directory, fallback_cache_dir()
        log.warning(
            "The default token cache directory %s is unusable (%s); using %s instead. Set %s to choose one.",
            unusable,
            problem,
            self.directory,
            CACHE_DIR_ENV,
        )
        try:
            self._prepare(self.directory)
        except UnsafeDirectory as exc:
            raise self._config_error(str(exc)) from None

    @staticmethod
    def _prepare(directory: str) -> None:
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise UnsafeDirectory(f"it cannot be created ({exc.strerror})") from None
        os.close(_open_directory(directory))

    def path_for(self, identity: str) -> str:
        """Return the token file of a credential identity (a hash of it; no name from user input).

        :param identity: the credentials' ``identity``.
        """
        return os.path.join(self.directory, _file_name(identity))

    def get_or_fetch(self, identity: str, fetch: Callable[[Token | None], Token]) -> Token:
        """Return the stored token if fresh; otherwise fetch one, store it and return it, under a lock.

        When the directory has become unsafe since the last use, the token is fetched and not
        shared (nothing is read from or written to that directory).

        :param identity: the credentials' ``identity``.
        :param fetch: obtains a new token given the stored one (or ``None``).
        """
        if not self.enabled:
            return fetch(None)
        name = _file_name(identity)
        with self._directory() as dir_fd:
            if dir_fd is None:
                return fetch(None)
            with _locked(dir_fd, name) as locked:
                if not locked:
                    return fetch(None)
                stored = _read(dir_fd, name)
                if stored is not None and stored.is_fresh():
                    return stored
                token = fetch(stored)
                try:
                    _write(dir_fd, name, token)
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
        name = _file_name(identity)
        with self._directory() as dir_fd:
            if dir_fd is None:
                return
            with _locked(dir_fd, name) as locked:
                stored = _read(dir_fd, name) if locked else None
                if stored is None or stored.access_token != token.access_token:
                    return
                if stored.refresh_token:
                    _write(dir_fd, name, dataclasses.replace(stored, expires_at=stored.issued_at))
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(name, dir_fd=dir_fd)

    @contextlib.contextmanager
    def _directory(self) -> Iterator[int | None]:
        """Open and check the directory for this one use; ``None`` when it must not be used now."""
        try:
            dir_fd = _open_directory(self.directory)
        except UnsafeDirectory as exc:
            if self._chosen or self.directory == fallback_cache_dir():
                log.warning("Not sharing tokens through %s: %s", self.directory, exc)
                yield None
                return
            self._fall_back(str(exc))
            dir_fd = _open_directory(self.directory)
        try:
            yield dir_fd
        finally:
            os.close(dir_fd)


def _file_name(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()[:40] + ".json"


def _open_directory(directory: str) -> int:
    """Open a directory without following a symlink and check its owner and mode on the handle."""
    try:
        dir_fd = os.open(directory, _DIR_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(directory):
            raise UnsafeDirectory("it is a symbolic link") from None
        if exc.errno == errno.ENOTDIR:
            raise UnsafeDirectory("it is not a directory") from None
        raise UnsafeDirectory(f"it cannot be opened ({exc.strerror})") from None
    info = os.fstat(dir_fd)
    problem = directory_problem(info.st_mode, info.st_uid, os.getuid())
    if problem:
        os.close(dir_fd)
        raise UnsafeDirectory(problem)
    return dir_fd


@contextlib.contextmanager
def _locked(dir_fd: int, name: str) -> Iterator[bool]:
    """Hold the identity's lock; yield ``False`` (and hold nothing) when the lock file is unsafe."""
    assert fcntl is not None
    lock = name[: -len(".json")] + ".lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600, dir_fd=dir_fd)
    except OSError as exc:
        why = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        log.warning("Not sharing tokens: cannot open the lock file %s (%s)", lock, why)
        yield False
        return
    try:
        problem = file_problem(os.fstat(fd), os.getuid())
        if problem:
            log.warning("Not sharing tokens: the lock file %s is unsafe (%s)", lock, problem)
            yield False
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def _read(dir_fd: int, name: str) -> Token | None:
    try:
        fd = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning(
            "Ignoring token cache file %s (%s)", name, "a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        )
        return None
    with os.fdopen(fd, "rb") as fh:
        problem = file_problem(os.fstat(fh.fileno()), os.getuid())
        if problem:
            log.warning("Ignoring token cache file %s: %s", name, problem)
            return None
        try:
            text = fh.read().decode("utf-8")
        except (OSError, UnicodeError) as exc:
            log.warning("Ignoring unreadable token cache file %s (%s)", name, type(exc).__name__)
            return None
    token = token_from_json(text)
    if token is None:
        log.warning("Ignoring corrupt token cache file %s; it will be replaced", name)
    return token


def _write(dir_fd: int, name: str, token: Token) -> None:
    tmp = f".tmp-{uuid.uuid4().hex}.json"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token_to_json(token))
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
