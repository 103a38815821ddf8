"""Airflow finds the provider: entry point, schema-valid metadata, the connection form, importable modules."""

from __future__ import annotations

import importlib
import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from airflow_provider_mdsp.get_provider_info import AUTH_TYPES, CONN_FIELDS, get_provider_info


def test_metadata_is_valid_against_airflows_schema():
    import airflow
    import jsonschema

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_entry_point_is_installed_and_the_providers_manager_lists_us():
    from airflow.providers_manager import ProvidersManager

    names = {ep.value for ep in entry_points(group="apache_airflow_provider")}
    assert "airflow_provider_mdsp.get_provider_info:get_provider_info" in names
    assert "airflow-provider-mdsp" in ProvidersManager().providers


def test_an_mdsp_connection_builds_our_hook_as_the_connection_test_does():
    from airflow.models.connection import Connection

    from airflow_provider_mdsp.hooks.mdsp import MdspHook

    conn = Connection(conn_id="mdsp_ui_test", conn_type="mdsp", host="eu1", extra=json.dumps({"tenant": "acme"}))
    assert isinstance(conn.get_hook(), MdspHook)


def test_every_module_and_class_named_in_the_metadata_imports():
    info = get_provider_info()
    modules = [
        m for kind in ("hooks", "operators", "sensors", "triggers") for e in info[kind] for m in e["python-modules"]
    ]
    assert len(modules) >= 10
    for name in modules:
        importlib.import_module(name)
    dotted = [c["hook-class-name"] for c in info["connection-types"]]
    dotted += [a[k] for a in info["asset-uris"] for k in ("handler", "factory") if a.get(k)]
    for path in dotted:
        module, _, attr = path.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attr)), path


def test_connection_form_metadata_lists_every_field_with_secrets_hidden():
    services = pytest.importorskip("airflow.api_fastapi.core_api.services.ui.connections")
    from airflow.providers_manager import ProvidersManager

    if not hasattr(ProvidersManager, "iter_connection_type_hook_ui_metadata"):
        pytest.skip("this Airflow builds the form from the hook's Python methods (before 3.2)")
    meta = next(m for m in services.HookMetaService.hook_meta_data() if m.connection_type == "mdsp")
    assert meta.hook_name == "Siemens Insights Hub"
    assert set(meta.extra_fields) == set(CONN_FIELDS)
    assert meta.standard_fields.host.title == "Gateway URL"
    assert meta.standard_fields.login.title == "Client ID (not for user_token)"
    assert meta.standard_fields.password.title == "Client Secret (not for user_token)"
    assert meta.standard_fields.port.hidden
    for secret in ("user_token", "refresh_token", "proxy"):
        assert meta.extra_fields[secret]["schema"]["format"] == "password"
    assert meta.extra_fields["auth_type"]["schema"]["enum"][0] == "tenant_credentials"


def test_the_form_starts_with_what_must_be_filled_and_says_what_an_empty_number_means():
    from airflow_provider_mdsp.client import settings

    assert list(CONN_FIELDS)[:2] == ["auth_type", "tenant"]
    assert CONN_FIELDS["auth_type"]["schema"]["default"] == "tenant_credentials"
    empty_means = {
        "timeout": settings.DEFAULT_READ_TIMEOUT,
        "connect_timeout": settings.DEFAULT_CONNECT_TIMEOUT,
        "max_retries": settings.DEFAULT_MAX_RETRIES,
        "max_retry_wait": settings.DEFAULT_MAX_RETRY_WAIT,
        "response_timeout": settings.DEFAULT_RESPONSE_TIMEOUT,
        "call_timeout": settings.DEFAULT_MAX_RETRY_TIME,
        "max_response_mb": settings.DEFAULT_MAX_RESPONSE_BYTES / 2**20,
        "max_pages": settings.DEFAULT_MAX_PAGES,
    }
    numbers = {name for name, spec in CONN_FIELDS.items() if {"number", "integer"} & set(spec["schema"]["type"])}
    assert numbers == set(empty_means), "a number field without a documented empty value"
    for name, default in empty_means.items():
        assert "default" not in CONN_FIELDS[name]["schema"], f"{name}: a declared default is saved into extra"
        assert CONN_FIELDS[name]["label"].endswith(f"(empty: {default:g})"), name
    for name, spec in CONN_FIELDS.items():
        readers = [t for t in AUTH_TYPES if f"{t} only" in spec["label"]]
        assert len(readers) <= 1, name


def test_only_secret_fields_have_names_airflows_masker_hides():
    """Airflow masks the form value of any field whose name contains "token", "proxy", "secret"...:
    a non-secret field with such a name shows ``***`` and a saved form stores ``***`` (issue 10)."""
    from airflow.sdk.log import mask_secret  # noqa: F401  (configures the masker like a task does)

    try:
        from airflow._shared.secrets_masker import should_hide_value_for_key
    except ImportError:  # pragma: no cover - Airflow 3.1 keeps it in the core package
        from airflow.utils.log.secrets_masker import should_hide_value_for_key  # type: ignore[no-redef]

    secrets = {name for name, spec in CONN_FIELDS.items() if spec["schema"].get("format") == "password"}
    hidden = {name for name in CONN_FIELDS if should_hide_value_for_key(name)}
    assert secrets == {"user_token", "refresh_token", "proxy"}
    assert hidden == secrets


def test_hook_form_methods_for_airflow_before_3_2():
    from airflow_provider_mdsp.hooks.mdsp import MdspHook

    behaviour = MdspHook.get_ui_field_behaviour()
    assert behaviour["relabeling"]["host"] == "Gateway URL"
    assert "port" in behaviour["hidden_fields"]
