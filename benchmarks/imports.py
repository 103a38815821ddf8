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
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def measure(runs: int) -> dict[str, Any]:
    """Return medians in seconds (``sdk`` alone, ``with_ours`` total, in-process ``marginal``) and the samples."""
    alone, ours = _program([]), _program(our_modules())
    _run(alone), _run(ours)  # compile and cache bytecode, warm the page cache
    base_totals, our_totals, marginals = [], [], []
    for i in range(runs):
        # Alternate which kind goes first, so neither always runs right after the other.
        for program in (alone, ours) if i % 2 == 0 else (ours, alone):
            result = _run(program)
            if program is alone:
                base_totals.append(result["total"])
            else:
                our_totals.append(result["total"])
                marginals.append(result["ours"])
    return {
        "sdk": median(base_totals),
        "with_ours": median(our_totals),
        "marginal": median(marginals),
        "samples": {"sdk": base_totals, "with_ours": our_totals},
    }


def spread_ms(samples: list[float]) -> str:
    """Return the interquartile range of samples in seconds, as ``"a-b ms"``."""
    if len(samples) < 2:
        return "one run"
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return f"quartiles {q1 * 1000:.0f}-{q3 * 1000:.0f} ms"


def rows(*, runs: int) -> list[Row]:
    """Measure and return the import-cost row.

    The headline is the in-process cost of our imports right after ``import airflow.sdk`` in the
    same fresh interpreters (the sdk part is identical, so it cancels exactly). The medians of the
    two kinds of interpreter are shown beside it: a 1.5 s import varies by a few hundred ms from run
    to run, so their difference carries that noise.
    """
    m = measure(runs)
    marginal_ms, delta_ms = m["marginal"] * 1000, (m["with_ours"] - m["sdk"]) * 1000
    samples = m["samples"]
    iqr_ms = (statistics.quantiles(samples["sdk"], n=4)[2] - statistics.quantiles(samples["sdk"], n=4)[0]) * 1000
    noise = "within" if runs >= 2 and abs(delta_ms) <= iqr_ms else "outside"
    return [
        Row(
            f"Import cost of our {len(our_modules())} operator/sensor modules on top of airflow.sdk "
            f"(median of {runs} fresh interpreters each, bytecode cached)",
            f"+{marginal_ms:.0f} ms in-process after airflow.sdk; {m['with_ours'] * 1000:.0f} ms for both "
            f"({spread_ms(samples['with_ours'])})",
            f"{m['sdk'] * 1000:.0f} ms for import airflow.sdk alone ({spread_ms(samples['sdk'])})",
            f"+{marginal_ms / (m['sdk'] * 1000):.1%} (medians differ by {delta_ms:+.0f} ms, {noise} the spread)",
            "< 50 ms",
            marginal_ms < 50,
        )
    ]
