"""Lineage of the read and write operators: Airflow's hook lineage collector and OpenLineage datasets.

An operator records what it read and wrote as URIs (``mdsp://<gateway host>/<asset id>/<aspect>``
and ``…/<asset id>/files/<path>`` for Insights Hub, the output or input file's own URI otherwise):

- the hook reports them to Airflow's hook-level lineage collector (what a registered hook lineage
  reader, for example the OpenLineage provider, picks up);
- :meth:`LineageMixin.get_openlineage_facets_on_complete` gives them to the OpenLineage provider as
  input and output datasets: namespace ``mdsp://<gateway host>``, name ``<asset id>/<aspect>`` or
  ``<asset id>/files/<path>``; files get namespace ``file`` or ``<scheme>://<bucket>`` and their path.

The OpenLineage provider is optional: nothing here imports it unless it calls the operator.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from airflow.sdk import BaseOperator

log = logging.getLogger(__name__)


def dataset_of(uri: str) -> tuple[str, str]:
    """Return the OpenLineage ``(namespace, name)`` of an Insights Hub asset URI or a storage path.

    ``mdsp://gateway.eu1.mindsphere.io/<asset>/<aspect>`` gives ``("mdsp://gateway.eu1.mindsphere.io",
    "<asset>/<aspect>")``; ``file:///data/a.jsonl`` or a bare path gives ``("file", "/data/a.jsonl")``;
    ``s3://aws_conn@bucket/key`` gives ``("s3://bucket", "key")`` (the connection id is left out).

    :param uri: the URI or local path.
    """
    parts = urlsplit(str(uri))
    if parts.scheme in ("", "file"):
        return "file", parts.path or str(uri)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}", parts.path.lstrip("/")


def storage_uri(path: Any) -> str:
    """Return the URI of an output or input path as given (``ObjectStoragePath`` or text)."""
    text = str(path)
    return text if "://" in text else f"file://{text}"


def report_to_collector(hook: Any, *, inputs: list[str], outputs: list[str]) -> None:
    """Report the URIs read and written to Airflow's hook lineage collector (nothing when it is off).

    :param hook: the hook that did the I/O (the collector keys its reports by it).
    :param inputs: URIs read.
    :param outputs: URIs written.
    """
    try:
        import airflow.sdk.lineage as lineage
    except ImportError:  # pragma: no cover - Airflow 3.1 keeps it in the core package
        import airflow.lineage.hook as lineage  # type: ignore[no-redef]
    collector = lineage.get_hook_lineage_collector()
    for uri in inputs:
        collector.add_input_asset(context=hook, uri=uri)
    for uri in outputs:
        collector.add_output_asset(context=hook, uri=uri)


class LineageMixin(BaseOperator):
    """Give an operator lineage: :meth:`record_lineage` in ``execute``, OpenLineage datasets on completion.

    It derives from ``BaseOperator`` for the reason
    :class:`~airflow_provider_mdsp.operators.base.TimeWindowMixin` does: ``.partial()`` checks its argument.

    :param gateway_host: the gateway host of the operator's ``mdsp://`` URIs, those of its Airflow
        assets (``mdsp://<host>/<asset id>/<aspect>``, ``…/<asset id>/files/<path>``) and of its
        lineage. With it (or ``[mdsp] gateway_host``) and literal ids, the assets read are declared in
        ``inlets`` and those written in ``outlets`` at parse time; otherwise a writer emits them at
        run time through an ``AssetAlias``, on the connection's gateway host.
    """

    _lineage: tuple[list[str], list[str]] = ([], [])

    def __init__(self, *, gateway_host: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gateway_host = gateway_host

    def mdsp_uri(self, asset_id: str, aspect: str | None = None, *, file_path: str | None = None) -> str:
        """Return the ``mdsp://`` URI of an aspect or file, on the operator's ``gateway_host`` or the connection's."""
        from airflow_provider_mdsp.assets import configured_gateway_host, file_asset_uri, timeseries_asset_uri

        host = self.gateway_host or configured_gateway_host()
        host = host or self.hook.config.settings.gateway_url  # type: ignore[attr-defined]
        if file_path is not None:
            return file_asset_uri(host, asset_id, file_path)
        return timeseries_asset_uri(host, asset_id, str(aspect))

    def record_lineage(self, *, inputs: list[str] | None = None, outputs: list[str] | None = None) -> None:
        """Keep what the task read and wrote, and report it through the hook's lineage collector.

        :param inputs: URIs read.
        :param outputs: URIs written.
        """
        self._lineage = (list(inputs or []), list(outputs or []))
        try:
            report_to_collector(getattr(self, "hook", None), inputs=self._lineage[0], outputs=self._lineage[1])
        except Exception as exc:  # lineage must never fail a task that did its work
            log.warning("Could not report lineage to Airflow's collector: %s", exc)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Return the OpenLineage input and output datasets of the finished task (OpenLineage provider)."""
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage

        inputs, outputs = self._lineage
        return OperatorLineage(
            inputs=[Dataset(namespace=ns, name=name) for ns, name in map(dataset_of, inputs)],
            outputs=[Dataset(namespace=ns, name=name) for ns, name in map(dataset_of, outputs)],
        )
