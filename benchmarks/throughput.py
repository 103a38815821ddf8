"""Read throughput at real-world latency: records/s and peak memory of every way to read a window.

One window of the emulator's 1-second ``bench-motor``/``Vibration`` aspect (pages of 2000) is read by:

* ``bare``: the limit of a sequential reader, a ``requests`` GET + ``json.loads`` loop following
  ``Link`` that discards the records;
* ``bare_concurrent``: the same loop over equal sub-windows in as many threads as ``concurrent``
  chose at that latency, discarding;
* ``sequential``: our client (``concurrency=1``, read-ahead) into ``deliver_records`` (JSON Lines file);
* ``concurrent``: the same with the default concurrency (``"auto"``: threads sized from the first
  page's round trip), the count it chose reported beside its figures;
* ``http``: ``HttpOperator(pagination_function=...)``, then JSON Lines from its list of pages.

at 0, 50 and 200 ms of added latency per call, and at 100 ms under a limit of 20 calls per second
(``sequential`` and ``concurrent``, counting 429s). The emulator keeps rendered pages
(``page_cache``) and every contender reads once before the clock starts, so the figures measure
the clients, not the emulator's rendering: the concurrent read's warm-up runs at the latency
measured, so it chooses the thread count (and the sub-windows) of the timed runs. Each run is a
fresh interpreter, so its peak RSS (``VmHWM``) is its own; the floor is taken after importing
what the run needs (pyarrow too, for Parquet).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from benchmarks.common import Row, connection_env, prepare_environment, run_json_subprocess
from benchmarks.extract import ASPECT, PAGE, bench_asset_id, extract_http_operator, peak_rss_mb, warm_up

#: What the read operator uses: ``"auto"``, threads sized from the first page's round trip.
DEFAULT_CONCURRENCY = "auto"

CONTENDERS = ("bare", "concurrent", "bare_concurrent", "sequential", "http")
#: Records read at each latency (fewer at high latency, where sequential contenders take long).
LATENCIES = {0: 1_000_000, 50: 500_000, 200: 200_000}
RATE_LIMIT = {"latency_ms": 100, "rate_limit": "20/1", "retry_after_s": 1}
RATE_LIMITED_RECORDS = 200_000
#: The emulator's per-tenant quotas are off: a benchmark sends thousands of calls a minute, and a
#: quota's 429 would measure the quota (the rate-limited variant measures throttling on purpose).
QUOTAS = "off"


def window(records: int, end: datetime) -> tuple[str, str]:
    """Return a ``(from, to]`` window of ``records`` one-second records ending at ``end``."""
    start = end - timedelta(seconds=records)
    return _iso(start), _iso(end)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def bare_loop(url: str, token: str, start: str, end: str) -> int:
    """GET + ``json.loads`` following ``Link``, discarding the records; return how many there were."""
    import requests

    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    count, params, next_url = 0, {"from": start, "to": end, "limit": PAGE}, url
    while next_url:
        response = session.get(next_url, params=params, headers=headers, timeout=60)
        response.raise_for_status()
        count += len(json.loads(response.text))
        link = response.links.get("next")
        next_url, params = (link["url"], None) if link else (None, None)
    return count


def bare_concurrent(url: str, token: str, start: str, end: str, threads: int) -> int:
    """The bare loop in ``threads`` threads over ``4 × threads`` equal sub-windows."""
    from concurrent.futures import ThreadPoolExecutor

    lo = datetime.fromisoformat(start.replace("Z", "+00:00"))
    hi = datetime.fromisoformat(end.replace("Z", "+00:00"))
    parts = 4 * threads
    bounds = [_iso(lo + (hi - lo) * k / parts) for k in range(parts + 1)]
    with ThreadPoolExecutor(threads) as pool:
        counts = pool.map(lambda k: bare_loop(url, token, bounds[k], bounds[k + 1]), range(parts))
        return sum(counts)


class ChosenThreads(logging.Handler):
    """Catch the thread count a concurrent read logs when it starts its sub-windows."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.threads = 1

    def emit(self, record: logging.LogRecord) -> None:
        self.threads = int(getattr(record, "mdsp_threads", self.threads))


