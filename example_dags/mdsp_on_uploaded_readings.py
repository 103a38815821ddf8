"""Asset-aware consumer: when ``mdsp_files_and_bulk_import`` has uploaded a readings file, fetch that version.

The upload's file name holds the day (``readings/<day>.json``), so its Airflow asset is known only
at run time and is emitted through the upload task's ``AssetAlias``
(``mdsp-writes:mdsp_files_and_bulk_import.upload_readings``). This DAG is scheduled on that alias:
each upload starts a run, and ``asset_events()`` turns the run's ``triggering_asset_events`` into
plain dicts with each file's asset URI and the event's ``extra``: ``entity_id``, ``path``, ``etag``
and ``size`` of exactly the version that was uploaded.

1. ``uploaded_files`` lists the uploaded files of the run's events (a manual run has none: the
   download is then skipped);
2. ``download`` fetches each file into the output folder (mapped, labelled with the file path);
3. ``check`` compares each download's size with the size the upload announced.

With a gateway host known at parse time (``gateway_host=`` on the upload or ``[mdsp] gateway_host``
in Airflow's configuration) and literal ids, a writer declares its asset directly instead, and a
consumer is scheduled on ``file_asset(host, asset_id, path)`` or ``timeseries_asset(...)``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, AssetAlias, task

from airflow_provider_mdsp.assets import writes_alias_name
from airflow_provider_mdsp.operators.files import MdspDownloadFileOperator
from airflow_provider_mdsp.operators.shared_output import OUTPUT_DIR_TEMPLATE, require_shared_output

UPLOADS = AssetAlias(writes_alias_name("mdsp_files_and_bulk_import", "upload_readings"))
OUTPUT_DIR = OUTPUT_DIR_TEMPLATE + "/{{ dag.dag_id }}/{{ run_id | replace(':', '_') }}"

with DAG(
    dag_id="mdsp_on_uploaded_readings",
    description="Fetch each readings file right after it was uploaded (asset-aware scheduling)",
    doc_md=__doc__,
    schedule=[UPLOADS],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["mdsp", "example", "files", "assets"],
    default_args={"mdsp_conn_id": "mdsp_default", "retries": 2, "pre_execute": require_shared_output},
) as dag:

    @task
    def uploaded_files(**context) -> list[dict]:
        """Return ``entity_id``/``file_path`` of each file the triggering uploads announced."""
        from airflow_provider_mdsp.assets import asset_events

        files = []
        for event in asset_events(context.get("triggering_asset_events")):
            extra = event["extra"]
            if extra.get("path"):
                files.append({"entity_id": extra["entity_id"], "file_path": extra["path"]})
                print(f"{event['uri']}: etag {extra.get('etag')}, {extra.get('size')} bytes")
        return files

    @task
    def expected_sizes(**context) -> list[int]:
        """Return the size each upload announced, in the order of ``uploaded_files``."""
        from airflow_provider_mdsp.assets import asset_events

        events = asset_events(context.get("triggering_asset_events"))
        return [int(e["extra"]["size"]) for e in events if e["extra"].get("path")]

    download = MdspDownloadFileOperator.partial(
        task_id="download",
        output_path=OUTPUT_DIR + "/{{ ti.map_index }}.json",
        map_index_template="{{ task.file_path }}",
    ).expand_kwargs(uploaded_files())

    @task
    def check(downloads: list[dict], sizes: list[int]) -> dict:
        """Fail when a downloaded file's size differs from the uploaded version's."""
        got = [d["bytes"] for d in downloads]
        if got != sizes:
            raise ValueError(f"Downloaded sizes {got} differ from the uploaded sizes {sizes}")
        return {"files": len(got), "bytes": sum(got)}

    check(download.output, expected_sizes())
