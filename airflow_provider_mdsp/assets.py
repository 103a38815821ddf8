"""Airflow asset URIs for Insights Hub data: ``mdsp://<gateway host>/<asset id>/<aspect>``.

A DAG scheduled on such an asset runs after a task writes that asset's aspect::

    from airflow_provider_mdsp.assets import timeseries_asset

    with DAG("after_vibration_written", schedule=[timeseries_asset("gateway.eu1.mindsphere.io", PUMP, "Vibration")]):
        ...

Forms (the path tells them apart):

- ``mdsp://gateway.eu1.mindsphere.io/<asset id>/<aspect>``: one asset's aspect (a time series);
- ``mdsp://gateway.eu1.mindsphere.io/<asset id>/files/<file path>``: a file of an asset (IoT File);
- ``mdsp://gateway.eu1.mindsphere.io/<asset id>/files/<folder>/*``: the files under a folder of an
  asset, ``.../files/*`` every file of it. An upload whose file name changes from run to run
  (``reports/{{ ds }}.csv``) updates its folder's asset (:func:`stable_file_path`).

:func:`sanitize_uri` is registered under ``asset-uris`` in ``get_provider_info()``; Airflow calls it
for every ``mdsp://`` asset, so equal data gets equal URIs however they were typed. This module is
imported by the providers manager: it stays free of Airflow imports at module level.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote, unquote, urlsplit

if TYPE_CHECKING:
    from airflow.sdk import Asset

#: The URI scheme of Insights Hub assets.
SCHEME = "mdsp"
#: Second path segment that marks a file URI (``/<asset id>/files/<path>``).
FILES_SEGMENT = "files"
#: Last path segment of a folder's asset: every file under it (``/<asset id>/files/<folder>/*``).
EVERY_FILE = "*"

_DEFAULT_PORTS = {"443", "80"}
_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")
# Segments are quoted with these left readable; everything else is percent-encoded.
_SAFE = "-._~!$&'()*+,;=:@"


def gateway_host(gateway: str) -> str:
    """Return the host part used in asset URIs from a gateway URL or host.

    ``https://Gateway.EU1.mindsphere.io/`` and ``gateway.eu1.mindsphere.io:443`` both give
    ``gateway.eu1.mindsphere.io``; a non-default port is kept (``127.0.0.1:8080`` for the emulator).

    :param gateway: the connection's host, with or without scheme.
    :raises ValueError: no usable host.
    """
    text = str(gateway or "").strip()
    netloc = urlsplit(text if "//" in text else f"//{text}").netloc
    host = netloc.rpartition("@")[2].lower()
    name, _, port = host.partition(":")
    host = name if port in _DEFAULT_PORTS or not port else f"{name}:{port}"
    if not host or not _HOST.match(host):
        raise ValueError(f"Asset URI host {gateway!r} is not a host name such as gateway.eu1.mindsphere.io")
    return host


def timeseries_asset_uri(host: str, asset_id: str, aspect: str) -> str:
    """Return the asset URI of an asset's aspect, ``mdsp://<host>/<asset id>/<aspect>``.

    :param host: the gateway host or URL (see :func:`gateway_host`).
    :param asset_id: the Insights Hub asset id.
    :param aspect: the aspect (property set) name.
    """
    return _build(host, [asset_id, aspect])


def file_asset_uri(host: str, asset_id: str, file_path: str) -> str:
    """Return the asset URI of a file of an asset, ``mdsp://<host>/<asset id>/files/<file path>``.

    A path ending in ``/`` names a folder, the asset of the files under it, and ``/`` alone every
    file of the asset; their URIs end in ``/*`` (Airflow drops a trailing ``/`` from asset URIs):
    ``mdsp://<host>/<asset id>/files/reports/*``, ``mdsp://<host>/<asset id>/files/*``.

    :param host: the gateway host or URL.
    :param asset_id: the asset (entity) id the file belongs to.
    :param file_path: the file's path in IoT File, e.g. ``reports/2026-01.csv``, or a folder, ``reports/``.
    """
    text = str(file_path or "")
    inner = text.strip("/")
    segments = inner.split("/") if inner else []
    if not segments and text != "/":
        raise ValueError("The file path of an mdsp file asset must not be empty; '/' names every file of the asset")
    folder = [EVERY_FILE] if not segments or text.endswith("/") else []
    return _build(host, [asset_id, FILES_SEGMENT, *segments, *folder])


def stable_file_path(file_path: object) -> str:
    """Return the part of an upload's file path that is the same in every run: its Airflow asset's path.

    A literal path is the file itself; a templated one is the folder before its first template
    expression; a path that is all template (or comes from an upstream task) is ``/``, every file
    of the asset. ``reports/day.csv`` gives ``reports/day.csv``, ``reports/{{ ds }}.csv`` and
    ``reports/day-{{ ds }}.csv`` give ``reports/``, ``{{ ds }}/day.csv`` gives ``/``. So a schedule
    on that asset keeps working from run to run, and Airflow does not collect one asset per file.

    :param file_path: the upload's ``file_path`` as written in the DAG, before rendering.
    """
    if not isinstance(file_path, str):
        return "/"
    cuts = [i for i in (file_path.find("{{"), file_path.find("{%")) if i >= 0]
    head = file_path[: min(cuts)].rpartition("/")[0] if cuts else file_path
    parts = [p for p in head.split("/") if p.strip()]
    if not parts:
        return "/"
    return "/".join(parts) + ("/" if cuts else "")


def timeseries_asset(host: str, asset_id: str, aspect: str, **kwargs: Any) -> Asset:
    """Return the Airflow ``Asset`` of an asset's aspect, for ``schedule=``, ``outlets`` or ``inlets``.

    :param host: the gateway host or URL.
    :param asset_id: the Insights Hub asset id.
    :param aspect: the aspect name.
    :param kwargs: passed to ``Asset`` (``name``, ``group``, ``extra``).
    """
    from airflow.sdk import Asset

    return Asset(uri=timeseries_asset_uri(host, asset_id, aspect), **kwargs)


def file_asset(host: str, asset_id: str, file_path: str, **kwargs: Any) -> Asset:
    """Return the Airflow ``Asset`` of a file of an asset.

    :param host: the gateway host or URL.
    :param asset_id: the asset id.
    :param file_path: the file's path in IoT File.
    :param kwargs: passed to ``Asset``.
    """
    from airflow.sdk import Asset

    return Asset(uri=file_asset_uri(host, asset_id, file_path), **kwargs)


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Validate and normalise an ``mdsp://`` asset URI (registered with Airflow under ``asset-uris``).

    The host is lower-cased without a default port; the asset id is lower-cased (Insights Hub
    ids are hex); aspect names and file paths keep their case; segments are
    percent-encoded the same way every time.

    :param uri: the split URI, as Airflow passes it.
    :raises ValueError: no host, a query, fewer than two path segments, an empty segment, or a
        ``files`` URI without a file path (``.../files/*`` names every file).
    """
    if not uri.netloc:
        raise ValueError("An mdsp:// asset URI needs the gateway host: mdsp://<gateway host>/<asset id>/<aspect>")
    if uri.query:
        raise ValueError("An mdsp:// asset URI takes no query string")
    segments = [unquote(s) for s in uri.path.strip("/").split("/")] if uri.path.strip("/") else []
    if len(segments) < 2 or any(not s.strip() for s in segments):
        raise ValueError(
            f"mdsp asset URI path {uri.path!r} must be /<asset id>/<aspect> or /<asset id>/files/<file path>"
        )
    if len(segments) > 2 and segments[1] != FILES_SEGMENT:
        raise ValueError(
            f"mdsp asset URI path {uri.path!r} has too many segments for /<asset id>/<aspect>; "
            "a file is /<asset id>/files/<file path>"
        )
    path = "/" + "/".join(quote(s, safe=_SAFE) for s in [segments[0].lower(), *segments[1:]])
    return uri._replace(scheme=SCHEME, netloc=gateway_host(uri.netloc), path=path, query="", fragment="")


def _build(host: str, segments: list[str]) -> str:
    for segment in segments:
        if not str(segment or "").strip():
            raise ValueError("Asset id, aspect and file path of an mdsp asset URI must not be empty")
    path = "/" + "/".join(quote(str(s), safe=_SAFE) for s in segments)
    return sanitize_uri(SplitResult(SCHEME, gateway_host(host), path, "", "")).geturl()


def is_literal(*values: Any) -> bool:
    """Tell whether every value is a plain, non-empty string known at DAG parse time (not a template)."""
    return all(isinstance(v, str) and v.strip() and "{{" not in v and "{%" not in v for v in values)


def writes_alias_name(dag_id: str | None, task_id: str) -> str:
    """Return the name of the ``AssetAlias`` through which a task emits the assets it wrote at run time."""
    return f"mdsp-writes:{dag_id}.{task_id}" if dag_id else f"mdsp-writes:{task_id}"


def configured_gateway_host() -> str | None:
    """Return the gateway host set once for all operators, ``[mdsp] gateway_host`` (``AIRFLOW__MDSP__GATEWAY_HOST``).

    With it, an operator whose ids are literal declares its asset at parse time without its own
    ``gateway_host`` (no ``AssetAlias``). Reading Airflow's configuration is cheap and does no I/O
    beyond what Airflow has already loaded.
    """
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow 3.1 keeps the configuration in the core package
        from airflow.configuration import conf
    value = conf.get("mdsp", "gateway_host", fallback=None)
    return str(value).strip() or None if value else None


def asset_events(triggering_asset_events: Any) -> list[dict[str, Any]]:
    """Return a run's triggering asset events as plain dicts ``{"uri", "extra", "timestamp"}``, oldest first.

    Works the same whether the DAG is scheduled on an ``Asset`` or on the ``AssetAlias`` of a
    writer that only knew its asset at run time (then the keys of ``triggering_asset_events`` are
    aliases, which have no ``uri``): the URI is the one of the asset each event is about.

    :param triggering_asset_events: the run's ``triggering_asset_events`` (``context`` key).
    """
    found = []
    for key, events in triggering_asset_events.items() if triggering_asset_events else ():
        for event in events:
            asset = getattr(event, "asset", None)
            uri = getattr(asset, "uri", None) or getattr(key, "uri", None)
            stamp = getattr(event, "timestamp", None)
            found.append({"uri": uri, "extra": dict(getattr(event, "extra", None) or {}), "timestamp": stamp})
    return sorted(found, key=lambda e: str(e["timestamp"] or ""))


class AssetDeclarations:
    """Declare the Insights Hub assets an operator reads or writes, and emit write events at run time.

    With a ``gateway_host`` (the operator's, else :func:`configured_gateway_host`) and ids that are
    literal at parse time, the assets go straight into the
    task's ``inlets``/``outlets`` (Airflow emits the events of outlets on success). Otherwise a
    writer lists an ``AssetAlias`` in ``outlets`` and adds the concrete assets to it at run time
    (with the connection's gateway host), so a DAG scheduled on the asset still runs after it.
    Mapped tasks always use the alias: a mapped task's outlets are not known at parse time.

    :param operator: the operator, after ``BaseOperator.__init__``.
    :param gateway_host: host for the URIs; ``None`` to use the connection's gateway at run time.
    :param make: builds the asset of one ``(asset id, aspect or file path)`` pair:
        :func:`timeseries_asset` (default) or :func:`file_asset`.
    """

    def __init__(self, operator: Any, gateway_host: str | None, make: Callable[..., Asset] = timeseries_asset) -> None:
        self.operator = operator
        self.gateway_host = gateway_host or configured_gateway_host()
        self.make = make
        self.alias: Any = None
        self.declared: list[Any] = []

    def _literal_assets(self, pairs: list[tuple[Any, Any]] | None) -> list[Asset] | None:
        """Return the assets of ``pairs`` if they can be declared at parse time, else ``None``."""
        mapped = getattr(self.operator, "_BaseOperator__from_mapped", False)
        if not self.gateway_host or mapped or pairs is None or not all(is_literal(*p) for p in pairs):
            return None
        return [self.make(self.gateway_host, a, b) for a, b in pairs]

    def declare_read(self, pairs: list[tuple[Any, Any]] | None) -> None:
        """Add the assets read to ``inlets`` when they are known at parse time (lineage only)."""
        assets = self._literal_assets(pairs)
        if assets:
            self.operator.inlets = [*self.operator.inlets, *assets]

    def declare_named(self, asset: Any) -> None:
        """Declare an Airflow asset the user named (an ``Asset``, or its name) in ``outlets``, without an alias.

        :param asset: the ``Asset``, or a name for ``Asset(name)``.
        :raises MdspConfigError: neither an ``Asset`` nor a non-empty name.
        """
        from airflow.sdk import Asset

        from airflow_provider_mdsp.exceptions import MdspConfigError

        if isinstance(asset, str) and asset.strip() and is_literal(asset):
            asset = Asset(asset.strip())
        if not isinstance(asset, Asset):
            raise MdspConfigError(
                f"airflow_asset must be an airflow.sdk.Asset or its name (known when the DAG is parsed), not {asset!r}",
                field="airflow_asset",
            )
        self.declared = [asset]
        self.operator.outlets = [*self.operator.outlets, asset]

    def declare_written(self, pairs: list[tuple[Any, Any]] | None) -> None:
        """Add the assets written to ``outlets``, or the alias that will carry them at run time."""
        assets = self._literal_assets(pairs)
        if assets:
            self.declared = assets
            self.operator.outlets = [*self.operator.outlets, *assets]
            return
        from airflow.sdk import AssetAlias

        op = self.operator
        dag_id = op.dag.dag_id if op.has_dag() else None
        self.alias = AssetAlias(writes_alias_name(dag_id, op.task_id))
        op.outlets = [*op.outlets, self.alias]

    def emit(self, context: Any, pairs: list[tuple[str, str]], *, extra: dict[str, Any] | None = None) -> None:
        """Record the write of ``pairs`` as asset events (through the alias, or on the declared outlets).

        :param context: the task context; without ``outlet_events`` (a bare ``execute`` call) nothing happens.
        :param pairs: ``(asset id, aspect)`` pairs actually written.
        :param extra: small JSON attached to each event, e.g. the record count.
        """
        events = context.get("outlet_events") if hasattr(context, "get") else None
        if events is None or not pairs:
            return
        if self.alias is None:
            for asset in self.declared:
                events[asset].extra = dict(extra or {})
            return
        host = self.gateway_host or self.operator.hook.config.settings.gateway_url
        for asset_id, aspect in pairs:
            events[self.alias].add(self.make(host, asset_id, aspect), extra=dict(extra or {}))
