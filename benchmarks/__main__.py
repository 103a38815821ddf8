"""``python -m benchmarks [--quick] [--only NAME ...]``: one table of figures, each beside its baseline.

Starts the emulator in its own process (so the server never shares the client's GIL), measures
every figure in the same run, and prints a Markdown table (the one in docs/benchmarks.md).
The default run takes a few minutes on 2 cores; ``--quick`` is a smoke run with small sizes.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from benchmarks.common import ROOT, Row, emulator, prepare_environment, render_table

if TYPE_CHECKING:
    from airflow_provider_mdsp.emulator import EmulatorHandle

#: Sizes of the default run and of ``--quick``.
SIZES: dict[str, dict[str, Any]] = {
    "full": {
        "calls": 1000,
        "tasks": 20,
        "task_calls": 5,
        "rounds": 31,
        "round_calls": 100,
        "small": 100_000,
        "big": 1_000_000,
        "repeats": 3,
        "assets": 200,
        "import_runs": 9,
        "throughput_scale": 1.0,
    },
    "quick": {
        "calls": 100,
        "tasks": 6,
        "task_calls": 3,
        "rounds": 5,
        "round_calls": 50,
        "small": 10_000,
        "big": 50_000,
        "repeats": 1,
        "assets": 40,
        "import_runs": 3,
        "throughput_scale": 0.02,
    },
}

FIGURES = ("tokens", "tasks", "overhead", "extract", "fanout", "imports", "throughput", "formats")
#: Rendered pages the benchmark emulator keeps (every page of every window the run reads).
PAGE_CACHE = 20_000
#: Where the throughput chart goes, and the raw figures beside it.
CHART = ROOT / "docs" / "img" / "throughput.png"


def figures(emu: EmulatorHandle, size: dict[str, Any]) -> dict[str, Callable[[], list[Row]]]:
    """Return a function per figure, measuring it against the running emulator."""
    from benchmarks import extract, fanout, imports, overhead, tokens

    return {
        "tokens": lambda: tokens.one_task_rows(emu, size["calls"]),
        "tasks": lambda: tokens.many_tasks_rows(emu, size["tasks"], size["task_calls"]),
        "overhead": lambda: overhead.rows(emu, rounds=size["rounds"], calls=size["round_calls"]),
        "extract": lambda: extract.rows(emu, small=size["small"], big=size["big"], repeats=size["repeats"]),
        "fanout": lambda: fanout.rows(emu, assets=size["assets"]),
        "imports": lambda: imports.rows(runs=size["import_runs"]),
        "throughput": lambda: throughput_rows(emu, size),
        "formats": lambda: format_rows(emu, size),
    }


def format_rows(emu: EmulatorHandle, size: dict[str, Any]) -> list[Row]:
    """Measure the concurrent read into each output format (records/s, peak RSS)."""
    from benchmarks import throughput

    return throughput.format_rows(throughput.formats(emu, scale=size["throughput_scale"]))


def throughput_rows(emu: EmulatorHandle, size: dict[str, Any]) -> list[Row]:
    """Measure read throughput at each latency, save the raw figures and the chart, return the rows."""
    import json

    from benchmarks import throughput

    results = throughput.sweep(emu, scale=size["throughput_scale"], repeats=size["repeats"])
    raw = ROOT / ".cache" / "throughput.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(results, indent=1))
    print(throughput.chart(results, str(CHART)), f"(figures in {raw})", file=sys.stderr)
    return throughput.rows(results)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", nargs="+", choices=FIGURES, help="measure only these figures")
    args = parser.parse_args(argv)
    from airflow_provider_mdsp.emulator.config import demo_config

    prepare_environment()
    size = SIZES["quick" if args.quick else "full"]
    rows: list[Row] = []
    began = time.perf_counter()
    # Per-tenant quotas off: a benchmark run sends tens of thousands of calls within the hour.
    with emulator(config=demo_config().with_overrides(page_cache=PAGE_CACHE), faults={"quotas": "off"}) as emu:
        measures = figures(emu, size)
        for name in args.only or FIGURES:
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
            rows += measures[name]()
    command = (
        "python -m benchmarks"
        + (" --quick" if args.quick else "")
        + (" --only " + " ".join(args.only) if args.only else "")
    )
    print(
        f"\n`{command}`: {time.perf_counter() - began:.0f} s on {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}\n"
    )
    print(render_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
