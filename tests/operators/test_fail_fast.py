"""Configuration and authentication errors fail the task at once: no Airflow retry can fix them."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.exceptions import MdspAuthError, MdspConfigError, MdspServerError
from airflow_provider_mdsp.operators.base import AirflowFailException
from airflow_provider_mdsp.operators.generic import MdspApiOperator
from airflow_provider_mdsp.sensors.events import MdspEventSensor
from tests.helpers.mock_gateway import GATEWAY, TOKEN_URL, connect

ROOT = "/api/assetmanagement/v3/assets/root"


def test_a_malformed_connection_fails_the_task_with_its_message_and_field(mdsp_connection):
    mdsp_connection(host=GATEWAY, login="cid", password="secret-value", extra={"tenant": "acme", "timeout": "soon"})
    with pytest.raises(AirflowFailException) as err:
        MdspApiOperator(task_id="root", endpoint=ROOT).execute({})
    assert isinstance(err.value, MdspConfigError)
    assert type(err.value).__name__ == "MdspConfigError"
    assert err.value.field == "timeout"
    expected = "Connection 'mdsp_default': Connection field 'timeout' must be a number of seconds, not 'soon'"
    assert str(err.value) == expected


def test_refused_credentials_fail_the_task(mdsp_connection, requests_mock):
    connect(mdsp_connection, requests_mock)
    requests_mock.post(TOKEN_URL, status_code=401, json={"error": "invalid_client"})
    with pytest.raises(AirflowFailException) as err:
        MdspApiOperator(task_id="root", endpoint=ROOT).execute({})
    assert isinstance(err.value, MdspAuthError)
    assert (err.value.status, err.value.code) == (401, "invalid_client")
    assert "rejected the credentials" in str(err.value)


def test_a_sensor_with_a_bad_parameter_fails_instead_of_poking_again(gateway_connection):
    sensor = MdspEventSensor(task_id="wait", type_id="acme.Alarm", after="yesterday")
    with pytest.raises(AirflowFailException, match="after"):
        sensor.poke({})


def test_errors_a_retry_can_fix_stay_retryable(mdsp_connection, requests_mock):
    extra = {"tenant": "acme", "max_retries": 0}
    mdsp_connection(host=GATEWAY, login="acme-tech", password="s3cret", extra=extra)
    requests_mock.post(TOKEN_URL, json={"access_token": "tok", "token_type": "Bearer", "expires_in": 1800})
    requests_mock.get(f"{GATEWAY}{ROOT}", status_code=503, json={"message": "busy"})
    with pytest.raises(MdspServerError) as err:
        MdspApiOperator(task_id="root", endpoint=ROOT).execute({})
    assert not isinstance(err.value, AirflowFailException)


@pytest.fixture
def gateway_connection(mdsp_connection, requests_mock):
    return connect(mdsp_connection, requests_mock)
