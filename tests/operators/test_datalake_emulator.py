"""Data Lake upload against the emulator: an object the lake refuses as too large fails with the lake's reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_mdsp.exceptions import MdspBadRequestError
from airflow_provider_mdsp.operators.datalake import MdspDataLakeUploadOperator
from tests.helpers.gateway import context, live_emulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    with live_emulator() as emulator:
        yield emulator


def test_an_upload_above_the_lake_limit_fails_naming_the_reason_without_the_signed_url(emu, tmp_path, monkeypatch):
    from airflow_provider_mdsp.emulator.services.datalake import storage_routes

    monkeypatch.setattr(storage_routes, "MAX_OBJECT_BYTES", 1024)  # the lake's 5 GB, shrunk
    source = tmp_path / "kpi.csv"
    source.write_bytes(b"x" * 2048)
    upload = MdspDataLakeUploadOperator(task_id="up", lake_path="reports/kpi.csv", local_path=str(source))
    with pytest.raises(MdspBadRequestError) as err:
        upload.execute(context())
    assert (err.value.status, err.value.code) == (400, "EntityTooLarge")
    message = str(err.value)
    assert message.endswith("/reports/kpi.csv: HTTP 400 [EntityTooLarge] " + storage_routes.TOO_LARGE)
    assert "X-Signature" not in message
    assert "?" not in message
