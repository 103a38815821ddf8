"""Waiting in the worker: one polling loop for the operators that wait for a job to end."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from airflow_provider_mdsp.timeutil import monotonic, sleep

T = TypeVar("T")


def poll_until(check: Callable[[], T | None], *, timeout: float, poll_interval: float) -> T | None:
    """Call ``check`` until it returns a value, sleeping ``poll_interval`` between calls, on the provider's clock.

    :param check: returns ``None`` while not done.
    :param timeout: longest wait in seconds.
    :param poll_interval: seconds between calls (the last sleep is cut to the deadline).
    :return: the value, or ``None`` when ``timeout`` passed first.
    """
    deadline = monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        remaining = deadline - monotonic()
        if remaining <= 0:
            return None
        sleep(min(poll_interval, remaining))