def ours(asset: str, start: str, end: str, out: str, concurrency: int | str, output_format: str = "jsonl") -> dict:
    """Our client into ``deliver_records``; return the records, the 429s the pacer saw and the threads used."""
    from airflow_provider_mdsp.hooks.mdsp import MdspHook
    from airflow_provider_mdsp.operators.output import deliver_records
    from benchmarks.common import MDSP_CONN

    chosen, logger = ChosenThreads(), logging.getLogger("airflow_provider_mdsp.client.windows")
    logger.addHandler(chosen)
    logger.setLevel(logging.INFO)
    client = MdspHook(MDSP_CONN).client
    pages = client.timeseries.iter_timeseries_pages(
        asset, ASPECT, from_=start, to=end, limit=PAGE, concurrency=concurrency
    )
    summary = deliver_records(pages, output_path=out, max_xcom_records=0, output_format=output_format)
    pacer = client.transport.pacer
    return {"records": int(summary["records"]), "throttled": pacer.throttled if pacer else 0, "threads": chosen.threads}


class Throttled:
    """Count 429 answers on every ``requests`` session of this process."""

    def __init__(self) -> None:
        import requests

        self.count, self._lock = 0, threading.Lock()
        original = requests.Session.send

        def send(session: Any, request: Any, **kwargs: Any) -> Any:
            response = original(session, request, **kwargs)
            if response.status_code == 429:
                with self._lock:
                    self.count += 1
            return response

        requests.Session.send = send  # type: ignore[method-assign]


def run_one(
    contender: str, asset: str, start: str, end: str, url: str, threads: int, output_format: str = "jsonl"
) -> dict[str, Any]:
    """Run one read in this process and return its figures."""
    from benchmarks.common import handrolled_token

    throttled = Throttled()
    floor = peak_rss_mb()
    out = os.path.join(tempfile.mkdtemp(prefix="mdsp-bench-throughput-"), f"vibration.{output_format}")
    api = f"{url}/api/iottimeseries/v3/timeseries/{asset}/{ASPECT}"
    token = handrolled_token() if contender.startswith("bare") else ""
    used = threads if contender == "bare_concurrent" else 1
    began = time.perf_counter()
    if contender == "bare":
        count = bare_loop(api, token, start, end)
    elif contender == "bare_concurrent":
        count = bare_concurrent(api, token, start, end, threads)
    elif contender == "http":
        count = extract_http_operator(asset, start, end, out)
    else:
        read = ours(asset, start, end, out, 1 if contender == "sequential" else DEFAULT_CONCURRENCY, output_format)
        count, used = read["records"], read["threads"]
    seconds = time.perf_counter() - began
    if os.path.exists(out):
        os.remove(out)
    return {
        "records": count,
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
        "floor_mb": floor,
        "throttled": throttled.count,
        "threads": used,
    }


def measure(
    emu: Any, contender: str, span: tuple[str, str], records: int, threads: int, output_format: str = "jsonl"
) -> dict[str, Any]:
    """Run one read in a fresh interpreter; check that it saw every record."""
    asset = bench_asset_id(emu)
    args = ["-m", "benchmarks.throughput", contender, asset, span[0], span[1], emu.url, str(threads), output_format]
    result = run_json_subprocess(args, env=connection_env(emu.url))
    if result["records"] != records:
        raise RuntimeError(f"{contender} read {result['records']} records, not {records}")
    return result


def warm(emu: Any, span: tuple[str, str], records: int, faults: dict[str, Any]) -> int:
    """Render and cache every page the contenders will ask for; return the threads the concurrent read chooses.

    The sequential read caches the first page, so the concurrent read's warm-up, run under
    ``faults`` (the latency measured), sees the round trip of the timed runs and plans their sub-windows.
    """
    emu.set_faults(quotas=QUOTAS)
    measure(emu, "sequential", span, records, 1)
    emu.set_faults(**faults, quotas=QUOTAS)
    threads = int(measure(emu, "concurrent", span, records, 1)["threads"])
    emu.set_faults(quotas=QUOTAS)
    for contender in ("bare", "bare_concurrent", "http"):
        measure(emu, contender, span, records, threads)
    return threads


