"""Emulator configuration: tenants, credentials, apps and tunable behaviour.

A config is a JSON file (or TOML on Python 3.11+). Without one the built-in demo tenant is used
(:func:`demo_config`). Behaviour the API reference leaves open (insights-hub-api.md §11) is a
named option here, so a test can pin it down.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# Scopes per service (documented in docs/emulator.md). The real tenant scopes are role based;
# these short names keep the read/write/delete split the real `iot.tim.*` scopes have.
TIMESERIES_SCOPES = ("iot.tim.r", "iot.tim.w", "iot.tim.d")
BULK_SCOPES = ("iot.bi.r", "iot.bi.w", "iot.bts.r")
FILE_SCOPES = ("iot.fil.r", "iot.fil.w", "iot.fil.d")
ASSET_SCOPES = ("am.r", "am.w")
EVENT_SCOPES = ("em.r", "em.w")
IDENTITY_SCOPES = ("im.r",)
# Gap: the real scope names of Integrated Data Lake and Tenant Management are not public.
DATALAKE_SCOPES = ("idl.r", "idl.w")
TENANT_SCOPES = ("tm.r",)
ALL_SCOPES = (
    TIMESERIES_SCOPES
    + BULK_SCOPES
    + FILE_SCOPES
    + ASSET_SCOPES
    + EVENT_SCOPES
    + IDENTITY_SCOPES
    + DATALAKE_SCOPES
    + TENANT_SCOPES
)
READ_SCOPES = tuple(s for s in ALL_SCOPES if s.endswith(".r"))

DEFAULT_TOKEN_LIFETIME_S = 1800  # 30 min (S1, S3)
DEFAULT_REFRESH_LIFETIME_S = 12 * 3600  # 12 h (S3)
DEFAULT_JOB_STEP_S = 1.0
# Gap (§11): 412 vs 409 for a stale If-Match is unknown; 412 Precondition Failed is the HTTP rule.
DEFAULT_STALE_ETAG_STATUS = 412
DEFAULT_FILE_MIN_PART_BYTES = 5 * 1024 * 1024  # §7: parts >= 5 MB except the last
#: Options renamed since a release, old name -> new name; the old name is still read as the new one.
RENAMED_OPTIONS = {"bulk_step_s": "job_step_s"}


class ConfigError(ValueError):
    """Raised when a config file is malformed; the message names the field."""


@dataclass(frozen=True)
class ClientCredential:
    """A tenant technical user / service credential (PIAM client credentials, §2.1).

    :param client_id: OAuth client id
    :param client_secret: OAuth client secret
    :param scopes: scopes every token of this client carries
    :param impersonation: whether it may impersonate the tenant's subtenants
    """

    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = ALL_SCOPES
    impersonation: bool = False


@dataclass(frozen=True)
class AppCredential:
    """App credentials for the Token Management Service (§2.2).

    :param client_id: app client id, e.g. ``demo-mdspdemoapp-1.0.0``
    :param client_secret: app client secret
    :param app_name: ``appName`` the token request must name
    :param app_version: ``appVersion`` the token request must name
    :param host_tenant: ``hostTenant``, the tenant hosting the app
    :param user_tenant: ``userTenant``, the tenant the app is provisioned to (usually the host)
    :param scopes: scopes of the issued tokens
    """

    client_id: str
    client_secret: str
    app_name: str
    app_version: str
    host_tenant: str
    user_tenant: str
    scopes: tuple[str, ...] = ALL_SCOPES


@dataclass(frozen=True)
class TenantConfig:
    """A tenant: its credentials, subtenants and whether it gets the demo plant.

    :param name: tenant name (also the type-id prefix, e.g. ``demo.Pump``)
    :param credentials: technical users of this tenant
    :param subtenants: subtenant ids that impersonation may name
    :param demo_data: seed the demo plant, events, files and users
    :param users: extra Identity Management user names
    """

    name: str
    credentials: tuple[ClientCredential, ...] = ()
    subtenants: tuple[str, ...] = ()
    demo_data: bool = False
    users: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator needs besides faults.

    :param tenants: configured tenants
    :param apps: app credentials
    :param seed: seed of the generated demo data
    :param token_lifetime_s: access token lifetime
    :param refresh_token_lifetime_s: refresh token lifetime
    :param refresh_token_reuse: a used refresh token stays valid until it expires (True) or is
        revoked when a new one is issued (False). Gap: PIAM rotation rules are not documented.
    :param job_step_s: seconds every asynchronous job spends in each state before it ends: IoT TS
        Bulk import jobs (SUBMITTED, IN_PROGRESS), Data Lake time-series import jobs (PENDING,
        IN_PROGRESS) and Event Management create/delete events jobs (ACCEPTED, IN_PROGRESS);
        0 ends them at once. Its old name ``bulk_step_s`` is still read (:data:`RENAMED_OPTIONS`).
    :param stale_etag_status: status for a stale ``If-Match`` (412, or 409 to mimic "conflict")
    :param file_min_part_bytes: minimum multipart upload part size (except the last part)
    :param file_delete_rule_limit: IoT File v4 delete rules per tenant (published default 50;
        Siemens raises it per tenant on request)
    :param page_cache: rendered time-series pages kept per tenant, for benchmarks of a client
        (0, the default, renders every page; see :mod:`.services.timeseries.pagecache`)
    :param faults: initial fault settings (see :mod:`.faults`)
    """

    tenants: tuple[TenantConfig, ...]
    apps: tuple[AppCredential, ...] = ()
    seed: int = 0
    token_lifetime_s: int = DEFAULT_TOKEN_LIFETIME_S
    refresh_token_lifetime_s: int = DEFAULT_REFRESH_LIFETIME_S
    refresh_token_reuse: bool = True
    job_step_s: float = DEFAULT_JOB_STEP_S
    stale_etag_status: int = DEFAULT_STALE_ETAG_STATUS
    file_min_part_bytes: int = DEFAULT_FILE_MIN_PART_BYTES
    file_delete_rule_limit: int = 50
    page_cache: int = 0
    faults: dict[str, Any] = field(default_factory=dict)

    def tenant(self, name: str) -> TenantConfig | None:
        """Return the tenant called ``name``, if configured.

        :param name: tenant name
        """
        return next((t for t in self.tenants if t.name == name), None)

    def with_overrides(self, **changes: Any) -> EmulatorConfig:
        """Return a copy with some top-level options changed (``None`` values are ignored).

        :param changes: option names and values; an old name (:data:`RENAMED_OPTIONS`) is read as the new one
        :raises ConfigError: an option is given under its old and its new name
        """
        return replace(self, **current_names({k: v for k, v in changes.items() if v is not None}))


