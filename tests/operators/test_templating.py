"""Templating, mapping and Airflow assets of the operators, without a database."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from airflow.sdk import DAG, Asset, AssetAlias

from airflow_provider_mdsp.operators.aggregates import MdspReadAggregatesOperator
from airflow_provider_mdsp.operators.assets import MdspListAssetsOperator, MdspUpdateAssetOperator
from airflow_provider_mdsp.operators.generic import MdspApiOperator
from airflow_provider_mdsp.operators.timeseries import (
    MdspReadTimeSeriesOperator,
    MdspWriteTimeSeriesMultiOperator,
    MdspWriteTimeSeriesOperator,
)
from tests.helpers.gateway import FakeOutletEvents
from tests.helpers.mock_gateway import PUMP, PUMP2

HOST = "gateway.eu1.mindsphere.io"
CONTEXT = {
    "ds": "2026-05-01",
    "data_interval_start": datetime(2026, 5, 1, tzinfo=timezone.utc),
    "data_interval_end": datetime(2026, 5, 2, tzinfo=timezone.utc),
    "params": {"pump": PUMP, "aspect": "Vibration"},
}


def dag(**kwargs):
    return DAG("templating", schedule=None, start_date=datetime(2026, 1, 1), **kwargs)


def test_read_renders_ids_window_variables_and_path():
    with dag():
        op = MdspReadTimeSeriesOperator(
            task_id="read",
            asset_id="{{ params.pump }}",
            aspect="{{ params.aspect }}",
            variables=["{{ params.aspect | lower }}_rms"],
            from_time="{{ data_interval_start }}",
            to_time="{{ data_interval_end }}",
            output_path="file:///data/{{ ds }}/{{ task.asset_id }}.jsonl",
        )
    op.render_template_fields({**CONTEXT, "task": op})  # ids render first, so the path sees them
    assert (op.asset_id, op.aspect, op.variables) == (PUMP, "Vibration", ["vibration_rms"])
    assert op.from_time == "2026-05-01 00:00:00+00:00"
    assert op.output_path == f"file:///data/2026-05-01/{PUMP}.jsonl"


def test_json_fields_have_json_renderers():
    assert MdspApiOperator.template_fields_renderers["json"] == "json"
    assert MdspApiOperator.template_fields_renderers["query"] == "json"
    assert MdspListAssetsOperator.template_fields_renderers == {"filter": "json"}
    assert MdspUpdateAssetOperator.template_fields_renderers == {"changes": "json"}


def test_generic_and_list_templates_render_inside_structures():
    with dag():
        api = MdspApiOperator(
            task_id="api", endpoint="/api/x/{{ params.pump }}", query={"day": "{{ ds }}"}, json={"a": "{{ ds }}"}
        )
        assets = MdspListAssetsOperator(task_id="list", filter={"name": {"startsWith": "{{ params.aspect }}"}})
    api.render_template_fields(CONTEXT)
    assets.render_template_fields(CONTEXT)
    assert (api.endpoint, api.query, api.json) == (f"/api/x/{PUMP}", {"day": "2026-05-01"}, {"a": "2026-05-01"})
    assert assets.filter == {"name": {"startsWith": "Vibration"}}


def test_records_from_a_template_stay_native_with_render_template_as_native_obj():
    with dag(render_template_as_native_obj=True) as d:
        op = MdspWriteTimeSeriesOperator(
            task_id="w", asset_id=PUMP, aspect="Vibration", records="{{ [{'_time': ds ~ 'T00:00:00Z', 'v': 1}] }}"
        )
    op.render_template_fields(CONTEXT, jinja_env=d.get_template_env())
    assert op.records == [{"_time": "2026-05-01T00:00:00Z", "v": 1}]


def test_aggregates_interval_fields_are_templated():
    with dag():
        op = MdspReadAggregatesOperator(
            task_id="agg", asset_id=PUMP, aspect="Vibration", interval_unit="{{ 'day' }}", interval_value="{{ 1 + 1 }}"
        )
    op.render_template_fields(CONTEXT)
    assert (op.interval_unit, op.interval_value) == ("day", "2")


@pytest.mark.parametrize(
    "operator",
    [MdspReadTimeSeriesOperator, MdspReadAggregatesOperator, MdspWriteTimeSeriesOperator],
)
def test_every_time_series_operator_maps_over_assets(operator):
    with dag():
        mapped = operator.partial(task_id="m", aspect="Vibration").expand(asset_id=[PUMP, PUMP2])
        by_kwargs = operator.partial(task_id="k").expand_kwargs(
            [{"asset_id": PUMP, "aspect": "Vibration"}, {"asset_id": PUMP2, "aspect": "Motor"}]
        )
    assert mapped.expand_input.value == {"asset_id": [PUMP, PUMP2]}
    unmapped = mapped.unmap({"asset_id": PUMP2})
    assert (unmapped.asset_id, unmapped.aspect) == (PUMP2, "Vibration")
    assert by_kwargs.unmap({"asset_id": PUMP2, "aspect": "Motor"}).aspect == "Motor"


def test_other_operators_map_too():
    with dag():
        api = MdspApiOperator.partial(task_id="api").expand(endpoint=["/a", "/b"])
        listing = MdspListAssetsOperator.partial(task_id="list").expand(type_id=["acme.Pump", "acme.Motor"])
        update = MdspUpdateAssetOperator.partial(task_id="u", changes={"x": 1}).expand(asset_id=[PUMP, PUMP2])
        multi = MdspWriteTimeSeriesMultiOperator.partial(task_id="multi").expand(items=[[], []])
    assert api.unmap({"endpoint": "/b"}).endpoint == "/b"
    assert listing.unmap({"type_id": "acme.Motor"}).type_id == "acme.Motor"
    unmapped = update.unmap({"asset_id": PUMP2})
    assert (unmapped.asset_id, unmapped.changes) == (PUMP2, {"x": 1})
    assert multi.unmap({"items": []}).items == []


# --- Airflow assets ------------------------------------------------------------------------------


def test_a_writer_with_literal_ids_and_a_host_declares_the_asset_at_parse_time():
    with dag():
        op = MdspWriteTimeSeriesOperator(task_id="w", asset_id=PUMP, aspect="Vibration", records=[], gateway_host=HOST)
    assert op.outlets == [Asset(f"mdsp://{HOST}/{PUMP}/Vibration")]


def test_a_templated_writer_declares_an_alias_and_emits_the_asset_at_run_time():
    with dag():
        op = MdspWriteTimeSeriesOperator(task_id="w", asset_id="{{ params.pump }}", aspect="Vibration", records=[])
    (alias,) = op.outlets
    assert alias == AssetAlias("mdsp-writes:templating.w")
    events = FakeOutletEvents()
    op._assets.gateway_host = "https://GATEWAY.eu1.mindsphere.io/"
    op._assets.emit({"outlet_events": events}, [(PUMP, "Vibration")], extra={"records": 3})
    assert events.added == [(alias.name, f"mdsp://{HOST}/{PUMP}/Vibration", {"records": 3})]


def test_a_mapped_writer_always_uses_the_alias():
    with dag():
        mapped = MdspWriteTimeSeriesOperator.partial(
            task_id="w", aspect="Vibration", records=[], gateway_host=HOST
        ).expand(asset_id=[PUMP])
    assert mapped.unmap({"asset_id": PUMP}).outlets == [AssetAlias("mdsp-writes:templating.w")]


def test_readers_declare_literal_assets_as_inlets_only():
    with dag():
        op = MdspReadTimeSeriesOperator(task_id="r", asset_id=PUMP, aspect="Vibration", gateway_host=HOST)
        templated = MdspReadTimeSeriesOperator(task_id="t", asset_id="{{ params.pump }}", aspect="V", gateway_host=HOST)
    assert op.inlets == [Asset(f"mdsp://{HOST}/{PUMP}/Vibration")]
    assert op.outlets == []
    assert templated.inlets == []


@pytest.mark.parametrize(
    ("module", "name", "kwargs"),
    [
        ("timeseries", "MdspReadTimeSeriesOperator", {"aspect": "PumpData"}),
        ("aggregates", "MdspReadAggregatesOperator", {"aspect": "PumpData"}),
        ("events", "MdspQueryEventsOperator", {}),
    ],
)
def test_mapped_reads_take_their_window_in_partial_and_expand(module, name, kwargs):
    """Airflow checks mapped arguments against operator classes' ``__init__``: the window's must be found."""
    import importlib

    from airflow.sdk import DAG

    operator = getattr(importlib.import_module(f"airflow_provider_mdsp.operators.{module}"), name)
    window = {"from_time": "{{ data_interval_start }}", "to_time": "{{ data_interval_end }}", "lookback": None}
    with DAG(f"windows_{module}", schedule=None):
        operator.partial(task_id="partial", **kwargs, **window).expand(sub_tenant=["a", "b"])
        operator.partial(task_id="expanded", **kwargs).expand(from_time=["2026-05-01T00:00:00Z"])


def _task_classes():
    import importlib
    import inspect
    import pkgutil

    import airflow_provider_mdsp.operators as operators
    import airflow_provider_mdsp.sensors as sensors
    from airflow_provider_mdsp.operators.base import MdspBaseOperator

    found = {}
    for package in (operators, sensors):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for name, klass in inspect.getmembers(module, inspect.isclass):
                if issubclass(klass, MdspBaseOperator) and klass.__module__ == module.__name__:
                    found[name] = klass
    return sorted(found.items())


@pytest.mark.parametrize(("name", "klass"), _task_classes(), ids=[name for name, _ in _task_classes()])
def test_every_operator_and_sensor_templates_its_connection_and_subtenant(name, klass):
    assert klass.template_fields[:2] == ("mdsp_conn_id", "sub_tenant"), name


def _read_operators():
    from airflow_provider_mdsp.operators.base import MdspReadOperator

    return [(name, klass) for name, klass in _task_classes() if issubclass(klass, MdspReadOperator)]


@pytest.mark.parametrize(("name", "klass"), _read_operators(), ids=[name for name, _ in _read_operators()])
def test_every_read_operator_renders_its_output_path_last(name, klass):
    assert klass.template_fields[-1] == "output_path", name
    assert klass.template_fields.count("output_path") == 1, name


@pytest.mark.parametrize(
    ("module", "name", "kwargs"),
    [("operators.events", "MdspQueryEventsOperator", {}), ("sensors.events", "MdspEventSensor", {})],
)
def test_event_tasks_take_their_filter_in_partial_and_expand(module, name, kwargs):
    """The filter parameters live in EventFilterMixin; Airflow must find them for mapped tasks too."""
    import importlib

    from airflow.sdk import DAG

    task = getattr(importlib.import_module(f"airflow_provider_mdsp.{module}"), name)
    terms = {"filter": {"severity": 1}, "type_id": "acme.Alarm", "entity_id": "{{ params.pump }}"}
    with DAG(f"filters_{name}", schedule=None):
        task.partial(task_id="partial", **terms).expand(sub_tenant=["a", "b"])
        task.partial(task_id="expanded", type_id="acme.Alarm").expand(entity_id=["p1", "p2"])
