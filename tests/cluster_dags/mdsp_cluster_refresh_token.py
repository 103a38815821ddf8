"""Cluster-test DAG: six reads through a refresh-token connection, alternating between two workers.

Used by ``scripts/cluster_test.py`` only. Each task runs in a new process on the worker its Celery
queue names (``worker-a``, ``worker-b``, ``worker-a`` …) and the connection ``mdsp_refresh`` shares
no token cache, so every task renews its token with the newest refresh token, which the previous
task rotated on the other host: six rotations across two hosts, with the emulator revoking each
refresh token once used.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, chain

from airflow_provider_mdsp.operators.generic import MdspApiOperator

WORKER_QUEUES = ("worker-a", "worker-b")
ROTATIONS = 6

with DAG(
    dag_id="mdsp_cluster_refresh_token",
    description="Refresh-token rotations across two workers (cluster test)",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["mdsp", "cluster-test"],
    default_args={"mdsp_conn_id": "mdsp_refresh", "retries": 0},
) as dag:
    chain(
        *[
            MdspApiOperator(
                task_id=f"read_{number}",
                endpoint="/api/assetmanagement/v3/assets/root",
                time_field=None,
                queue=WORKER_QUEUES[number % 2],
            )
            for number in range(ROTATIONS)
        ]
    )
