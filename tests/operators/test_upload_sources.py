"""Upload sources: IoT File and Data Lake uploads take one of local_path and source_path, naming a missing one."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.datalake import MdspDataLakeUploadOperator
from airflow_provider_mdsp.operators.files import MdspUploadFileOperator
from tests.helpers.gateway import ASSET, connect, context

UPLOADS = {
    "iot_file": lambda **kw: MdspUploadFileOperator(task_id="up", entity_id=ASSET, file_path="r/day.csv", **kw),
    "data_lake": lambda **kw: MdspDataLakeUploadOperator(task_id="up", lake_path="r/day.csv", **kw),
}


@pytest.fixture
def gateway(mdsp_connection, requests_mock):
    return connect(mdsp_connection, requests_mock)


@pytest.mark.parametrize("kind", sorted(UPLOADS))
@pytest.mark.parametrize("given", [{}, {"local_path": "a.csv", "source_path": "file:///b.csv"}, {"local_path": ""}])
def test_upload_wants_exactly_one_source(gateway, kind, given):
    with pytest.raises(MdspConfigError, match="Give exactly one of local_path and source_path") as err:
        UPLOADS[kind](**given).execute(context())
    assert err.value.field == "local_path"


@pytest.mark.parametrize("kind", sorted(UPLOADS))
@pytest.mark.parametrize("param", ["local_path", "source_path"])
def test_a_missing_source_file_names_the_parameter_that_gave_it(gateway, requests_mock, tmp_path, kind, param):
    missing = tmp_path / "gone.csv"
    value = str(missing) if param == "local_path" else missing.as_uri()
    with pytest.raises(MdspConfigError, match=r"The source file .*gone\.csv does not exist") as err:
        UPLOADS[kind](**{param: value}).execute(context())
    assert err.value.field == param
    assert not [r for r in requests_mock.request_history if r.method in ("PUT", "POST")]