def current_names(options: dict[str, Any]) -> dict[str, Any]:
    """Return options with each old name (:data:`RENAMED_OPTIONS`) replaced by its new one.

    Config files and keyword overrides both pass through here, so an old name means the same everywhere.

    :param options: option names and values
    :raises ConfigError: an option is given under its old and its new name
    """
    out = dict(options)
    for old, new in RENAMED_OPTIONS.items():
        if old in out:
            if new in out:
                raise ConfigError(f"config: '{old}' is the old name of '{new}'; give only '{new}'")
            out[new] = out.pop(old)
    return out


DEMO_TENANT = "demo"
DEMO_CLIENT_ID = "demo-techuser"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - documented demo credential
DEMO_READER_ID = "demo-reader"
DEMO_READER_SECRET = "demo-reader-secret"  # noqa: S105 - documented demo credential
DEMO_APP_CLIENT_ID = "demo-mdspdemoapp-1.0.0"
DEMO_APP_SECRET = "demo-app-secret"  # noqa: S105 - documented demo credential
DEMO_SUBTENANT = "demo-sub1"
DEMO_SUBTENANT_2 = "demo-sub2"


def demo_config(seed: int = 0) -> EmulatorConfig:
    """Return the built-in demo configuration (documented in docs/emulator.md).

    :param seed: seed of the generated demo data
    """
    tenant = TenantConfig(
        name=DEMO_TENANT,
        credentials=(
            ClientCredential(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ALL_SCOPES, impersonation=True),
            ClientCredential(DEMO_READER_ID, DEMO_READER_SECRET, READ_SCOPES),
        ),
        subtenants=(DEMO_SUBTENANT, DEMO_SUBTENANT_2),
        demo_data=True,
    )
    app = AppCredential(DEMO_APP_CLIENT_ID, DEMO_APP_SECRET, "mdspdemoapp", "1.0.0", "demo", "demo")
    return EmulatorConfig(tenants=(tenant,), apps=(app,), seed=seed)