def sweep(emu: Any, *, scale: float = 1.0, repeats: int = 3) -> dict[str, Any]:
    """Measure every contender at every latency and under the rate limit; return the raw results."""
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    results: dict[str, Any] = {"latency": {}, "rate_limited": {}}
    for latency, full in LATENCIES.items():
        records = int(full * scale)
        span = window(records, end)
        threads = warm(emu, span, records, {"latency_ms": latency})
        emu.set_faults(latency_ms=latency, quotas=QUOTAS)
        runs: dict[str, list[dict[str, Any]]] = {c: [] for c in CONTENDERS}
        for _ in range(repeats):
            for contender in CONTENDERS:
                runs[contender].append(measure(emu, contender, span, records, threads))
        results["latency"][latency] = {"records": records, "runs": runs, "threads": threads}
    records = int(RATE_LIMITED_RECORDS * scale)
    span = window(records, end)
    warm(emu, span, records, {"latency_ms": RATE_LIMIT["latency_ms"]})
    for contender in ("sequential", "concurrent"):
        emu.set_faults(**RATE_LIMIT, quotas=QUOTAS)
        time.sleep(1.1)  # a fresh rate-limit window for each contender
        results["rate_limited"][contender] = measure(emu, contender, span, records, 1)
    emu.set_faults(quotas=QUOTAS)
    results["rate_limited"]["records"] = records
    return results


#: Peak RSS growth allowed for a 1,000,000-record read in any output format.
MEMORY_TARGET_MB = 64


def formats(emu: Any, *, scale: float = 1.0) -> dict[str, Any]:
    """Read 1,000,000 records at 0 ms with the default concurrency into each output format; return the figures."""
    records = int(LATENCIES[0] * scale)
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    span = window(records, end)
    emu.set_faults(quotas=QUOTAS)
    measure(emu, "concurrent", span, records, 1)
    found = {fmt: measure(emu, "concurrent", span, records, 1, fmt) for fmt in ("jsonl", "csv", "parquet")}
    return {"records": records, "formats": found}


def format_rows(results: dict[str, Any]) -> list[Row]:
    """One row per output format: records/s and peak RSS growth of the concurrent read."""
    records, table = results["records"], []
    for fmt, run in results["formats"].items():
        grown = run["peak_rss_mb"] - run["floor_mb"]
        library = f" (pyarrow's import: +{run['library_mb']:.0f} MB of it)" if run.get("library_mb") else ""
        table.append(
            Row(
                f"{records:,} records at 0 ms, concurrent read (auto: {run['threads']} threads) to {fmt}: "
                "records/s; peak RSS growth over the process after imports",
                f"{records / run['seconds']:,.0f}/s; +{grown:.0f} MB",
                f"{run['floor_mb']:.0f} MB after imports{library}",
                "",
                f"<= +{MEMORY_TARGET_MB} MB",
                grown <= MEMORY_TARGET_MB,
            )
        )
    return table


def rate(runs: list[dict[str, Any]], records: int) -> float:
    """Median records/s of some runs."""
    return statistics.median(records / r["seconds"] for r in runs)


#: Targets of the concurrent read (issue "Throughput at real-world latency"): times the HttpOperator,
#: and the share of the bare loop (sequential at 0 ms, concurrent with the same threads otherwise).
TARGETS = {0: (3.0, "bare", 1.0), 50: (7.0, "bare_concurrent", 0.8), 200: (20.0, "bare_concurrent", 0.8)}


