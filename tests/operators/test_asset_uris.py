"""The ``mdsp://`` asset URI scheme: one spelling per asset/aspect or file, bad URIs refused."""

from __future__ import annotations

import pytest
from airflow.sdk import Asset

from airflow_provider_mdsp.assets import file_asset_uri, gateway_host, timeseries_asset, timeseries_asset_uri
from airflow_provider_mdsp.get_provider_info import get_provider_info

PUMP = "0123456789abcdef0123456789abcdef"


def test_the_scheme_is_registered_with_airflow():
    assert {"schemes": ["mdsp"], "handler": "airflow_provider_mdsp.assets.sanitize_uri"} in get_provider_info()[
        "asset-uris"
    ]


@pytest.mark.parametrize(
    "typed",
    [
        f"mdsp://gateway.eu1.mindsphere.io/{PUMP}/Vibration",
        f"mdsp://Gateway.EU1.mindsphere.io:443/{PUMP.upper()}/Vibration/",
        f"MDSP://gateway.eu1.mindsphere.io/{PUMP}/Vibration#ignored",
    ],
)
def test_airflow_normalises_every_spelling_to_one_uri(typed):
    assert Asset(typed).uri == f"mdsp://gateway.eu1.mindsphere.io/{PUMP}/Vibration"


def test_helpers_build_the_normalised_uri_and_keep_aspect_case_and_odd_characters():
    assert timeseries_asset_uri("https://gateway.eu1.mindsphere.io", PUMP, "Vibration") == (
        f"mdsp://gateway.eu1.mindsphere.io/{PUMP}/Vibration"
    )
    assert timeseries_asset_uri("127.0.0.1:8080", "A1", "My Aspect/x") == "mdsp://127.0.0.1:8080/a1/My%20Aspect%2Fx"
    assert file_asset_uri("gw", PUMP, "/reports/2026 05.csv") == f"mdsp://gw/{PUMP}/files/reports/2026%2005.csv"
    asset = timeseries_asset("gw", PUMP, "Vibration")
    assert asset.uri == asset.name == f"mdsp://gw/{PUMP}/Vibration"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (f"mdsp:///{PUMP}/Vibration", "gateway host"),
        (f"mdsp://gw/{PUMP}", "must be"),
        (f"mdsp://gw/{PUMP}/Vibration/extra", "too many"),
        (f"mdsp://gw/{PUMP}/Vibration?x=1", "no query"),
        (f"mdsp://bad_host!/{PUMP}/Vibration", "host name"),
    ],
)
def test_malformed_uris_are_refused_with_the_expected_form(uri, message):
    with pytest.raises(ValueError, match=message):
        Asset(uri)


@pytest.mark.parametrize(
    ("written", "asset_path"),
    [
        ("reports/day.csv", "reports/day.csv"),
        ("/reports//day.csv", "reports/day.csv"),
        ("reports/{{ ds }}.csv", "reports/"),
        ("reports/day-{{ ds }}.csv", "reports/"),
        ("imports/{{ ds }}/readings.json", "imports/"),
        ("a/b/{% if x %}c{% endif %}/d.csv", "a/b/"),
        ("{{ ds }}/day.csv", "/"),
        (None, "/"),
    ],
)
def test_an_uploads_asset_is_the_part_of_its_path_every_run_shares(written, asset_path):
    from airflow_provider_mdsp.assets import stable_file_path

    assert stable_file_path(written) == asset_path


def test_folder_and_every_file_assets_end_in_a_star_that_airflow_keeps():
    assert file_asset_uri("gw", PUMP, "reports/") == f"mdsp://gw/{PUMP}/files/reports/*"
    assert file_asset_uri("gw", PUMP, "/") == f"mdsp://gw/{PUMP}/files/*"
    assert Asset(file_asset_uri("GW", PUMP.upper(), "reports/")).uri == f"mdsp://gw/{PUMP}/files/reports/*"
    assert Asset(f"mdsp://gw/{PUMP}/files/reports/day.csv").uri == f"mdsp://gw/{PUMP}/files/reports/day.csv"
    with pytest.raises(ValueError, match="every file"):
        file_asset_uri("gw", PUMP, "")


