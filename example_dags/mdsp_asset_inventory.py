"""Asset inventory: a weekly snapshot of every asset and asset type, with the generic API operator.

``MdspApiOperator`` calls any Insights Hub endpoint, here Asset Management's asset and asset type
lists. It follows the service's paging (``paging="spring"``: ``page``/``size`` and
``_embedded``) and streams every page into a JSON Lines file instead of XCom:

1. ``snapshot_assets`` writes all assets (basic fields only) to ``assets.jsonl``;
2. ``snapshot_asset_types`` writes all asset types to ``asset-types.jsonl`` (their list sits
   under ``_embedded.assetTypes``, so ``embedded_key`` names it);
3. ``count_by_type`` reads both files and writes ``inventory.csv``: assets per type, with the
   type's name and parent type.

Nothing here is tenant specific: it runs unchanged against the local emulator and a real tenant.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_mdsp.operators.generic import MdspApiOperator
from airflow_provider_mdsp.operators.shared_output import OUTPUT_DIR_TEMPLATE, require_shared_output

#: The day a run covers: its data interval, or for a manual run without one, its run time.
RUN_DAY = "{{ (data_interval_end | default(dag_run.run_after, true)) | ds }}"
OUTPUT_DIR = OUTPUT_DIR_TEMPLATE + "/{{ dag.dag_id }}/" + RUN_DAY

with DAG(
    dag_id="mdsp_asset_inventory",
    description="Weekly snapshot of all assets and asset types, with counts per type",
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable("0 6 * * 1", timezone="UTC"),
    start_date=datetime(2026, 1, 5, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["mdsp", "example", "assets"],
    # Every task first checks that the output location works on this executor (docs/cluster.md).
    default_args={"mdsp_conn_id": "mdsp_default", "retries": 2, "pre_execute": require_shared_output},
) as dag:
    snapshot_assets = MdspApiOperator(
        task_id="snapshot_assets",
        endpoint="/api/assetmanagement/v3/assets",
        query={"basicFieldsOnly": "true"},
        paging="spring",
        page_size=200,
        output_path=OUTPUT_DIR + "/assets.jsonl",
        time_field=None,
    )

    snapshot_asset_types = MdspApiOperator(
        task_id="snapshot_asset_types",
        endpoint="/api/assetmanagement/v3/assettypes",
        paging="spring",
        embedded_key="assetTypes",
        page_size=200,
        output_path=OUTPUT_DIR + "/asset-types.jsonl",
        time_field=None,
    )

    @task
    def count_by_type(assets: dict, asset_types: dict) -> dict:
        """Write ``inventory.csv`` (assets per type) next to the snapshots and return the counts."""
        import csv
        import io
        import json
        from collections import Counter

        from airflow.sdk import ObjectStoragePath

        def rows(summary: dict):
            with ObjectStoragePath(summary["path"]).open("r") as handle:
                yield from (json.loads(line) for line in handle)

        counts = Counter(asset["typeId"] for asset in rows(assets))
        types = {t["id"]: t for t in rows(asset_types)}
        text = io.StringIO()
        out = csv.writer(text)
        out.writerow(["typeId", "name", "parentTypeId", "assets"])
        for type_id, count in sorted(counts.items()):
            known = types.get(type_id, {})
            out.writerow([type_id, known.get("name", ""), known.get("parentTypeId", ""), count])
        target = ObjectStoragePath(assets["path"]).parent / "inventory.csv"
        target.write_text(text.getvalue())
        print(f"{assets['records']} assets of {len(counts)} types ({asset_types['records']} types defined)")
        return {"assets": assets["records"], "types_in_use": len(counts), "path": str(target)}

    count_by_type(snapshot_assets.output, snapshot_asset_types.output)
