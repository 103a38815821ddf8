"""The Airflow UI path: an ``mdsp`` connection made in Airflow's own form works (issue 10).

Drives Airflow 3's React UI in headless Chromium like a new user: adds a "Siemens Insights Hub"
connection for tenant credentials and for app credentials against the emulator, saves it, checks
what Airflow stored, opens it for editing and saves it unchanged, then runs an example DAG with it
through ``airflow dags test``. The form's screenshots are written to ``docs/images/`` for the
connections guide. Airflow's masker hides any field whose name contains "token" (among others): a
non-secret field so named shows ``***`` and a saved form stores ``***``, which these tests catch.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from airflow_provider_mdsp.get_provider_info import AUTH_TYPE_WORDS
from airflow_provider_mdsp.hooks.connection import config_from_connection
from tests.browser.conftest import ROOT, AirflowServer, runner

# One api-server for the module: `make test` runs `pytest -n 2 --dist loadscope`, so its tests share a worker.
pytestmark = [pytest.mark.integration, pytest.mark.browser]

IMAGES = ROOT / "docs" / "images"
#: The quickest example DAG (asset listing and inventory file); any of them would do.
EXAMPLE_DAG = "mdsp_asset_inventory"
#: How long the UI may take to react to a click (the api-server shares 2 cores with the tests).
UI_TIMEOUT_MS = 30_000
#: The Gateway URL in the screenshots, replaced by the emulator's (random-port) URL before saving.
SHOWN_GATEWAY = "https://gateway.eu1.mindsphere.io"
#: The fields a saved form writes whatever the user did: the boolean switches have a state.
ALWAYS_WRITTEN = {"auth_type", "verify_tls", "shared_cache"}


@dataclass(frozen=True)
class FormCase:
    """One connection as a user fills it in."""

    conn_id: str
    login: str
    password: str
    auth_type: str
    extra_inputs: dict[str, str] = field(default_factory=dict)


CASES = [
    FormCase(
        "mdsp_default", runner.DEMO_CLIENT_ID, runner.DEMO_CLIENT_SECRET, "tenant_credentials", {"tenant": "demo"}
    ),
    FormCase(
        "mdsp_app",
        "demo-mdspdemoapp-1.0.0",
        "demo-app-secret",
        "app_credentials",
        {"host_tenant": "demo", "user_tenant": "demo", "app_name": "mdspdemoapp", "app_version": "1.0.0"},
    ),
]


def assert_stored_as_filled_in(stored: dict[str, Any], case: FormCase, emulator_url: str) -> None:
    """The stored connection holds what the user typed, no ``***``, and the provider accepts it."""
    assert (stored["host"], stored["login"], stored["password"]) == (emulator_url, case.login, case.password)
    extra = stored["extra"]
    masked = sorted(k for k, v in extra.items() if isinstance(v, str) and "***" in v)
    assert masked == [], f"the form saved Airflow's mask as the value of {masked}"
    assert extra["auth_type"] == case.auth_type
    for name, value in case.extra_inputs.items():
        assert extra[name] == value
    written = {k for k, v in extra.items() if v is not None}
    assert written <= ALWAYS_WRITTEN | set(case.extra_inputs), f"written without the user: {written}"
    config = config_from_connection(stored["host"], stored["login"], stored["password"], extra)
    assert config.settings.gateway_url == emulator_url
    assert config.shared_cache is False


def open_add_form(page: Any, server: AirflowServer, case: FormCase) -> Any:
    page.goto(f"{server.url}/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name=connection_id]").fill(case.conn_id)
    dialog.get_by_role("combobox").first.fill("Siemens Insights Hub")
    page.keyboard.press("Enter")
    dialog.locator("input[name=host]").fill(SHOWN_GATEWAY)
    dialog.locator("input[name=login]").fill(case.login)
    dialog.locator("input[name=password]").fill(case.password)
    return dialog


def fill_extra_fields(page: Any, dialog: Any, case: FormCase) -> None:
    auth_select = dialog.get_by_role("combobox").nth(1)
    if dialog.locator("input[name=element_auth_type]").input_value() != case.auth_type:
        auth_select.fill(case.auth_type)
        page.keyboard.press("Enter")
    assert dialog.locator("input[name=element_auth_type]").input_value() == case.auth_type
    for name, value in case.extra_inputs.items():
        dialog.locator(f"input[name=element_{name}]").fill(value)


def save(page: Any, dialog: Any) -> None:
    with page.expect_response(
        lambda r: "/api/v2/connections" in r.url and r.request.method in ("POST", "PATCH")
    ) as info:
        dialog.get_by_role("button", name="Save").click()
    answer = info.value
    assert answer.ok, f"saving the connection answered {answer.status}: {answer.text()[:500]}"
    dialog.wait_for(state="detached", timeout=UI_TIMEOUT_MS)


def press_test_button(page: Any, server: AirflowServer, conn_id: str) -> dict[str, Any]:
    """Press the connection's Test button in the list; return Airflow's answer (status, message).

    Airflow 3.3.2's UI sends ``port: 0`` for a connection without a port and the API refuses a port
    that differs from the stored one (apache/airflow#73298): the guide's workaround, a stored port
    of 0, is applied first.
    """
    _api(
        server,
        "PATCH",
        f"/api/v2/connections/{conn_id}?update_mask=port",
        {"connection_id": conn_id, "conn_type": "mdsp", "port": 0},
    )
    page.goto(f"{server.url}/connections")
    row = page.get_by_role("row").filter(has_text=conn_id)
    with page.expect_response(lambda r: r.url.endswith("/api/v2/connections/test")) as info:
        row.get_by_role("button", name="Test Connection").click()
    assert info.value.ok, f"the Test button's request answered {info.value.status}: {info.value.text()[:500]}"
    return info.value.json()


def screenshot(page: Any, dialog: Any, name: str) -> None:
    """Write the form as a user sees it to ``docs/images/`` (rewritten only when it looks different)."""
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    IMAGES.mkdir(parents=True, exist_ok=True)
    target = IMAGES / name
    png = dialog.screenshot(animations="disabled", caret="hide")
    if not target.exists() or not looks_the_same(target.read_bytes(), png):
        target.write_bytes(png)


def looks_the_same(old: bytes, new: bytes, noise: int = 64) -> bool:
    """Whether two PNG screenshots differ only by anti-aliasing noise (a few bytes of pixel data).

    Rendering the same form twice can differ in a handful of pixels; rewriting the docs' image each
    time would leave every worktree with changed files after a test run.
    """
    (old_size, old_pixels), (new_size, new_pixels) = _png_pixels(old), _png_pixels(new)
    if old_size != new_size or len(old_pixels) != len(new_pixels):
        return False
    return sum(a != b for a, b in zip(old_pixels, new_pixels, strict=True)) <= noise


def _png_pixels(png: bytes) -> tuple[tuple[int, int], bytes]:
    """Return a PNG's width and height and its (filtered) pixel rows, from the IHDR and IDAT chunks."""
    offset, size, data = 8, (0, 0), b""
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, body = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            data += body
        offset += 12 + length
    return size, zlib.decompress(data)


@pytest.mark.parametrize("case", CASES, ids=[c.auth_type for c in CASES])
def test_a_connection_made_in_the_form_runs_an_example_dag(
    browser: Any, airflow_server: AirflowServer, case: FormCase
) -> None:
    emulator_url = airflow_server.env["MDSP_EMULATOR_URL"]
    page = browser.new_page(viewport={"width": 1280, "height": 2400})
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        dialog = open_add_form(page, airflow_server, case)
        screenshot(page, dialog, f"connection-form-{case.auth_type}-standard.png")
        dialog.locator("input[name=host]").fill(emulator_url)
        dialog.get_by_role("button", name="Extra Fields", exact=True).click()
        fill_extra_fields(page, dialog, case)
        screenshot(page, dialog, f"connection-form-{case.auth_type}-extra.png")
        save(page, dialog)
        stored = airflow_server.stored_connection(case.conn_id)
        assert_stored_as_filled_in(stored, case, emulator_url)

        page.get_by_role("row").filter(has_text=case.conn_id).get_by_role("button", name="Edit Connection").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("button", name="Extra Fields", exact=True).click()
        for name, value in case.extra_inputs.items():
            assert dialog.locator(f"input[name=element_{name}]").input_value() == value
        shown = dialog.locator("input[name^=element_]:not([type=password])").evaluate_all(
            "inputs => inputs.map(i => [i.name, i.value])"
        )
        masked = [name for name, value in shown if "***" in value]
        assert masked == [], f"the edit form shows Airflow's mask instead of the value of {masked}"
        save(page, dialog)
        assert airflow_server.stored_connection(case.conn_id) == stored, "saving unchanged changed the connection"

        answer = press_test_button(page, airflow_server, case.conn_id)
        assert answer["status"] is True, answer["message"]
        words = AUTH_TYPE_WORDS[case.auth_type]
        assert answer["message"].startswith(f"The connection ({words}, tenant demo): token obtained ("), answer
    finally:
        page.close()

    logical_date = runner.default_logical_date()
    cmd = ["dags", "test", EXAMPLE_DAG, logical_date.isoformat()]
    cmd += ["--dagfile-path", str(runner.DAGS_FOLDER / f"{EXAMPLE_DAG}.py")]
    output = airflow_server.airflow(*cmd, env={"MDSP_EXAMPLE_CONN_ID": case.conn_id})
    assert "state=success" in output.replace(" ", ""), output[-3000:]


AUTH_TYPE_VALUES: dict[str, dict[str, Any]] = {
    "tenant_credentials": {"login": "demo-techuser", "password": "demo-secret", "extra": {"tenant": "demo"}},
    "app_credentials": {"login": "demo-mdspdemoapp-1.0.0", "password": "demo-app-secret", "extra": {}},
    "user_token": {"extra": {"user_token": "a-user-token-of-some-length"}},
    "refresh_token": {
        "login": "app",
        "password": "app-secret",
        "extra": {"tenant": "demo", "refresh_token": "a-refresh-token"},
    },
}


def _api(server: AirflowServer, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(method, f"{server.url}{path}", json=body, timeout=30)
    assert answer.ok, f"{method} {path} answered {answer.status_code}: {answer.text[:500]}"
    return answer.json()


@pytest.mark.parametrize("auth_type", list(AUTH_TYPE_VALUES))
def test_every_form_default_round_trips_through_a_save_for_every_auth_type(
    airflow_server: AirflowServer, auth_type: str
) -> None:
    """What ``/ui/connections/hook_meta`` serves as field values, saved and re-saved, means the defaults."""
    (meta,) = [m for m in _api(airflow_server, "GET", "/ui/connections/hook_meta") if m["connection_type"] == "mdsp"]
    served = {name: spec["value"] for name, spec in meta["extra_fields"].items()}
    values = AUTH_TYPE_VALUES[auth_type]
    extra = {**served, "auth_type": auth_type, **values["extra"]}
    conn_id = f"mdsp_round_trip_{auth_type}"
    body = {"connection_id": conn_id, "conn_type": "mdsp", "host": airflow_server.env["MDSP_EMULATOR_URL"]}
    body |= {"login": values.get("login"), "password": values.get("password"), "extra": json.dumps(extra)}
    _api(airflow_server, "POST", "/api/v2/connections", body)
    shown = _api(airflow_server, "GET", f"/api/v2/connections/{conn_id}")
    _api(
        airflow_server,
        "PATCH",
        f"/api/v2/connections/{conn_id}",
        {k: shown[k] for k in ("connection_id", "conn_type", "host", "login", "password", "extra")},
    )

    stored = airflow_server.stored_connection(conn_id)
    assert stored["extra"] == extra, "a save changed the form's values"
    saved = config_from_connection(stored["host"], stored["login"], stored["password"], stored["extra"])
    bare = config_from_connection(
        body["host"], body["login"], body["password"], {"auth_type": auth_type, **values["extra"]}
    )
    assert saved == bare, "a served default means something else than leaving the field out"
