"""Operators for the Integrated Data Lake: upload, download and list objects, export time series into it.

Objects move through pre-signed URLs, streamed both ways (memory stays flat for files of several
GB); downloads land atomically at any ``ObjectStoragePath``. The export starts a
``timeSeriesImportJobs`` job named after the task instance, so a retried or re-run task finds its
job again instead of exporting twice. Sources: :mod:`airflow_provider_mdsp.client.datalake`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.base import (
    MdspBaseOperator,
    MdspListOperator,
    TimeWindowMixin,
    one_source,
    open_source,
)
from airflow_provider_mdsp.operators.jobs import MdspJobOperator
from airflow_provider_mdsp.operators.waiting import result_from_event
from airflow_provider_mdsp.params import names_list
from airflow_provider_mdsp.timeutil import format_time

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_mdsp.triggers.datalake import MdspDataLakeImportJobTrigger


def _names(value: str | Iterable[str] | None, name: str) -> list[str]:
    names = names_list(value)
    if not names:
        raise MdspConfigError(f"{name} must name at least one, e.g. ['PumpData']", field=name)
    return names


def relative_to(path: str, folder: str) -> str:
    """Return ``path`` relative to ``folder`` (both lake paths)."""
    prefix = folder.strip("/") + "/"
    clean = path.strip("/")
    return clean[len(prefix) :] if clean.startswith(prefix) else clean.rsplit("/", 1)[-1]


class MdspDataLakeUploadOperator(MdspBaseOperator):
    """Upload a local or object-storage file to a Data Lake path (replacing an object there).

    :param lake_path: the object path in the lake, e.g. ``reports/2024-05-01/kpi.csv`` (templated).
    :param local_path: a file on the worker (templated), or
    :param source_path: any ``ObjectStoragePath`` URI (templated).
    :param subtenant_id: a tenant writing into its subtenant's lake (templated).
    :returns: ``{"path", "bytes"}``.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "lake_path",
        "local_path",
        "source_path",
        "subtenant_id",
    )

    def __init__(
        self,
        *,
        lake_path: str,
        local_path: str | None = None,
        source_path: str | None = None,
        subtenant_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lake_path = lake_path
        self.local_path = local_path
        self.source_path = source_path
        self.subtenant_id = subtenant_id

    def execute(self, context: Context) -> dict[str, Any]:
        """Stream the source to the lake."""
        from airflow_provider_mdsp.operators.output import storage_path

        source = storage_path(one_source(self.local_path, self.source_path))
        with open_source(source, local_path=self.local_path) as stream:
            result = self.hook.client.datalake.upload_object(
                self.lake_path, stream, subtenant_id=self.subtenant_id or None
            )
        self.log.info("Uploaded %s to the Data Lake at %s (%s bytes)", source, result["path"], result["bytes"])
        return result


class MdspDataLakeDownloadOperator(MdspBaseOperator):
    """Download a lake object, or every object below a lake folder, to any ``ObjectStoragePath``.

    Each file is streamed and written atomically (nothing half-written appears at the target).

    :param lake_path: one object, written to ``output_path`` (templated); or
    :param lake_folder: every object below this folder, written below ``output_path`` keeping the
        paths relative to the folder (templated).
    :param output_path: the target file (``lake_path``) or folder (``lake_folder``) URI (templated).
    :param subtenant_id: a tenant reading its subtenant's lake (templated).
    :returns: ``{"files": [{"lake_path", "path", "bytes"}], "bytes": total}``.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "lake_path",
        "lake_folder",
        "output_path",
        "subtenant_id",
    )

    def __init__(
        self,
        *,
        output_path: str,
        lake_path: str | None = None,
        lake_folder: str | None = None,
        subtenant_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.output_path = output_path
        self.lake_path = lake_path
        self.lake_folder = lake_folder
        self.subtenant_id = subtenant_id

    def execute(self, context: Context) -> dict[str, Any]:
        """Stream each object to its target."""
        from airflow_provider_mdsp.operators.output import atomic_output, storage_path

        if bool(self.lake_path) == bool(self.lake_folder):
            raise MdspConfigError("Give exactly one of lake_path and lake_folder", field="lake_path")
        if self.output_path in (None, ""):
            raise MdspConfigError("output_path is required, e.g. 's3://bucket/lake-copy/'", field="output_path")
        datalake, subtenant = self.hook.client.datalake, self.subtenant_id or None
        target = storage_path(self.output_path)
        if self.lake_path:
            pairs = [(str(self.lake_path).strip("/"), target)]
        else:
            folder = str(self.lake_folder)
            objects = datalake.iter_objects(folder, subtenant_id=subtenant)
            pairs = [(o["path"], target / relative_to(o["path"], folder)) for o in objects]
        files = []
        for lake_path, out in pairs:
            with atomic_output(out) as handle:
                written = datalake.download_object(lake_path, handle, subtenant_id=subtenant)
            files.append({"lake_path": lake_path, "path": str(out), "bytes": written})
        self.log.info("Downloaded %d Data Lake objects to %s", len(files), target)
        return {"files": files, "bytes": sum(f["bytes"] for f in files)}


class MdspListDataLakeObjectsOperator(MdspListOperator):
    """List the objects below a Data Lake folder: ``[{"path", "name", "size", "lastModified", "tags"}]``.

    :param folder: the lake folder (templated).
    :param subtenant_id: a tenant listing its subtenant's lake (templated).
    :param max_xcom_records: the most objects returned; more fails the task with advice.
    """

    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "folder", "subtenant_id")

    def __init__(
        self,
        *,
        folder: str,
        subtenant_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.folder = folder
        self.subtenant_id = subtenant_id

    def execute(self, context: Context) -> list[dict[str, Any]]:
        """Page through the folder."""
        keys = ("path", "name", "size", "lastModified", "tags")
        objects = self.hook.client.datalake.iter_objects(self.folder, subtenant_id=self.subtenant_id or None)
        return self.bounded_list(
            ({k: obj.get(k) for k in keys} for obj in objects),
            what=f"objects below {self.folder}",
            advice="list a deeper folder",
        )


class MdspDataLakeExportOperator(TimeWindowMixin, MdspJobOperator):
    """Export a time-series window of assets and aspects into the Data Lake, and wait for the job.

    The job is named ``job_name`` (default: DAG, task, map index and run id), and looked up by that
    name first: a retry or re-run of the task waits for (or reuses) the job it started rather than
    exporting twice. A job that FAILED is started anew. The window is ``from_time``/``to_time`` or
    the run's data interval.

    :param asset_ids: asset ids (templated; an XComArg list works).
    :param aspect_names: aspect names (templated).
    :param destination: the lake folder for the files (templated).
    :param from_time: start of the window (templated); default the data interval start.
    :param to_time: end of the window (templated); default the data interval end.
    :param lookback: window length for runs without a data interval.
    :param job_name: the job's name (templated).
    :param subtenant_id: a tenant exporting into its subtenant's lake (templated).
    :param wait: wait for the job to end (``poll_interval``, ``timeout`` and ``deferrable`` as
        :class:`~airflow_provider_mdsp.operators.jobs.MdspJobOperator` describes).
    :returns: ``{"job_id", "name", "status", "destinationPath", "fileCount", "message", "from", "to"}``.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "asset_ids",
        "aspect_names",
        "destination",
        "from_time",
        "to_time",
        "job_name",
        "subtenant_id",
    )

    def __init__(
        self,
        *,
        asset_ids: str | list[str],
        aspect_names: str | list[str],
        destination: str | None = None,
        job_name: str | None = None,
        subtenant_id: str | None = None,
        wait: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.asset_ids = asset_ids
        self.aspect_names = aspect_names
        self.destination = destination
        self.job_name = job_name
        self.subtenant_id = subtenant_id
        self.wait = wait

    def default_job_name(self, context: Context) -> str:
        """Return the job name of this task instance: DAG, task, map index and run id."""
        ti = context.get("ti")
        index = getattr(ti, "map_index", -1)
        suffix = f"[{index}]" if index is not None and index >= 0 else ""
        return f"{self.dag_id}.{self.task_id}{suffix}.{context.get('run_id')}"

    def execute(self, context: Context) -> dict[str, Any]:
        """Find or start the export job, then wait as configured."""
        start, end = self.window(context)
        name = self.job_name or self.default_job_name(context)
        datalake, subtenant = self.hook.client.datalake, self.subtenant_id or None
        job = datalake.find_import_job(name, subtenant_id=subtenant)
        if job is not None and str(job.get("status")).upper() != "FAILED":
            self.log.info("Data Lake import job %s (%s) exists already: %s", job["id"], name, job.get("status"))
        else:
            job = datalake.create_import_job(
                name,
                _names(self.asset_ids, "asset_ids"),
                _names(self.aspect_names, "aspect_names"),
                from_=start,
                to=end,
                destination=self.destination or None,
                subtenant_id=subtenant,
            )
            self.log.info("Started Data Lake import job %s (%s)", job["id"], name)
        window = {"from": format_time(start), "to": format_time(end)}
        context["ti"].xcom_push(key="job_id", value=str(job["id"]))
        if not self.wait:
            return {"job_id": str(job["id"]), "name": name, "status": job.get("status"), **window}
        trigger = self.make_trigger(str(job["id"]))
        if self.deferrable:
            result = trigger.check_once(self.hook)
            if result is None:
                self.defer_to_trigger(trigger.job_id, kwargs={"window": window})
            return {**self._finish(trigger.outcome(result)), **window}
        return {**self._finish(self.wait_in_worker(trigger)), **window}

    @staticmethod
    def job_trigger() -> type[MdspDataLakeImportJobTrigger]:
        """Return the trigger class that checks the import job."""
        from airflow_provider_mdsp.triggers.datalake import MdspDataLakeImportJobTrigger

        return MdspDataLakeImportJobTrigger

    def job_label(self) -> str:
        """Return what messages call the job."""
        return "Data Lake import job"

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, window: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Resume after the trigger fired: the job's summary, or its failure or the timeout as an error."""
        return {**self._finish(event), **dict(window or {})}

    def _finish(self, event: Mapping[str, Any] | None) -> dict[str, Any]:
        from airflow_provider_mdsp.exceptions import MdspWaitTimeoutError

        return dict(result_from_event(event, on_timeout=MdspWaitTimeoutError))
