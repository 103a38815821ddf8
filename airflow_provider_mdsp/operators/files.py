"""Operators for IoT File: upload, download and search the files attached to an asset.

Files are streamed from and to any ``ObjectStoragePath`` (``file://``, ``s3://``, ``gs://`` …), one
part at a time: a large file never sits in a worker's memory, and above the part size the client
uses the multipart protocol, whose parts each fit in the gateway's 60-second limit.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.assets import AssetDeclarations, file_asset, stable_file_path
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspConflictError
from airflow_provider_mdsp.operators.base import (
    MdspBaseOperator,
    MdspReadOperator,
    one_source,
    open_source,
    path_value,
)
from airflow_provider_mdsp.operators.lineage import LineageMixin, storage_uri

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_mdsp.client.files import FilesClient

DEFAULT_CONTENT_TYPE = "application/octet-stream"


def guess_content_type(*names: str | None) -> str:
    """Return the MIME type guessed from the first name with a known extension, else octet-stream.

    :param names: file names or paths, tried in order (the remote path first).
    """
    for name in names:
        if name:
            guessed, _ = mimetypes.guess_type(str(name), strict=False)
            if guessed:
                return guessed
    return DEFAULT_CONTENT_TYPE


def normalise_path(file_path: str) -> str:
    """Return a remote file path the way the service stores it: no leading or doubled ``/``."""
    return "/".join(p for p in str(file_path or "").strip().split("/") if p)


#: Keys of an upstream summary given as ``source_path`` that the upload's asset event carries on.
SUMMARY_KEYS = ("records", "first_time", "last_time", "from", "to")


def source_summary(source: Any) -> dict[str, Any]:
    """Return what an upstream summary given as ``source_path`` says about the data: records and time range.

    :param source: the upload's ``source_path`` after rendering: a path, or a summary with ``path``.
    """
    return {k: source[k] for k in SUMMARY_KEYS if k in source} if isinstance(source, Mapping) else {}


class MdspUploadFileOperator(LineageMixin, MdspBaseOperator):
    """Upload a file to an asset, streamed from a local path or any object storage URI.

    Returns ``{"entityId", "path", "size", "etag", "parts"}`` (``parts`` is 1 for a single PUT).

    Each upload records one event on one Airflow asset that stays the same from run to run, so a
    DAG scheduled on it runs after every upload. That asset is ``airflow_asset`` when given, else
    ``mdsp://<gateway host>/<entity>/files/<path>`` where the path is the file's when ``file_path``
    is literal, and the folder before the first template expression when it is templated
    (``reports/{{ ds }}.csv`` updates ``.../files/reports/*``; see
    :func:`~airflow_provider_mdsp.assets.stable_file_path`). The event's ``extra`` names the
    concrete version: ``{"entity_id", "path", "etag", "size"}``, plus ``records``, ``first_time``,
    ``last_time``, ``from`` and ``to`` when ``source_path`` is an upstream summary that has them.

    Lineage: ``gateway_host`` is the host of the ``mdsp://`` asset it declares in ``outlets`` (or
    emits through an ``AssetAlias``), as :class:`~airflow_provider_mdsp.operators.lineage.LineageMixin` describes.

    :param entity_id: the asset id (templated).
    :param file_path: the path under the asset, e.g. ``reports/{{ ds }}.csv`` (templated).
    :param local_path: a file on the worker (templated); give this or ``source_path``.
    :param source_path: any ``ObjectStoragePath`` URI, e.g. ``s3://aws_conn@bucket/key.csv`` (templated),
        or the result of an upstream task that wrote a file, e.g. ``source_path=read.output``.
    :param content_type: MIME type stored with the file; guessed from the names when ``None``.
    :param description: free text stored with the file (templated).
    :param overwrite: replace an existing file (its current ETag is looked up and sent as
        ``If-Match``); when ``False`` an existing file makes the service refuse the upload.
    :param part_size: bytes per part of a multipart upload (at least 5 MB); the client's default
        (8 MB) when ``None``.
    :param airflow_asset: the Airflow asset each upload updates instead, an ``Asset`` or its name,
        e.g. ``Asset("pump_readings")``: declared in ``outlets`` at parse time whatever is templated,
        so a consumer's ``schedule=[Asset("pump_readings")]`` needs no gateway host.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "entity_id",
        "file_path",
        "local_path",
        "source_path",
        "description",
    )

    def __init__(
        self,
        *,
        entity_id: str,
        file_path: str,
        local_path: str | None = None,
        source_path: str | None = None,
        content_type: str | None = None,
        description: str | None = None,
        overwrite: bool = False,
        part_size: int | None = None,
        airflow_asset: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entity_id = entity_id
        self.file_path = file_path
        self.local_path = local_path
        self.source_path = source_path
        self.content_type = content_type
        self.description = description
        self.overwrite = overwrite
        self.part_size = part_size
        self.airflow_asset = airflow_asset
        # Taken before rendering: the part of the path every run shares names the asset.
        self.asset_path = stable_file_path(file_path)
        self._assets = AssetDeclarations(self, self.gateway_host, make=file_asset)
        if airflow_asset is not None:
            self._assets.declare_named(airflow_asset)
        else:
            self._assets.declare_written([(entity_id, self.asset_path)])

    def source_uri(self) -> str:
        """Return the one source given, as a URI or local path (an upstream summary gives its ``path``)."""
        return one_source(path_value(self.local_path, "local_path"), path_value(self.source_path, "source_path"))

    def execute(self, context: Context) -> dict[str, Any]:
        """Stream the source to IoT File and return what was stored."""
        from airflow_provider_mdsp.operators.output import storage_path

        source = storage_path(self.source_uri())
        remote = normalise_path(self.file_path)
        if not remote:
            raise MdspConfigError("file_path must name a file, e.g. 'reports/day.csv'", field="file_path")
        files = self.hook.client.files
        etag = current_etag(files, self.entity_id, remote) if self.overwrite else None
        options: dict[str, Any] = {"part_size": self.part_size} if self.part_size else {}
        content_type = self.content_type or guess_content_type(remote, source.name)
        self.log.info("Uploading %s to %s/%s (%s)", source, self.entity_id, remote, content_type)
        try:
            with open_source(source, local_path=self.local_path) as stream:
                stored = files.put_file(
                    self.entity_id,
                    remote,
                    stream,
                    content_type=content_type,
                    description=self.description,
                    etag=etag,
                    **options,
                )
        except MdspConflictError as exc:
            if self.overwrite:
                raise  # the file changed between the ETag lookup and the upload
            raise MdspConfigError(
                f"{remote} already exists on asset {self.entity_id} ({exc.message}); set overwrite=True to replace it",
                field="overwrite",
            ) from exc
        result = {k: stored.get(k) for k in ("entityId", "path", "size", "etag", "parts")}
        extra = {"entity_id": self.entity_id, "path": remote, "etag": result["etag"], "size": result["size"]}
        extra.update(source_summary(self.source_path))
        self._assets.emit(context, [(self.entity_id, self.asset_path)], extra=extra)
        self.record_lineage(inputs=[storage_uri(source)], outputs=[self.mdsp_uri(self.entity_id, file_path=remote)])
        return result


def current_etag(files: FilesClient, entity_id: str, file_path: str) -> str | None:
    """Return the ETag of an existing file (to replace it with ``If-Match``), or ``None`` if it is new.

    :param files: the IoT File client.
    :param entity_id: the asset id.
    :param file_path: the normalised remote path.
    """
    found = files.find_file(entity_id, file_path)
    return None if found is None or found.get("etag") is None else str(found["etag"])


class MdspDownloadFileOperator(LineageMixin, MdspBaseOperator):
    """Download a file of an asset into any object storage path, streamed and atomically.

    The bytes go to a hidden temporary sibling first and are moved into place only when complete;
    after a failure nothing is left at ``output_path``. Returns ``{"path", "bytes"}``, and ``etag``
    when one was asked for.

    Lineage: ``gateway_host`` is the host of the ``mdsp://`` asset it declares in ``inlets``,
    as :class:`~airflow_provider_mdsp.operators.lineage.LineageMixin` describes.

    :param entity_id: the asset id (templated).
    :param file_path: the path under the asset (templated).
    :param output_path: where to write, any ``ObjectStoragePath`` URI or local path (templated).
    :param etag: the version to download, e.g. the ``etag`` of an upload's asset event (templated):
        when the file is at another version before or after the download, the task fails with
        ``MdspConflictError`` (412) and writes nothing, so what it wrote is that version.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "entity_id",
        "file_path",
        "output_path",
        "etag",
    )

    def __init__(
        self,
        *,
        entity_id: str,
        file_path: str,
        output_path: str,
        etag: str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entity_id = entity_id
        self.file_path = file_path
        self.output_path = output_path
        self.etag = etag
        AssetDeclarations(self, self.gateway_host, make=file_asset).declare_read([(entity_id, file_path)])

    def execute(self, context: Context) -> dict[str, Any]:
        """Stream the file into ``output_path`` and return the path and size."""
        from airflow_provider_mdsp.operators.output import atomic_output, storage_path

        if self.output_path in (None, ""):
            raise MdspConfigError("output_path is required, e.g. 'file:///data/report.csv'", field="output_path")
        target = storage_path(self.output_path)
        files = self.hook.client.files
        path = normalise_path(self.file_path)
        wanted = None if self.etag in (None, "") else str(self.etag)
        if wanted:
            check_version(files, self.entity_id, path, wanted)
        with atomic_output(target) as handle:
            written = files.download_file(self.entity_id, path, handle)
            if wanted:  # still inside: a file replaced meanwhile leaves nothing at output_path
                check_version(files, self.entity_id, path, wanted)
        self.log.info("Downloaded %d bytes of %s/%s to %s", written, self.entity_id, path, target)
        self.record_lineage(inputs=[self.mdsp_uri(self.entity_id, file_path=path)], outputs=[storage_uri(target)])
        return {"path": str(target), "bytes": written, **({"etag": wanted} if wanted else {})}


def check_version(files: FilesClient, entity_id: str, file_path: str, etag: str) -> None:
    """Fail unless the file is at version ``etag`` now.

    :raises MdspConflictError: (412) the file is gone or at another version.
    """
    current = current_etag(files, entity_id, file_path)
    if current != etag:
        now = "gone" if current is None else f"at version {current}"
        raise MdspConflictError(
            412,
            f"{file_path} on asset {entity_id} is {now}, not the version {etag} asked for (etag): it was replaced "
            "after that version was announced; a later event announces the new one",
        )


class MdspSearchFilesOperator(MdspReadOperator):
    """List the files of an asset matching a filter, into XCom or a file.

    Returns ``{"records", "first_time", "last_time", "data"}`` (file metadata, times of ``updated``),
    or with ``output_path`` ``{"path", "records", "format", "bytes", "first_time", "last_time"}``.

    Output: ``output_path`` (a file, written atomically; templated), ``output_format`` and
    ``max_xcom_records``, as :class:`~airflow_provider_mdsp.operators.base.MdspReadOperator` describes.

    :param entity_id: the asset id (templated).
    :param filter: e.g. ``name eq 'report*.csv' and path eq 'daily/'`` (``eq``, ``gt``, ``gte``, ``lt``,
        ``lte``; ``*`` wildcard; ``and`` only) (templated).
    :param order: one field, e.g. ``updated desc``.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "entity_id",
        "filter",
        "order",
    )

    def __init__(
        self,
        *,
        entity_id: str,
        filter: str | None = None,
        order: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entity_id = entity_id
        self.filter = filter
        self.order = order

    def execute(self, context: Context) -> Mapping[str, Any]:
        """Page through the file search and deliver the metadata."""
        pages = self.hook.client.files.iter_file_pages(self.entity_id, filter=self.filter or None, order=self.order)
        return self.deliver(
            pages,
            time_field="updated",
            what="files",
        )