def test_gateway_host_drops_scheme_user_and_default_port():
    assert gateway_host("https://user@GATEWAY.eu1.mindsphere.io:443/path") == "gateway.eu1.mindsphere.io"
    assert gateway_host("http://127.0.0.1:53211") == "127.0.0.1:53211"
    with pytest.raises(ValueError):
        gateway_host("")


def test_file_operators_declare_their_files_as_assets():
    from airflow.sdk import AssetAlias

    from airflow_provider_mdsp.assets import file_asset_uri
    from airflow_provider_mdsp.operators.files import MdspDownloadFileOperator, MdspUploadFileOperator

    host = "gateway.eu1.mindsphere.io"
    uri = file_asset_uri(host, "a" * 32, "reports/day.csv")
    assert uri == f"mdsp://{host}/{'a' * 32}/files/reports/day.csv"
    upload = MdspUploadFileOperator(
        task_id="up", entity_id="a" * 32, file_path="reports/day.csv", local_path="/tmp/x", gateway_host=host
    )
    assert [o.uri for o in upload.outlets] == [uri]
    download = MdspDownloadFileOperator(
        task_id="down", entity_id="a" * 32, file_path="reports/day.csv", output_path="/tmp/x", gateway_host=host
    )
    assert [i.uri for i in download.inlets] == [uri]
    templated = MdspUploadFileOperator(
        task_id="up2", entity_id="a" * 32, file_path="reports/{{ ds }}.csv", local_path="/tmp/x"
    )
    assert [type(o) for o in templated.outlets] == [AssetAlias]  # the concrete file is known at run time


def test_one_configured_gateway_host_lets_literal_ids_declare_their_asset_without_an_alias(monkeypatch):
    from airflow.sdk import AssetAlias

    from airflow_provider_mdsp.operators.files import MdspUploadFileOperator
    from airflow_provider_mdsp.operators.timeseries import MdspWriteTimeSeriesOperator

    monkeypatch.setenv("AIRFLOW__MDSP__GATEWAY_HOST", "gateway.eu1.mindsphere.io")
    write = MdspWriteTimeSeriesOperator(task_id="w", asset_id="a" * 32, aspect="PumpData", records=[])
    assert [o.uri for o in write.outlets] == [timeseries_asset_uri("gateway.eu1.mindsphere.io", "a" * 32, "PumpData")]
    templated = MdspUploadFileOperator(task_id="up", entity_id="a" * 32, file_path="r/{{ ds }}.csv", local_path="/x")
    # A templated file name updates its folder's asset, known at parse time: no alias.
    assert [o.uri for o in templated.outlets] == [f"mdsp://gateway.eu1.mindsphere.io/{'a' * 32}/files/r/*"]
    other = MdspUploadFileOperator(task_id="up2", entity_id="{{ params.a }}", file_path="r/x.csv", local_path="/x")
    assert [type(o) for o in other.outlets] == [AssetAlias]  # a templated asset id is known only at run time


def test_asset_events_give_every_event_its_uri_also_behind_an_alias():
    from types import SimpleNamespace

    from airflow.sdk import AssetAlias

    from airflow_provider_mdsp.assets import asset_events

    uri = file_asset_uri("gw.example.com", "a" * 32, "r/day.csv")
    event = SimpleNamespace(asset=SimpleNamespace(uri=uri), extra={"path": "r/day.csv", "etag": "3"}, timestamp="t2")
    older = SimpleNamespace(asset=SimpleNamespace(uri=uri), extra={"path": "r/day.csv", "etag": "2"}, timestamp="t1")

    class TriggeringEvents:  # Airflow's accessor: keyed by the alias (unhashable on Airflow 3.1)
        def items(self):
            return [(AssetAlias("mdsp-writes:d.up"), [event, older])]

    found = asset_events(TriggeringEvents())
    assert [(e["uri"], e["extra"]["etag"]) for e in found] == [(uri, "2"), (uri, "3")]
    assert asset_events(None) == []
