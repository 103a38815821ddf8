"""Import cost of our operator and sensor modules on top of ``airflow.sdk`` (DAG parse time).

Airflow re-parses DAG files every 30 s, and a DAG file using our operators imports their modules.
Fresh interpreters alternate between ``import airflow.sdk`` alone and ``import airflow.sdk`` followed
by every operator and sensor module, with bytecode cached (a pycache prefix, as ``make test`` uses);
each reports the time of its import statements, so interpreter start-up is left out. The figure is
the median in-process time of our imports after ``airflow.sdk``; the difference of the medians of
the two kinds of interpreter is shown beside it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.common import ROOT, Row, median

PACKAGE = "airflow_provider_mdsp"


def our_modules() -> list[str]:
    """Return every operator and sensor module of the provider, by file (nothing imported to find them)."""
    names = []
    for sub in ("operators", "sensors"):
        for path in sorted((ROOT / PACKAGE / sub).glob("*.py")):
            if path.name != "__init__.py":
                names.append(f"{PACKAGE}.{sub}.{Path(path).stem}")
    return names


def _program(modules: list[str]) -> str:
    lines = [
        "import json, time",
        "t0 = time.perf_counter()",
        "import airflow.sdk",
        "t1 = time.perf_counter()",
        *[f"import {m}" for m in modules],
        "t2 = time.perf_counter()",
        "print(json.dumps({'sdk': t1 - t0, 'total': t2 - t0, 'ours': t2 - t1}))",
    ]
    return "\n".join(lines)


def _run(program: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(runs: int) -> dict[str, float]:
    """Return median seconds: ``sdk`` alone, ``with_ours`` total, and ``marginal`` in-process."""
    alone, ours = _program([]), _program(our_modules())
    _run(alone), _run(ours)  # compile and cache bytecode, warm the page cache
    base_totals, our_totals, marginals = [], [], []
    for _ in range(runs):
        base_totals.append(_run(alone)["total"])
        result = _run(ours)
        our_totals.append(result["total"])
        marginals.append(result["ours"])
    return {"sdk": median(base_totals), "with_ours": median(our_totals), "marginal": median(marginals)}


def rows(*, runs: int) -> list[Row]:
    """Measure and return the import-cost row.

    The headline is the in-process cost of our imports right after ``import airflow.sdk`` in the
    same fresh interpreters (the sdk part is identical, so it cancels exactly); the difference of
    the two medians is shown beside it and carries the run-to-run noise of a 1.5 s import.
    """
    m = measure(runs)
    marginal_ms, delta_ms = m["marginal"] * 1000, (m["with_ours"] - m["sdk"]) * 1000
    return [
        Row(
            f"Import cost of our {len(our_modules())} operator/sensor modules on top of airflow.sdk "
            f"(median of {runs} fresh interpreters each, bytecode cached)",
            f"+{marginal_ms:.0f} ms ({m['with_ours'] * 1000:.0f} ms with ours; difference of medians "
            f"{delta_ms:+.0f} ms)",
            f"{m['sdk'] * 1000:.0f} ms for import airflow.sdk alone",
            f"+{marginal_ms / (m['sdk'] * 1000):.1%} parse-time import cost",
            "< 50 ms",
            marginal_ms < 50,
        )
    ]
