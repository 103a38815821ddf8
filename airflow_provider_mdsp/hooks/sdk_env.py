"""Build an ``mdsp`` Airflow connection from the Siemens SDKs' environment variables.

Siemens' Java and Python SDK samples read tenant service credentials from
``MINDSPHERE_CLIENT_ID``, ``MINDSPHERE_CLIENT_SECRET``, ``MINDSPHERE_TENANT`` and
``MINDSPHERE_SUB_TENANT``; ``HOST_ENVIRONMENT`` names the region
(default ``eu1``, as the Python SDK's README says). Airflow reads connections from ``AIRFLOW_CONN_<ID>`` variables
(or a secrets backend), so rather than reading the SDK variables behind the connection's back,
this module turns them into that one value, once, where the user can see it::

    python -m airflow_provider_mdsp.hooks.sdk_env                 # prints export AIRFLOW_CONN_MDSP_DEFAULT='{…}'
    eval "$(python -m airflow_provider_mdsp.hooks.sdk_env)"       # and sets it in this shell
    python -m airflow_provider_mdsp.hooks.sdk_env --conn-id mdsp_plant --gateway https://gateway.eu1.mindsphere.io
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_mdsp.exceptions import MdspConfigError

#: The SDK variables read, and the connection field each becomes.
SDK_VARIABLES = {
    "MINDSPHERE_CLIENT_ID": "login",
    "MINDSPHERE_CLIENT_SECRET": "password",
    "MINDSPHERE_TENANT": "tenant",
    "MINDSPHERE_SUB_TENANT": "sub_tenant",
}
#: Region of the gateway when ``HOST_ENVIRONMENT`` is unset (PY:README.md).
DEFAULT_REGION = "eu1"
REQUIRED = ("MINDSPHERE_CLIENT_ID", "MINDSPHERE_CLIENT_SECRET", "MINDSPHERE_TENANT")


def connection_from_sdk_env(environ: Mapping[str, str], gateway: str | None = None) -> dict[str, Any]:
    """Return the ``mdsp`` connection (Airflow's JSON form) the SDK variables describe.

    :param environ: the environment, e.g. ``os.environ``.
    :param gateway: the gateway URL; default ``https://gateway.{HOST_ENVIRONMENT}.mindsphere.io``.
    :raises MdspConfigError: a required variable is missing or empty, named with what it holds.
    """
    values = {name: str(environ.get(name) or "").strip() for name in SDK_VARIABLES}
    missing = [name for name in REQUIRED if not values[name]]
    if missing:
        raise MdspConfigError(
            f"Set {', '.join(missing)} (the tenant service credentials' client ID, secret and tenant "
            "name, as the Siemens SDK samples read them)",
            field=missing[0],
        )
    region = str(environ.get("HOST_ENVIRONMENT") or DEFAULT_REGION).strip()
    extra = {"tenant": values["MINDSPHERE_TENANT"]}
    if values["MINDSPHERE_SUB_TENANT"]:
        extra["sub_tenant"] = values["MINDSPHERE_SUB_TENANT"]
    return {
        "conn_type": "mdsp",
        "host": gateway or f"https://gateway.{region}.mindsphere.io",
        "login": values["MINDSPHERE_CLIENT_ID"],
        "password": values["MINDSPHERE_CLIENT_SECRET"],
        "extra": extra,
    }


def export_line(conn_id: str, connection: Mapping[str, Any]) -> str:
    """Return a shell line that sets ``AIRFLOW_CONN_<CONN_ID>`` to the connection's JSON.

    :param conn_id: the Airflow connection id, e.g. ``mdsp_default``.
    :param connection: from :func:`connection_from_sdk_env`.
    """
    return f"export AIRFLOW_CONN_{conn_id.upper()}={shlex.quote(json.dumps(connection))}"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Print the ``export AIRFLOW_CONN_…`` line; exit status 2 with the reason when a variable is missing.

    :param argv: command-line arguments (default ``sys.argv[1:]``).
    :param environ: the environment (default ``os.environ``).
    """
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_mdsp.hooks.sdk_env",
        description="Print an AIRFLOW_CONN_* line for an mdsp connection built from the MINDSPHERE_* variables.",
    )
    parser.add_argument("--conn-id", default="mdsp_default", help="Airflow connection id (default mdsp_default)")
    parser.add_argument("--gateway", help="gateway URL (default https://gateway.$HOST_ENVIRONMENT.mindsphere.io)")
    args = parser.parse_args(argv)
    try:
        connection = connection_from_sdk_env(os.environ if environ is None else environ, args.gateway)
    except MdspConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(export_line(args.conn_id, connection))
    return 0


if __name__ == "__main__":
    sys.exit(main())
