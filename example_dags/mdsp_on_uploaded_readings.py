"""Asset-aware consumer: after ``mdsp_files_and_bulk_import`` uploads a readings file, fetch that version.

The upload declares the Airflow asset ``mdsp_imported_readings`` (``airflow_asset=`` on
``MdspUploadFileOperator``): one asset for every day's file, so this schedule keeps working from
run to run. Each upload records an event on it whose ``extra`` names the file version: ``entity_id``,
``path``, ``etag``, ``size``, ``records``, ``first_time``/``last_time`` (first and last reading)
and ``from``/``to`` (the day).

1. ``uploaded_files`` lists the files of this run. A run started by uploads takes them from its
   ``triggering_asset_events`` (``asset_events()``), one per file (of several uploads of the same
   file in one run, the last: the earlier versions are gone). A manual run has no
   triggering events: it takes the newest ``.json`` file under the folder ``imports/`` of the
   param ``asset_id`` (the asset the producer uploads to), at its current ETag, and so writes the
   same summary for the latest upload. A manual run before any upload fails, saying so;
2. ``download`` fetches each file at exactly that ETag (``MdspDownloadFileOperator(etag=...)``
   fails when the file was replaced since) into the run's output folder, one mapped task per
   file, labelled by its path;
3. ``summarise`` counts the readings of each file and their first and last ``_time``, checks
   them against the event's ``records``/``first_time``/``last_time`` when the event gave them, and
   writes ``summary.json`` next to the downloads: per file the entity, path, ETag, bytes, records,
   time range and where the file came from (``"asset event"`` or ``"newest file"``).

Outputs go to ``<mdsp_output_dir>/mdsp_on_uploaded_readings/<run id>/``. With a gateway host
known at parse time (``gateway_host=`` or ``[mdsp] gateway_host``) and a literal entity id, an
upload without ``airflow_asset`` declares ``mdsp://<host>/<entity>/files/<folder>/`` instead,
and a consumer is scheduled on ``file_asset(host, entity, "imports/")`` (docs/event-driven.md).
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, Asset, Param, task

from airflow_provider_mdsp.operators.files import MdspDownloadFileOperator
from airflow_provider_mdsp.operators.shared_output import OUTPUT_DIR_TEMPLATE, require_shared_output

#: The asset ``mdsp_files_and_bulk_import`` updates with each readings file it uploads.
IMPORTED_READINGS = Asset("mdsp_imported_readings")
#: The emulator's demo pump ``Pump-B2-2``, the producer's default asset (docs/emulator.md).
DEMO_PUMP_B2_2 = "63daa7289829c907b61876312baa80ff"
OUTPUT_DIR = OUTPUT_DIR_TEMPLATE + "/{{ dag.dag_id }}/{{ run_id | replace(':', '_') }}"

with DAG(
    dag_id="mdsp_on_uploaded_readings",
    description="Fetch each readings file right after it was uploaded (asset-aware scheduling)",
    doc_md=__doc__,
    schedule=[IMPORTED_READINGS],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["mdsp", "example", "files", "assets"],
    params={
        "asset_id": Param(DEMO_PUMP_B2_2, type="string", description="Asset a manual run looks at"),
        "folder": Param("imports/", type="string", description="Folder whose newest file a manual run takes"),
    },
    default_args={"mdsp_conn_id": "mdsp_default", "retries": 2, "pre_execute": require_shared_output},
) as dag:

    @task
    def uploaded_files(params: dict | None = None, **context) -> list[dict]:
        """Return the files to fetch: those of the triggering events, or for a manual run the newest one."""
        from airflow_provider_mdsp.assets import asset_events

        assert params is not None  # filled in by Airflow
        latest: dict[tuple, dict] = {}  # oldest first: a later upload of the same file replaces an earlier one
        for event in asset_events(context.get("triggering_asset_events")):
            extra = event["extra"]
            if extra.get("path") and extra.get("etag") is not None:
                latest[(extra.get("entity_id"), extra["path"])] = {**extra, "source": "asset event"}
                print(
                    f"Event {event['timestamp']}: {extra['path']} at etag {extra['etag']}, {extra.get('records')} rows"
                )
        if latest:
            return list(latest.values())
        from airflow_provider_mdsp.hooks.mdsp import MdspHook

        folder = params["folder"].strip("/") + "/"
        search = MdspHook().client.files.iter_files(
            params["asset_id"], filter=f"path eq '{folder}*' and name eq '*.json'", order="updated desc", limit=1
        )
        newest = next(iter(search), None)
        if newest is None:
            raise ValueError(
                f"No .json file under {folder} on asset {params['asset_id']}: run mdsp_files_and_bulk_import"
            )
        path = f"{newest['path'].strip('/')}/{newest['name']}"
        print(f"No triggering event (a manual run): the newest file is {path} at etag {newest['etag']}")
        return [{"entity_id": params["asset_id"], "path": path, "etag": newest["etag"], "source": "newest file"}]

    files = uploaded_files()

    @task
    def download_kwargs(files: list[dict]) -> list[dict]:
        """Return the arguments of each download: the file and the version announced."""
        return [{"entity_id": f["entity_id"], "file_path": f["path"], "etag": str(f["etag"])} for f in files]

    download = MdspDownloadFileOperator.partial(
        task_id="download",
        output_path=OUTPUT_DIR + "/{{ task.file_path }}",
        map_index_template="{{ task.file_path }}",
    ).expand_kwargs(download_kwargs(files))

    @task
    def summarise(files: list[dict], downloads: list[dict], output_dir: str, **context) -> dict:
        """Count each file's readings and their time range, check them against the event, write summary.json."""
        import json

        from airflow.sdk import ObjectStoragePath

        rows = []
        for announced, got in zip(files, downloads, strict=True):
            readings = json.loads(ObjectStoragePath(got["path"]).read_text())
            times = [r["_time"] for r in readings]
            found = {
                "records": len(readings),
                "first_time": min(times, default=None),
                "last_time": max(times, default=None),
            }
            differs = {k: (announced[k], v) for k, v in found.items() if k in announced and announced[k] != v}
            if differs:
                raise ValueError(f"{announced['path']} at etag {got['etag']} differs from its event: {differs}")
            keep = ("entity_id", "path", "etag", "source", "from", "to")
            rows.append({**{k: announced.get(k) for k in keep}, "bytes": got["bytes"], **found})
        summary = {"run_id": context["run_id"], "files": rows}
        target = ObjectStoragePath(output_dir) / "summary.json"
        target.write_text(json.dumps(summary, indent=2))
        print(f"Wrote {target}: {len(rows)} file(s), {sum(r['records'] for r in rows)} readings")
        return {"path": str(target), **summary}

    summarise(files, download.output, output_dir=OUTPUT_DIR)
