"""The host name Airflow records for the cluster test's workers (``[core] hostname_callable``).

Each worker of ``scripts/cluster_test.py`` is started with ``MDSP_CLUSTER_WORKER`` set to its
name, so task instances name the worker that ran them even where the machine cannot give each
worker its own hostname namespace; other components fall back to the real host name.
"""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    """Return the cluster-test worker's name, or this machine's host name."""
    return os.environ.get("MDSP_CLUSTER_WORKER") or socket.gethostname()
