"""Shared by the sensor, trigger and operator tests: a mocked gateway behind an ``mdsp`` connection."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

try:
    from airflow.sdk.exceptions import (
        AirflowRescheduleException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
except ImportError:  # Airflow 3.1 keeps them in the core package
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowRescheduleException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )

__all__ = ["AirflowRescheduleException", "AirflowSensorTimeout", "AirflowSkipException", "TaskDeferred"]

GATEWAY = "https://gateway.eu1.mindsphere.io"
TOKEN_URL = "https://acme.piam.eu1.mindsphere.io/oauth/token"
SECRET = "client-secret-that-must-never-show"
ACCESS = "access-token-value-that-must-never-show"
TS = f"{GATEWAY}/api/iottimeseries/v3/timeseries"
EM = f"{GATEWAY}/api/eventmanagement/v3"
BULK = f"{GATEWAY}/api/iottsbulk/v3"
FILES = f"{GATEWAY}/api/iotfile/v3/files"
ASSET = "a" * 32
START = datetime(2024, 5, 1, tzinfo=timezone.utc)
END = datetime(2024, 5, 2, tzinfo=timezone.utc)


def piam_answer(access_token: str) -> Callable[[Any, Any], dict[str, Any]]:
    """Return a requests-mock answer of PIAM's token endpoint: an impersonation token names its subtenant.

    :param access_token: the token to hand out.
    """

    def answer(request: Any, context: Any) -> dict[str, Any]:
        body = {"access_token": access_token, "token_type": "Bearer", "expires_in": 1800, "scope": "iot.tim.r"}
        subtenant = parse_qs(request.text or "").get(
            "subtenant"
        )  # Siemens docs, subtenant how-to: echoed in the answer
        return {**body, "subtenant": subtenant[0]} if subtenant else body

    return answer


def connect(mdsp_connection: Callable[..., str], requests_mock: Any) -> Any:
    """Create the ``mdsp_default`` connection and mock its token endpoint; return the token mock."""
    mdsp_connection(host=GATEWAY, login="acme-tech", password=SECRET, extra={"tenant": "acme"})
    return requests_mock.post(TOKEN_URL, json=piam_answer(ACCESS))


def query(request: Any) -> dict[str, str]:
    """Return a recorded request's query string as a flat dict, case kept."""
    return dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))


def sent_filter(request: Any) -> dict[str, Any]:
    """Return the JSON ``filter`` a recorded request sent."""
    return json.loads(query(request)["filter"])


def events_page(items: list[dict[str, Any]], total_pages: int = 1) -> dict[str, Any]:
    """Return an Event Management page body (Spring style, §6)."""
    body: dict[str, Any] = {"page": {"number": 0, "size": 100, "totalPages": total_pages}}
    if items:
        body["_embedded"] = {"events": items}
    return body


def context(start: datetime | None = START, end: datetime | None = END, **extra: Any) -> dict[str, Any]:
    """Return a task context as the task runner builds it (``data_interval_*`` only with a logical date)."""
    ctx: dict[str, Any] = {"dag_run": SimpleNamespace(run_after=end or START), **extra}
    if start is not None and end is not None:
        ctx.update(data_interval_start=start, data_interval_end=end)
    return ctx


def emulator_connection(emu: Any) -> str:
    """Return ``AIRFLOW_CONN_MDSP_DEFAULT`` (JSON) for a running emulator's demo technical user."""
    return json.dumps(
        {
            "conn_type": "mdsp",
            "host": emu.url,
            "login": "demo-techuser",
            "password": "demo-secret",
            "extra": {"tenant": "demo", "auth_url": emu.token_url},
        }
    )


@contextmanager
def live_emulator(**config: Any) -> Iterator[Any]:
    """Run the emulator (demo tenant, ``config`` overrides) with ``mdsp_default`` pointing at it."""
    from airflow_provider_mdsp.emulator import run_emulator
    from airflow_provider_mdsp.emulator.config import demo_config

    with run_emulator(demo_config().with_overrides(**config)) as emu, pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_MDSP_DEFAULT", emulator_connection(emu))
        yield emu


class FakeStore(dict):
    """The task state store of Airflow 3.3 (get/set/delete)."""

    def set(self, key: str, value: Any) -> None:
        self[key] = value

    def delete(self, key: str) -> None:
        self.pop(key, None)


class FakeOutletEvents:
    """Stands in for ``context["outlet_events"]``: records what an operator adds to an alias."""

    def __init__(self) -> None:
        self.added: list[tuple[str, str, Any]] = []

    def __getitem__(self, alias: Any) -> Any:
        events = self

        class Accessor:
            def add(self, asset: Any, extra: Any = None) -> None:
                events.added.append((alias.name, asset.uri, extra))

        return Accessor()
