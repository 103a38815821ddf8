"""The demo plant: types, assets, generated time series, events, files and users of a tenant.

Everything is a pure function of the tenant name, the seed and the current day, so two
emulators started with the same ``--seed`` serve the same data (docs/emulator.md lists it).

* Root asset (named after the tenant) -> ``Site-A``, ``Site-B`` -> ``Line-A1``, ``Line-A2``,
  ``Line-B1``, ``Line-B2``; each line has two pumps (``Pump-A1-1``, ``Pump-A1-2``, ...) and
  one motor (``Motor-A1``, ...): 8 pumps, 4 motors. ``bench-motor`` hangs under the root.
* Pumps: aspect ``PumpData`` (FlowRate l/min, Pressure bar with quality code, Temperature °C);
  motors: ``MotorData`` (Speed rpm, Current A, Temperature °C); one minute resolution over the
  last 31 days. ``bench-motor``: ``Vibration`` (Velocity mm/s, Acceleration g,
  BearingTemperature °C) every second over the last 14 days (about 1.2 M records).
* ``Pump-A1-1`` overheats every day from 12:00 to 12:30 UTC (Temperature about 85 °C, above the
  80 °C threshold); at all other times every temperature stays below 70 °C.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from typing import TYPE_CHECKING, Any

from .services.assets.models import asset_id_for
from .services.timeseries.generators import SeriesGenerator, Signal
from .timefmt import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, format_ms

if TYPE_CHECKING:
    from .state import TenantBackend

SITES = ("A", "B")
LINES_PER_SITE = 2
PUMPS_PER_LINE = 2
HOT_PUMP = "Pump-A1-1"
BENCH_ASSET = "bench-motor"
OVERHEAT_START_S = 12 * 3600  # 12:00 UTC
OVERHEAT_END_S = OVERHEAT_START_S + 30 * 60  # 12:30 UTC
OVERHEAT_LEVEL = 85.0
TEMPERATURE_THRESHOLD = 80.0
DEMO_SPAN_MS = 31 * MS_PER_DAY
BENCH_SPAN_MS = 14 * MS_PER_DAY
ALARM_DAYS = 3  # PumpAlarm events for the last three overheat windows

# (name, unit, base, daily amplitude, peak-to-peak noise, quality code)
PUMP_VARIABLES = (
    ("FlowRate", "l/min", 120.0, 15.0, 4.0, False),
    ("Pressure", "bar", 4.5, 0.4, 0.1, True),
    ("Temperature", "°C", 55.0, 6.0, 1.5, False),
)
MOTOR_VARIABLES = (
    ("Speed", "rpm", 1480.0, 15.0, 6.0, False),
    ("Current", "A", 32.0, 4.0, 1.0, False),
    ("Temperature", "°C", 60.0, 5.0, 1.5, False),
)
VIBRATION_VARIABLES = (
    ("Velocity", "mm/s", 2.8, 0.6, 0.4, False),
    ("Acceleration", "g", 0.9, 0.2, 0.15, False),
    ("BearingTemperature", "°C", 48.0, 4.0, 0.8, False),
)
USERS = (
    ("Alice", "Becker"), ("Bruno", "Costa"), ("Chen", "Wei"), ("Dana", "Novak"), ("Emil", "Larsen"),
    ("Fatima", "Haddad"), ("Georg", "Huber"), ("Hana", "Sato"), ("Ivan", "Petrov"), ("Julia", "Schmidt"),
    ("Kofi", "Mensah"), ("Lena", "Vogel"),
)  # fmt: skip


def _seed_of(seed: int, *parts: str) -> int:
    digest = hashlib.sha256(":".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _signals(seed: int, asset: str, spec: tuple[tuple[Any, ...], ...]) -> tuple[Signal, ...]:
    out = []
    for name, _unit, base, amplitude, noise, qc in spec:
        s = _seed_of(seed, asset, name)
        overheat = None
        if asset == HOT_PUMP and name == "Temperature":
            overheat = (OVERHEAT_START_S, OVERHEAT_END_S, OVERHEAT_LEVEL)
        phase = (s % 1000) / 1000.0 * 2.0 * math.pi
        out.append(Signal(name, base, amplitude, noise, phase, s, qc, overheat))
    return tuple(out)


def _aspect_type(spec: tuple[tuple[Any, ...], ...], description: str) -> dict[str, Any]:
    variables = [
        {"name": n, "dataType": "DOUBLE", "unit": u, "searchable": True, "qualityCode": qc}
        for n, u, _b, _a, _n, qc in spec
    ]
    return {"category": "dynamic", "scope": "private", "description": description, "variables": variables}


def seed_tenant(backend: TenantBackend, seed: int) -> None:
    """Create the demo plant in a fresh tenant backend.

    :param backend: the tenant's backend
    :param seed: data seed
    """
    t = backend.tenant
    _seed_types(backend)
    root = backend.assets.root_id
    for site in SITES:
        site_id = _asset(backend, f"Site-{site}", f"{t}.Site", root)
        for line in range(1, LINES_PER_SITE + 1):
            line_name = f"{site}{line}"
            line_id = _asset(backend, f"Line-{line_name}", f"{t}.Line", site_id)
            for pump in range(1, PUMPS_PER_LINE + 1):
                name = f"Pump-{line_name}-{pump}"
                asset_id = _asset(backend, name, f"{t}.Pump", line_id)
                backend.generators[(asset_id, "PumpData")] = SeriesGenerator(
                    MS_PER_MINUTE, DEMO_SPAN_MS, _signals(seed, name, PUMP_VARIABLES)
                )
            name = f"Motor-{line_name}"
            asset_id = _asset(backend, name, f"{t}.Motor", line_id)
            backend.generators[(asset_id, "MotorData")] = SeriesGenerator(
                MS_PER_MINUTE, DEMO_SPAN_MS, _signals(seed, name, MOTOR_VARIABLES)
            )
    bench_id = _asset(backend, BENCH_ASSET, f"{t}.BenchMotor", root)
    backend.generators[(bench_id, "Vibration")] = SeriesGenerator(
        1000, BENCH_SPAN_MS, _signals(seed, BENCH_ASSET, VIBRATION_VARIABLES)
    )
    _seed_events(backend)
    _seed_files(backend)
    for given, family in USERS:
        backend.identity.add_user(
            f"{given.lower()}.{family.lower()}@{t}.example", given, family, ["mdsp:core:StandardUser"]
        )


def _seed_types(backend: TenantBackend) -> None:
    t, types = backend.tenant, backend.types
    types.aspects.put(f"{t}.PumpData", _aspect_type(PUMP_VARIABLES, "Pump process values"), None, None)
    types.aspects.put(f"{t}.MotorData", _aspect_type(MOTOR_VARIABLES, "Motor drive values"), None, None)
    types.aspects.put(f"{t}.Vibration", _aspect_type(VIBRATION_VARIABLES, "1 s vibration"), None, None)
    site = {"name": "Site", "parentTypeId": "core.basicsite", "description": "A plant site"}
    line = {"name": "Line", "parentTypeId": "core.basicarea", "description": "A production line"}
    types.assets.put(f"{t}.Site", site, None, None)
    types.assets.put(f"{t}.Line", line, None, None)
    for name, aspect in (("Pump", "PumpData"), ("Motor", "MotorData"), ("BenchMotor", "Vibration")):
        body = {
            "name": name,
            "parentTypeId": "core.basicasset",
            "aspects": [{"name": aspect, "aspectTypeId": f"{t}.{aspect}"}],
            "variables": [{"name": "SerialNumber", "dataType": "STRING"}],
        }
        types.assets.put(f"{t}.{name}", body, None, None)


def _asset(backend: TenantBackend, name: str, type_id: str, parent: str) -> str:
    asset_id = asset_id_for(backend.tenant, name)
    body: dict[str, Any] = {
        "name": name,
        "typeId": type_id,
        "parentId": parent,
        "externalId": name.lower(),
        "description": f"Demo {type_id.split('.')[-1].lower()} {name}",
    }
    if type_id.endswith(("Pump", "Motor")):
        serial = hashlib.sha256(name.encode()).hexdigest()[:8].upper()
        body["variables"] = [{"name": "SerialNumber", "value": f"SN-{serial}"}]
    backend.assets.create(body, asset_id=asset_id)
    return asset_id


def _event_id(tenant: str, key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mdsp-emulator:{tenant}:event:{key}"))


def _seed_events(backend: TenantBackend) -> None:
    t, events = backend.tenant, backend.events
    alarm_type = f"{t}.PumpAlarm"
    events.create_type(
        {
            "id": alarm_type,
            "name": "PumpAlarm",
            "ttl": 35,
            "scope": "LOCAL",
            "fields": [
                {"name": "temperature", "type": "DOUBLE", "filterable": True},
                {"name": "threshold", "type": "DOUBLE"},
                {"name": "variable", "type": "STRING", "filterable": True},
            ],
        }
    )
    _seed_alarms(backend, alarm_type)
    _seed_standard_events(backend)


def _seed_alarms(backend: TenantBackend, alarm_type: str) -> None:
    t, events = backend.tenant, backend.events
    hot = asset_id_for(t, HOT_PUMP)
    today = backend.clock.now_ms() // MS_PER_DAY * MS_PER_DAY
    for day in range(1, ALARM_DAYS + 1):
        start = today - day * MS_PER_DAY + OVERHEAT_START_S * 1000
        body = {
            "entityId": hot,
            "typeId": alarm_type,
            "timestamp": format_ms(start),
            "correlationId": _event_id(t, f"overheat-{start}"),
            "temperature": OVERHEAT_LEVEL,
            "threshold": TEMPERATURE_THRESHOLD,
            "variable": "Temperature",
        }
        events.create_event(body, event_id=_event_id(t, f"alarm-{start}"))


def _seed_standard_events(backend: TenantBackend) -> None:
    t, events = backend.tenant, backend.events
    standard = (
        ("Motor-B2", 2 * MS_PER_DAY, 30, "Planned maintenance finished", "MAINT-01"),
        ("Line-A2", 26 * MS_PER_HOUR, 20, "Line restarted after a product change", "OPS-12"),
        ("Pump-B1-2", 5 * MS_PER_HOUR, 10, "Flow rate below target for 10 minutes", "PROC-07"),
    )
    minute = backend.clock.now_ms() // MS_PER_MINUTE * MS_PER_MINUTE
    for name, age, severity, description, code in standard:
        body = {
            "entityId": asset_id_for(t, name),
            "timestamp": format_ms(minute - age),
            "severity": severity,
            "description": description,
            "code": code,
            "source": "demo-plant",
            "acknowledged": False,
        }
        events.create_event(body, event_id=_event_id(t, f"standard-{code}"))


def _seed_files(backend: TenantBackend) -> None:
    t, files = backend.tenant, backend.files
    root = backend.assets.root_id
    hot = asset_id_for(t, HOT_PUMP)
    bench = asset_id_for(t, BENCH_ASSET)
    documents = (
        (root, "manuals/pump-manual.txt", "text/plain", b"Demo pump manual.\nKeep Temperature below 80 C.\n"),
        (root, "manuals/motor-manual.txt", "text/plain", b"Demo motor manual.\nNominal speed 1480 rpm.\n"),
        (hot, "reports/overheat.csv", "text/csv", b"day,start,end,peak_c\n0,12:00,12:30,85.0\n"),
        (bench, "config/vibration-limits.json", "application/json", b'{"Velocity": {"alarm": 7.1, "warn": 4.5}}'),
    )
    for entity, path, mime, data in documents:
        headers = {"type": mime, "description": f"Demo file {path}", "timestamp": None, "if-match": None}
        files.put(entity, path, data, headers, "demo-seed")
