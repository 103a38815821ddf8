"""Operator for Tenant Management: list the subtenants, to fan work out one mapped task per subtenant.

Source: Node SDK sdk/tenant/tenant-management.ts ``GetSubtenants`` (paged). Each mapped task then reads
its subtenant's data through the same connection with ``sub_tenant=…`` (impersonation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.operators.base import MdspListOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

#: What each subtenant holds in the full result (``ids_only=False``).
SUBTENANT_KEYS = ("id", "displayName", "description", "entityId")


class MdspListSubtenantsOperator(MdspListOperator):
    """List the tenant's subtenants, all pages; by default their ids, ready for ``.expand(sub_tenant=…)``.

    :param ids_only: return ``["sub1", …]``; ``False`` returns ``[{"id", "displayName", "description", "entityId"}]``.
    :param max_xcom_records: the most subtenants returned; more fails the task with advice.
    """

    def __init__(self, *, ids_only: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ids_only = ids_only

    def execute(self, context: Context) -> list[Any]:
        """Page through the subtenants."""
        subtenants = self.hook.client.tenants.iter_subtenants()
        found: list[Any] = self.bounded_list(
            (str(s.get("id")) if self.ids_only else {k: s.get(k) for k in SUBTENANT_KEYS} for s in subtenants),
            what="subtenants",
            advice="raise max_xcom_records",
        )
        self.log.info("Found %d subtenants", len(found))
        return found