def rows(results: dict[str, Any]) -> list[Row]:
    """Turn the sweep's results into table rows: two per latency, and the rate-limited pair."""
    table: list[Row] = []
    for latency, found in results["latency"].items():
        records, runs, threads = found["records"], found["runs"], found["threads"]
        rates = {c: rate(runs[c], records) for c in CONTENDERS}
        grown = {c: max(r["peak_rss_mb"] - r["floor_mb"] for r in runs[c]) for c in CONTENDERS}
        times_http, bare, share = TARGETS[int(latency)]
        baseline = (
            f"HttpOperator {rates['http']:,.0f}/s (+{grown['http']:.0f} MB); bare loop {rates['bare']:,.0f}/s; "
            f"bare {threads}-thread loop {rates['bare_concurrent']:,.0f}/s"
        )
        for contender in ("concurrent", "sequential"):
            vs_http, vs_bare = rates[contender] / rates["http"], rates[contender] / rates[bare]
            used = sorted({r["threads"] for r in runs["concurrent"]})
            label = (
                f"concurrent read (default, auto: {'/'.join(map(str, used))} threads)"
                if contender == "concurrent"
                else "sequential read"
            )
            met = vs_http >= times_http and vs_bare >= share if contender == "concurrent" else None
            table.append(
                Row(
                    f"{records:,} records at {latency} ms per call: our {label} to JSON "
                    f"Lines, records/s (median of {len(runs[contender])}); peak RSS growth",
                    f"{rates[contender]:,.0f}/s; +{grown[contender]:.0f} MB",
                    baseline,
                    f"{vs_http:.1f}x HttpOperator; {rates[contender] / rates['bare']:.2f}x bare loop; "
                    f"{rates[contender] / rates['bare_concurrent']:.2f}x bare {threads}-thread loop",
                    f">= {times_http:.0f}x HttpOperator, >= {share:.1f}x {bare.replace('_', ' ')} loop"
                    if met is not None
                    else "",
                    met,
                )
            )
    limited = results["rate_limited"]
    records = limited["records"]
    seq, conc = limited["sequential"], limited["concurrent"]
    table.append(
        Row(
            f"{records:,} records at 100 ms per call, limit 20 calls/s per client (429 + Retry-After): records/s, 429s",
            f"concurrent {records / conc['seconds']:,.0f}/s, {conc['throttled']} x 429",
            f"sequential {records / seq['seconds']:,.0f}/s, {seq['throttled']} x 429",
            f"{seq['seconds'] / conc['seconds']:.2f}x",
            f"all records, <= {seq['throttled']} + {conc['threads']} (threads) x 429",
            conc["throttled"] <= seq["throttled"] + conc["threads"],
        )
    )
    return table


def chart(results: dict[str, Any], path: str) -> str:
    """Draw records/s against latency for each contender into ``path`` (PNG); return what happened.

    matplotlib is an optional benchmark dependency (``pip install .[bench]``); without it no chart is drawn.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no chart: matplotlib is not installed (pip install '.[bench]')"
    names = {
        "bare": "bare loop (requests + json, discarded)",
        "bare_concurrent": "bare loop, as many threads as ours",
        "sequential": "ours, sequential",
        "concurrent": "ours, concurrent (auto threads)",
        "http": "HttpOperator + pagination_function",
    }
    latencies = sorted(int(k) for k in results["latency"])
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
    for contender in CONTENDERS:
        values = []
        for latency in latencies:
            found = results["latency"][latency] if latency in results["latency"] else results["latency"][str(latency)]
            values.append(rate(found["runs"][contender], found["records"]))
        axes.plot(latencies, values, marker="o", label=names[contender])
    axes.set_yscale("log")
    axes.set_xlabel("added latency per call (ms)")
    axes.set_ylabel("records/s (log scale)")
    axes.set_xticks(latencies)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title("Reading bench-motor/Vibration, pages of 2000")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return f"chart written to {path}"


def main() -> None:
    """Child entry point: ``python -m benchmarks.throughput CONTENDER ASSET FROM TO URL THREADS``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("contender", choices=CONTENDERS)
    parser.add_argument("asset")
    parser.add_argument("start")
    parser.add_argument("end")
    parser.add_argument("url")
    parser.add_argument("threads", type=int)
    parser.add_argument("output_format", nargs="?", default="jsonl")
    args = parser.parse_args()
    prepare_environment()
    warm_up("http" if args.contender in ("http", "bare", "bare_concurrent") else "ours")
    before = peak_rss_mb()
    if args.output_format == "parquet":  # what the Parquet writer imports is part of the baseline
        import pyarrow.compute
        import pyarrow.parquet  # noqa: F401
    library = peak_rss_mb() - before
    figures = run_one(args.contender, args.asset, args.start, args.end, args.url, args.threads, args.output_format)
    figures["library_mb"] = library
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
