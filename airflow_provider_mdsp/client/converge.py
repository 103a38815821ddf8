"""Lost replies: whether a failed write may have taken effect, and how each write checks for it.

A write whose answer never arrived (a read timeout, a connection cut after the request left, a
502/504 from the gateway) may or may not have happened. Resending it blindly duplicates events,
assets and import jobs, or fails for ever on "already exists". Every write of the client instead
looks up what the first try may have done before doing it again; the event client was the model,
files, assets and import jobs follow it.
"""

from __future__ import annotations

from airflow_provider_mdsp.exceptions import MdspApiError, MdspConnectionError

#: Gateway answers after which the write may or may not have happened (the service may have acted).
AMBIGUOUS_STATUSES = frozenset({502, 504})


def is_ambiguous(exc: BaseException) -> bool:
    """Tell whether a failed write may nevertheless have taken effect.

    True for a read timeout or a connection dropped after the request was sent, and for 502/504
    from the gateway; false for errors raised before sending and for definite refusals.

    :param exc: what the write raised.
    """
    if isinstance(exc, MdspApiError):
        return exc.status in AMBIGUOUS_STATUSES
    if isinstance(exc, MdspConnectionError):
        return exc.request_sent
    return False
