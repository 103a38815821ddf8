"""Token requests: per 1,000 calls in one task, and across 20 short tasks (processes) on one worker host.

Counts come from the emulator's token counters, so every token request any contender makes is seen.
The HttpHook baseline fetches its token by hand, as users do today: once per call (the simple way)
or once per task (then a long task fails when the token expires; that is not measured here).

The task figure runs in a child interpreter (``python -m benchmarks.tokens tasks ...``) that imports
Airflow once and forks one process per task, as Airflow's task supervisor and Celery's prefork pool do.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from typing import TYPE_CHECKING

from benchmarks.common import (
    CHEAP_PATH,
    HTTP_API_CONN,
    MDSP_CONN,
    Row,
    connection_env,
    environment,
    fmt_ratio,
    fresh_token_registry,
    handrolled_token,
    prepare_environment,
    run_json_subprocess,
    token_requests,
)

if TYPE_CHECKING:
    from airflow_provider_mdsp.emulator import EmulatorHandle

#: Tasks run at once on the simulated worker host (a typical Celery worker concurrency).
WORKER_CONCURRENCY = 4


def calls_with_mdsp_hook(calls: int) -> None:
    """One task: create a hook, make ``calls`` cheap reads."""
    from airflow_provider_mdsp.hooks.mdsp import MdspHook

    fresh_token_registry()
    hook = MdspHook(MDSP_CONN)
    for _ in range(calls):
        hook.request("GET", CHEAP_PATH)


def calls_with_http_hook(calls: int, *, token_per_call: bool) -> None:
    """One task with HttpHook: a hand-rolled token fetched per call or once, sent as a bearer header."""
    from airflow.providers.http.hooks.http import HttpHook

    api = HttpHook(method="GET", http_conn_id=HTTP_API_CONN)
    token = None
    for _ in range(calls):
        if token is None or token_per_call:
            token = handrolled_token()
        api.run(CHEAP_PATH, headers={"Authorization": f"Bearer {token}"}).json()


def one_task_rows(emu: EmulatorHandle, calls: int) -> list[Row]:
    """Measure token requests for ``calls`` API calls in one task: ours vs HttpHook."""
    counts = {}
    with environment(connection_env(emu.url)):
        for name, run in {
            "ours": lambda: calls_with_mdsp_hook(calls),
            "per_call": lambda: calls_with_http_hook(calls, token_per_call=True),
            "per_task": lambda: calls_with_http_hook(calls, token_per_call=False),
        }.items():
            before = token_requests(emu)
            run()
            counts[name] = token_requests(emu) - before
    ours = max(counts["ours"], 1)
    return [
        Row(
            f"Token requests per {calls:,} API calls, one task",
            f"{counts['ours']} (MdspHook)",
            f"{counts['per_call']:,} (HttpHook, token per call); {counts['per_task']} (token per task, never renewed)",
            fmt_ratio(counts["per_call"] / ours, "fewer than per call"),
            "1",
            counts["ours"] == 1,
        )
    ]


def _task_process(variant: str, calls: int) -> None:
    if variant == "http":
        calls_with_http_hook(calls, token_per_call=False)
    else:
        calls_with_mdsp_hook(calls)


def run_tasks(variant: str, tasks: int, calls: int, concurrency: int) -> float:
    """Run ``tasks`` task processes, ``concurrency`` at a time; return the wall time in seconds."""
    from airflow.providers.http.hooks.http import HttpHook  # noqa: F401

    from airflow_provider_mdsp.hooks.mdsp import MdspHook  # noqa: F401 - imported once, before forking

    fork = multiprocessing.get_context("fork")
    pending = [fork.Process(target=_task_process, args=(variant, calls)) for _ in range(tasks)]
    running: list = []
    start = time.perf_counter()
    while pending or running:
        while pending and len(running) < concurrency:
            process = pending.pop(0)
            process.start()
            running.append(process)
        running[0].join()
        if running[0].exitcode != 0:
            raise RuntimeError(f"a {variant} task process failed with exit code {running[0].exitcode}")
        running.pop(0)
    return time.perf_counter() - start


def many_tasks_rows(emu: EmulatorHandle, tasks: int, calls: int) -> list[Row]:
    """Measure token requests of ``tasks`` short task processes on one host: cache on/off vs HttpHook."""
    counts = {}
    for variant, shared in (("cache_on", True), ("cache_off", False), ("http", False)):
        cache_dir = tempfile.mkdtemp(prefix="mdsp-bench-tokens-")
        env = {**connection_env(emu.url, shared_cache=shared), "MDSP_TOKEN_CACHE_DIR": cache_dir}
        before = token_requests(emu)
        run_json_subprocess(
            ["-m", "benchmarks.tokens", "tasks", variant, str(tasks), str(calls), str(WORKER_CONCURRENCY)], env=env
        )
        counts[variant] = token_requests(emu) - before
    label = f"Token requests, {tasks} tasks x {calls} calls on one worker host ({WORKER_CONCURRENCY} at a time)"
    return [
        Row(
            label,
            f"{counts['cache_on']} (shared token cache on); {counts['cache_off']} (off)",
            f"{counts['http']} (HttpHook, token per task); {tasks * calls} (token per call)",
            fmt_ratio(counts["http"] / max(counts["cache_on"], 1), "fewer with the cache"),
            "1 with the cache",
            counts["cache_on"] == 1,
        )
    ]


def main() -> None:
    """Child entry point: ``python -m benchmarks.tokens tasks VARIANT TASKS CALLS CONCURRENCY``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["tasks"])
    parser.add_argument("variant", choices=["cache_on", "cache_off", "http"])
    parser.add_argument("tasks", type=int)
    parser.add_argument("calls", type=int)
    parser.add_argument("concurrency", type=int)
    args = parser.parse_args()
    prepare_environment()
    seconds = run_tasks(args.variant, args.tasks, args.calls, args.concurrency)
    print(json.dumps({"seconds": seconds, "pid": os.getpid()}))


if __name__ == "__main__":
    main()
