"""The shared refresh-token store of a cluster: an Airflow Variable, which every host can read.

Airflow encrypts Variables at rest (with its Fernet key) and hides the values of keys containing
``token`` in the UI and API. The refresh flow of a connection ``conn_id`` keeps its newest rotated
refresh token in the Variable ``mdsp_refresh_token_<conn_id>``
(:class:`~airflow_provider_mdsp.auth.refreshstore.SharedRefreshToken` holds the logic).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_mdsp.auth.refreshstore import SharedRefreshToken

#: Prefix of the Variable that holds a connection's newest refresh token.
VARIABLE_PREFIX = "mdsp_refresh_token_"


def refresh_token_variable(conn_id: str) -> str:
    """Return the name of the Variable holding the newest refresh token of connection ``conn_id``."""
    return VARIABLE_PREFIX + conn_id


class VariableRefreshTokenStore:
    """A refresh-token store in Airflow Variables (through the Task SDK, as tasks and triggers reach them).

    Airflow Variables offer no atomic compare-and-swap, so :meth:`swap` re-reads the Variable and
    writes only over the value the exchange started from. With a service that revokes used refresh
    tokens this is enough: only the host whose exchange succeeded holds the next token, so the
    service itself orders the writes, and a host that read an older value is refused by the service
    and re-reads. The one window left, two hosts exchanging the same token on a service that does
    not revoke it, ends with either host's token stored, and both are valid.
    """

    def load(self, key: str) -> str | None:
        """Return the Variable's value, or ``None`` when it does not exist."""
        from airflow.sdk import Variable

        value = Variable.get(key, default=None)
        return None if value is None else str(value)

    def swap(self, key: str, expected: str | None, new: str) -> bool:
        """Set the Variable to ``new`` if it still holds ``expected``; tell whether it was set."""
        from airflow.sdk import Variable

        if self.load(key) != expected:
            return False
        Variable.set(key, new, description="Newest refresh token of an mdsp connection (airflow-provider-mdsp)")
        return True


def shared_refresh_token(conn_id: str, initial: str) -> SharedRefreshToken:
    """Return the :class:`SharedRefreshToken` of a connection, kept in its Variable.

    :param conn_id: the connection id.
    :param initial: the connection's refresh token.
    """
    from airflow_provider_mdsp.auth.refreshstore import SharedRefreshToken

    return SharedRefreshToken(VariableRefreshTokenStore(), refresh_token_variable(conn_id), initial)
