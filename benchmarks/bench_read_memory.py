"""Peak memory of ``MdspReadTimeSeriesOperator`` with ``output_path``: flat whatever the record count.

Reads windows of 10,000 and 100,000 one-second records of the emulator's ``bench-motor``/``Vibration``
aspect (emulator in its own process) through the operator's ``execute`` into a JSON Lines file.
Each read runs in a fresh interpreter so its figures are its own:

* ``tracemalloc peak``: the most Python memory allocated at once during the read;
* ``ru_maxrss delta``: how much the process's peak resident set grew during the read, over what
  the interpreter, Airflow and the provider already used after a warm-up call.

Times are measured with tracemalloc on, which slows allocation-heavy code (JSON encoding) a lot:
they show scale, not speed (benchmarks/extract.py measures throughput).

For contrast, the same reads collected into XCom (``max_xcom_records`` raised to fit) show what
holding the records costs. Prints a table; no assertions (timings and memory belong here, not in
the test suite).

Run: ``.venv/bin/python benchmarks/bench_read_memory.py [--sizes 10000 100000]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import MDSP_CONN, connection_env, emulator, prepare_environment, run_json_subprocess
from benchmarks.extract import ASPECT, bench_asset_id, window

SIZES = (10_000, 100_000)


def rss_kb() -> int:
    """Return this process's peak resident set size so far, in kB (Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def read(asset: str, start: str, end: str, output_path: str | None, bound: int) -> dict[str, Any]:
    """Run the read operator's ``execute`` for ``(start, end]`` and return its XCom value."""
    from airflow_provider_mdsp.operators.timeseries import MdspReadTimeSeriesOperator

    op = MdspReadTimeSeriesOperator(
        task_id="bench_read",
        mdsp_conn_id=MDSP_CONN,
        asset_id=asset,
        aspect=ASPECT,
        from_time=start,
        to_time=end,
        output_path=output_path,
        max_xcom_records=bound,
    )
    return op.execute({})


def child(asset: str, records: int, mode: str) -> dict[str, Any]:
    """Measure one read in this (fresh) interpreter; ``mode`` is ``file`` or ``xcom``."""
    start, end = window(records)
    with tempfile.TemporaryDirectory(prefix="mdsp-bench-read-") as tmp:
        out = f"file://{tmp}/read.jsonl" if mode == "file" else None
        # Warm-up: imports, connection, token, TLS-less session; a one-minute read into the same place.
        warm_start, _ = window(60)
        read(asset, warm_start, window(0)[1], out, 100)
        floor_kb = rss_kb()
        tracemalloc.start()
        began = time.perf_counter()
        result = read(asset, start, end, out, records)
        seconds = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return {
            "records": result["records"],
            "bytes": result.get("bytes"),
            "tracemalloc_peak_mb": peak / 2**20,
            "rss_delta_mb": (rss_kb() - floor_kb) / 1024,
            "rss_floor_mb": floor_kb / 1024,
            "seconds": seconds,
        }


def measure(emu: Any, sizes: tuple[int, ...], contrast: bool) -> list[dict[str, Any]]:
    """Run every size (and mode) in its own subprocess against the running emulator."""
    asset = bench_asset_id(emu)
    results = []
    for mode in ("file", "xcom") if contrast else ("file",):
        for records in sizes:
            figures = run_json_subprocess(
                [str(Path(__file__).resolve()), "--child", asset, str(records), mode],
                env=connection_env(emu.url),
            )
            results.append({"mode": mode, **figures})
    return results


def render(results: list[dict[str, Any]]) -> str:
    """Render the results as a Markdown table."""
    head = "| Read | Records | File | tracemalloc peak | ru_maxrss delta | RSS floor | Time (traced) |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        what = "output_path (JSON Lines)" if r["mode"] == "file" else "contrast: collected for XCom"
        size = f"{r['bytes'] / 2**20:.1f} MB" if r.get("bytes") else "-"
        lines.append(
            f"| {what} | {r['records']:,} | {size} | {r['tracemalloc_peak_mb']:.1f} MB | {r['rss_delta_mb']:.1f} MB "
            f"| {r['rss_floor_mb']:.0f} MB | {r['seconds']:.1f} s |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse arguments; run as the parent (table) or as one measuring child."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="records per window")
    parser.add_argument("--no-contrast", action="store_true", help="skip the collected-for-XCom contrast rows")
    parser.add_argument("--child", nargs=3, metavar=("ASSET", "RECORDS", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    prepare_environment()
    if args.child:
        asset, records, mode = args.child
        print(json.dumps(child(asset, int(records), mode)))
        return
    with emulator() as emu:
        results = measure(emu, tuple(args.sizes), contrast=not args.no_contrast)
    print(render(results))
    flat = [r for r in results if r["mode"] == "file"]
    if len(flat) >= 2:
        low, high = flat[0], flat[-1]
        print(
            f"\n{high['records'] / low['records']:.0f}x the records with output_path: tracemalloc peak "
            f"{low['tracemalloc_peak_mb']:.1f} -> {high['tracemalloc_peak_mb']:.1f} MB, "
            f"ru_maxrss delta {low['rss_delta_mb']:.1f} -> {high['rss_delta_mb']:.1f} MB"
        )


if __name__ == "__main__":
    main()
