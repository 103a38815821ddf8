"""An mdsp connection from the Siemens SDKs' MINDSPHERE_* variables, as an AIRFLOW_CONN_* line."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from airflow_provider_mdsp.auth import TenantCredentials
from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.hooks.connection import config_from_connection
from airflow_provider_mdsp.hooks.sdk_env import connection_from_sdk_env, main

SDK = {
    "MINDSPHERE_CLIENT_ID": "acme-etl",
    "MINDSPHERE_CLIENT_SECRET": "s3cr3t",
    "MINDSPHERE_TENANT": "acme",
    "MINDSPHERE_SUB_TENANT": "acme-east",
}


def test_the_sdk_variables_make_a_connection_the_hook_accepts():
    conn = connection_from_sdk_env({**SDK, "HOST_ENVIRONMENT": "eu2"})
    assert conn["host"] == "https://gateway.eu2.mindsphere.io"
    cfg = config_from_connection(conn["host"], conn["login"], conn["password"], conn["extra"])
    assert isinstance(cfg.credentials, TenantCredentials)
    assert (cfg.credentials.client_id, cfg.credentials.tenant, cfg.credentials.sub_tenant) == (
        "acme-etl",
        "acme",
        "acme-east",
    )
    assert cfg.credentials.token_url == "https://acme.piam.eu2.mindsphere.io/oauth/token"


def test_without_a_sub_tenant_and_region_the_defaults_apply():
    conn = connection_from_sdk_env({k: v for k, v in SDK.items() if k != "MINDSPHERE_SUB_TENANT"})
    assert conn["host"] == "https://gateway.eu1.mindsphere.io"
    assert conn["extra"] == {"tenant": "acme"}


def test_a_missing_variable_is_named_and_no_secret_is_echoed():
    with pytest.raises(MdspConfigError) as err:
        connection_from_sdk_env({"MINDSPHERE_CLIENT_SECRET": "s3cr3t"})
    assert "MINDSPHERE_CLIENT_ID, MINDSPHERE_TENANT" in str(err.value)
    assert "s3cr3t" not in str(err.value)


def test_the_command_prints_an_export_line_the_shell_reads_back(capsys):
    assert main(["--conn-id", "mdsp_plant", "--gateway", "https://gateway.cn1.mindsphere-in.cn"], environ=SDK) == 0
    line = capsys.readouterr().out.strip()
    name, _, value = shlex.split(line)[1].partition("=")
    assert name == "AIRFLOW_CONN_MDSP_PLANT"
    assert json.loads(value)["host"] == "https://gateway.cn1.mindsphere-in.cn"
    assert main([], environ={}) == 2
    assert "MINDSPHERE_CLIENT_ID" in capsys.readouterr().err


def test_it_runs_as_a_module():
    done = subprocess.run(
        [sys.executable, "-m", "airflow_provider_mdsp.hooks.sdk_env"],
        env={"PATH": "/usr/bin:/bin", **SDK},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("export AIRFLOW_CONN_MDSP_DEFAULT=")