def load_config(source: str | Path | dict[str, Any] | EmulatorConfig | None) -> EmulatorConfig:
    """Load a config from a JSON/TOML file, a dict, or return the demo config for ``None``.

    :param source: path, parsed dict, ready config or ``None``
    :raises ConfigError: naming the field that is wrong
    """
    if source is None:
        return demo_config()
    if isinstance(source, EmulatorConfig):
        return source
    if isinstance(source, dict):
        return parse_config(source)
    path = Path(source)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        import tomllib  # Python 3.11+

        return parse_config(tomllib.loads(text))
    try:
        return parse_config(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc


def parse_config(data: dict[str, Any]) -> EmulatorConfig:
    """Build an :class:`EmulatorConfig` from a parsed config document.

    :param data: the document (see docs/emulator.md for the format)
    :raises ConfigError: naming the field that is wrong
    """
    if not isinstance(data, dict) or not isinstance(data.get("tenants"), list) or not data["tenants"]:
        raise ConfigError("config: 'tenants' must be a non-empty list")
    data = current_names(data)
    tenants = tuple(_tenant(t, i) for i, t in enumerate(data["tenants"]))
    apps = tuple(_app(a, i) for i, a in enumerate(data.get("apps", [])))
    options = {f.name for f in fields(EmulatorConfig)} - {"tenants", "apps"}
    unknown = set(data) - options - {"tenants", "apps"}
    if unknown:
        raise ConfigError(f"config: unknown option(s) {sorted(unknown)}")
    return EmulatorConfig(tenants=tenants, apps=apps, **{k: data[k] for k in options if k in data})


def _scopes(value: Any, where: str) -> tuple[str, ...]:
    if value in (None, "*", "all"):
        return ALL_SCOPES
    if value == "read":
        return READ_SCOPES
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ConfigError(f"{where}.scopes: a list of scope names, '*' or 'read' expected")
    return tuple(value)


def _require(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}.{key}: a non-empty string is required")
    return value


def _tenant(obj: Any, index: int) -> TenantConfig:
    where = f"tenants[{index}]"
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: an object is required")
    creds = []
    for j, c in enumerate(obj.get("credentials", [])):
        cw = f"{where}.credentials[{j}]"
        creds.append(
            ClientCredential(
                _require(c, "client_id", cw),
                _require(c, "client_secret", cw),
                _scopes(c.get("scopes"), cw),
                bool(c.get("impersonation", False)),
            )
        )
    return TenantConfig(
        name=_require(obj, "name", where),
        credentials=tuple(creds),
        subtenants=tuple(obj.get("subtenants", [])),
        demo_data=bool(obj.get("demo_data", False)),
        users=tuple(obj.get("users", [])),
    )


def _app(obj: Any, index: int) -> AppCredential:
    where = f"apps[{index}]"
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: an object is required")
    host_tenant = _require(obj, "hostTenant", where)
    return AppCredential(
        client_id=_require(obj, "client_id", where),
        client_secret=_require(obj, "client_secret", where),
        app_name=_require(obj, "appName", where),
        app_version=_require(obj, "appVersion", where),
        host_tenant=host_tenant,
        user_tenant=obj.get("userTenant") or host_tenant,
        scopes=_scopes(obj.get("scopes"), where),
    )


def config_to_dict(config: EmulatorConfig) -> dict[str, Any]:
    """Return a config in the file format :func:`parse_config` reads.

    :param config: the config
    """
    data = asdict(config)
    data["apps"] = [
        {
            "client_id": a.client_id,
            "client_secret": a.client_secret,
            "appName": a.app_name,
            "appVersion": a.app_version,
            "hostTenant": a.host_tenant,
            "userTenant": a.user_tenant,
            "scopes": list(a.scopes),
        }
        for a in config.apps
    ]
    return data
