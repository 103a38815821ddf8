"""The listing operators (subtenants, asset hierarchy, Data Lake objects) share one XCom bound.

A listing feeds ``.expand()`` and has no file to go to: one item past ``max_xcom_records`` stops
reading and fails with advice on how to get fewer, never a silently cut list.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.datalake import MdspListDataLakeObjectsOperator
from airflow_provider_mdsp.operators.hierarchy import MdspListAssetHierarchyOperator
from airflow_provider_mdsp.operators.tenants import MdspListSubtenantsOperator


class Source:
    """An endless listing that counts how many items were read from it."""

    def __init__(self, make: Any) -> None:
        self.make = make
        self.read = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            self.read += 1
            yield self.make(self.read)


def _subtenants(source: Source) -> Any:
    op = MdspListSubtenantsOperator(task_id="t", max_xcom_records=3)
    op.__dict__["hook"] = SimpleNamespace(client=SimpleNamespace(tenants=SimpleNamespace(iter_subtenants=source)))
    return op


def _hierarchy(source: Source) -> Any:
    op = MdspListAssetHierarchyOperator(task_id="t", asset_id="root", max_xcom_records=3)
    model = SimpleNamespace(iter_descendants=source)
    op.__dict__["hook"] = SimpleNamespace(client=SimpleNamespace(asset_model=model))
    return op


def _lake(source: Source) -> Any:
    op = MdspListDataLakeObjectsOperator(task_id="t", folder="plant/", max_xcom_records=3)
    op.__dict__["hook"] = SimpleNamespace(client=SimpleNamespace(datalake=SimpleNamespace(iter_objects=source)))
    return op


@pytest.mark.parametrize(
    ("build", "advice"),
    [
        (_subtenants, "More than 3 subtenants; raise max_xcom_records"),
        (_hierarchy, "More than 3 assets below root; narrow the walk"),
        (_lake, "More than 3 objects below plant/; list a deeper folder"),
    ],
    ids=["subtenants", "hierarchy", "datalake"],
)
def test_a_listing_past_the_bound_stops_reading_and_says_how_to_get_fewer(build: Any, advice: str) -> None:
    source = Source(lambda i: {"id": f"s{i}", "assetId": f"a{i}", "path": f"plant/{i}"})
    with pytest.raises(MdspConfigError, match=advice) as err:
        build(source).execute({})
    assert err.value.field == "max_xcom_records"
    assert source.read == 4  # one past the bound, not the whole (endless) listing


def test_a_listing_within_the_bound_is_returned_whole() -> None:
    op = MdspListSubtenantsOperator(task_id="t", max_xcom_records=3)
    assert op.bounded_list(iter(["a", "b", "c"]), what="subtenants", advice="-") == ["a", "b", "c"]
