"""Plant KPIs to the Data Lake: walk the plant, ensure a KPI aspect, write a KPI per pump, export, verify.

Once per subtenant (one mapped task group each, all through the one ``mdsp_default`` connection,
each task impersonating its subtenant with ``sub_tenant=…``), for the run's data interval (a
manual run without one covers the 24 hours before its run time, filed under its run day):

1. ``list_subtenants`` lists the tenant's subtenants (``MdspListSubtenantsOperator``);
2. ``ensure_kpi_aspect`` declares the model the DAG writes into: the aspect type ``Kpi`` and the
   aspect ``Kpi`` on the pump asset type (``MdspEnsureAspectTypeOperator``; created once, never
   duplicated, updated only when the declaration changes);
3. ``walk_plant`` finds every pump below the root (``MdspListAssetHierarchyOperator``);
4. ``write_kpis`` computes each pump's mean flow rate over the interval and writes it as one
   ``Kpi`` record at the interval's end (a time-series PUT: a re-run replaces it);
5. ``export_window`` exports the pumps' ``PumpData`` and ``Kpi`` for the interval into the
   Integrated Data Lake with a ``timeSeriesImportJobs`` job named after the day, and waits in the
   triggerer (``MdspDataLakeExportOperator``: a re-run finds and reuses the day's job);
6. ``download_export`` copies the exported files from the lake to object storage through
   pre-signed URLs (``MdspDataLakeDownloadOperator``);
7. ``check_record_count`` checks that the copy holds every record that was read and written.

Re-running a day creates nothing twice: the model is ensured, the KPI records are replaced, the
export job is reused and the lake objects and copies are overwritten in place. Against the local
emulator the defaults fit the demo plant (pump type ``demo.Pump``); for a real tenant set the
params to your pump type and a KPI aspect type id with your tenant prefix.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, Param, task, task_group
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_mdsp.operators.datalake import MdspDataLakeDownloadOperator, MdspDataLakeExportOperator
from airflow_provider_mdsp.operators.hierarchy import MdspEnsureAspectTypeOperator, MdspListAssetHierarchyOperator
from airflow_provider_mdsp.operators.shared_output import OUTPUT_DIR_TEMPLATE, require_shared_output
from airflow_provider_mdsp.operators.tenants import MdspListSubtenantsOperator

#: The day a run covers: its data interval, or for a manual run without one, its run time.
RUN_DAY = "{{ (data_interval_start | default(dag_run.run_after, true)) | ds }}"
OUTPUT_DIR = OUTPUT_DIR_TEMPLATE + "/{{ dag.dag_id }}/" + RUN_DAY
#: The label of a Python task of the mapped group in the UI: its subtenant, not its map index.
BY_SUBTENANT = "{{ task.op_kwargs.sub_tenant }}"
KPI_ASPECT_TYPE = {
    "name": "Kpi",
    "category": "dynamic",
    "scope": "private",
    "description": "Daily pump KPIs computed by Airflow",
    "variables": [{"name": "FlowMean", "dataType": "DOUBLE", "unit": "l/min", "searchable": True}],
}

with DAG(
    dag_id="mdsp_plant_kpis_to_data_lake",
    description="Walk the plant, write a KPI per pump, export the day to the Data Lake, once per subtenant",
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable("0 1 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["mdsp", "example", "asset-model", "data-lake", "subtenants"],
    params={
        "pump_type": Param("demo.Pump", type="string", description="Asset type of the pumps"),
        "kpi_type": Param("demo.Kpi", type="string", description="Aspect type id of the KPIs ({tenant}.Kpi)"),
    },
    # Every task first checks that the output location works on this executor (docs/cluster.md).
    default_args={"mdsp_conn_id": "mdsp_default", "retries": 2, "pre_execute": require_shared_output},
) as dag:
    subtenants = MdspListSubtenantsOperator(task_id="list_subtenants")

    ensure_kpi_aspect = MdspEnsureAspectTypeOperator(
        task_id="ensure_kpi_aspect",
        type_id="{{ params.kpi_type }}",
        aspect_type=KPI_ASPECT_TYPE,
        asset_type_ids=["{{ params.pump_type }}"],
        aspect_name="Kpi",
    )

    @task(map_index_template=BY_SUBTENANT)
    def write_kpis(pumps: list[dict], sub_tenant: str, **context) -> dict:
        """Read each pump's flow rate over the interval and write its mean as the interval's Kpi record."""
        from airflow_provider_mdsp.hooks.mdsp import MdspHook
        from airflow_provider_mdsp.operators.base import resolve_window
        from airflow_provider_mdsp.timeutil import format_time

        start, end = resolve_window(None, None, context)
        client = MdspHook(sub_tenant=sub_tenant).client
        read = 0
        for pump in pumps:
            flows = [
                r["FlowRate"]
                for r in client.timeseries.iter_timeseries(pump["assetId"], "PumpData", from_=start, to=end)
                if r.get("FlowRate") is not None
            ]
            read += len(flows)
            if flows:
                client.timeseries.put_timeseries(
                    pump["assetId"], "Kpi", [{"_time": format_time(end), "FlowMean": round(sum(flows) / len(flows), 3)}]
                )
        print(f"{sub_tenant}: wrote the KPIs of {len(pumps)} pumps from {read} readings")
        return {"asset_ids": [p["assetId"] for p in pumps], "readings": read, "kpis": len(pumps)}

    @task(map_index_template=BY_SUBTENANT)
    def check_record_count(kpis: dict, downloaded: dict, sub_tenant: str) -> dict:
        """Count the records in the downloaded export: every reading and every KPI, none missing or extra."""
        import json

        from airflow.sdk import ObjectStoragePath

        counts = {"PumpData": 0, "Kpi": 0}
        for file in downloaded["files"]:
            aspect = file["lake_path"].rsplit("/", 1)[-1].removesuffix(".json")
            with ObjectStoragePath(file["path"]).open("r") as handle:
                counts[aspect] = counts.get(aspect, 0) + sum(1 for line in handle if json.loads(line))
        expected = {"PumpData": kpis["readings"], "Kpi": kpis["kpis"]}
        if counts != expected:
            raise ValueError(f"The Data Lake export holds {counts} records, expected {expected}")
        print(f"{sub_tenant}: the export holds all {counts['PumpData']} readings and {counts['Kpi']} KPIs")
        return counts

    @task_group
    def per_subtenant(sub_tenant: str) -> None:
        """Walk, write, export, download and check, as one subtenant."""
        walk_plant = MdspListAssetHierarchyOperator(
            task_id="walk_plant",
            type_id="{{ params.pump_type }}",
            sub_tenant=sub_tenant,
            map_index_template="{{ task.sub_tenant }}",
        )
        kpis = write_kpis(walk_plant.output, sub_tenant=sub_tenant)
        export_window = MdspDataLakeExportOperator(
            task_id="export_window",
            asset_ids=kpis["asset_ids"],
            aspect_names=["PumpData", "Kpi"],
            destination="pump-kpis/" + RUN_DAY,
            job_name="pump-kpis-" + RUN_DAY,
            sub_tenant=sub_tenant,
            map_index_template="{{ task.sub_tenant }}",
            deferrable=True,
            poll_interval=2,
            timeout=3600,
        )
        download_export = MdspDataLakeDownloadOperator(
            task_id="download_export",
            lake_folder="pump-kpis/" + RUN_DAY,
            output_path=OUTPUT_DIR + "/subtenant-{{ ti.map_index }}",
            sub_tenant=sub_tenant,
            map_index_template="{{ task.sub_tenant }}",
        )
        export_window >> download_export
        check_record_count(kpis, download_export.output, sub_tenant=sub_tenant)

    ensure_kpi_aspect >> per_subtenant.expand(sub_tenant=subtenants.output)
