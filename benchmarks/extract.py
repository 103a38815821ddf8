"""Extract time series to JSON Lines: records/s and peak memory, ours vs HttpOperator with ``pagination_function``.

Both contenders read the emulator's 1-second ``bench-motor``/``Vibration`` aspect in pages of 2000
over the same window and write the same JSON Lines file:

* ours: ``hook.client.timeseries.iter_timeseries_pages`` streamed into ``deliver_records`` (atomic
  file, one page in memory);
* baseline: ``HttpOperator(pagination_function=...)`` following the ``Link`` header, as its docs
  show. It returns the list of every page's ``response.text``; the JSON Lines file is written from
  that list afterwards, the way a user's next step would.

Each run happens in its own interpreter (``python -m benchmarks.extract ...``) so its peak RSS
(``ru_maxrss``) is its own. Time is measured from the first request (token included) to the file
being complete; interpreter start-up and imports are excluded, and reported apart as the RSS floor.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from benchmarks.common import (
    HTTP_API_CONN,
    MDSP_CONN,
    Row,
    connection_env,
    handrolled_token,
    prepare_environment,
    run_json_subprocess,
)

if TYPE_CHECKING:
    from airflow_provider_mdsp.emulator import EmulatorHandle

ASPECT = "Vibration"
PAGE = 2000


def window(records: int) -> tuple[str, str]:
    """Return a ``(from, to]`` window holding exactly ``records`` one-second records, ending an hour ago."""
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    start = end - timedelta(seconds=records)
    return _iso(start), _iso(end)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def bench_asset_id(emu: EmulatorHandle) -> str:
    """Look up the id of the emulator's ``bench-motor`` asset."""
    return emu.demo_assets()["bench-motor"]


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MB.

    Linux's ``VmHWM`` is used: it belongs to the process's own memory map, while ``ru_maxrss`` of a
    child started by ``subprocess`` (vfork + exec) begins at the parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux; other systems differ


def extract_ours(asset: str, start: str, end: str, out: str) -> int:
    """Stream the pages into ``deliver_records``; return the record count it reports."""
    from airflow_provider_mdsp.hooks.mdsp import MdspHook
    from airflow_provider_mdsp.operators.output import deliver_records

    hook = MdspHook(MDSP_CONN)
    pages = hook.client.timeseries.iter_timeseries_pages(asset, ASPECT, from_=start, to=end, limit=PAGE)
    summary = deliver_records(pages, output_path=out, max_xcom_records=1000, output_format="jsonl")
    return int(summary["records"])


def next_page_from_link(response: Any) -> dict[str, Any] | None:
    """The ``pagination_function`` a user writes for the Time Series ``Link`` header."""
    link = response.links.get("next")
    if not link:
        return None
    parts = urlsplit(link["url"])
    return {"endpoint": parts.path, "data": dict(parse_qsl(parts.query))}


def extract_http_operator(asset: str, start: str, end: str, out: str) -> int:
    """Run HttpOperator with pagination, then write its list of page texts as JSON Lines."""
    from airflow.providers.http.operators.http import HttpOperator

    token = handrolled_token()
    operator = HttpOperator(
        task_id="extract",
        http_conn_id=HTTP_API_CONN,
        method="GET",
        endpoint=f"/api/iottimeseries/v3/timeseries/{asset}/{ASPECT}",
        data={"from": start, "to": end, "limit": PAGE},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        pagination_function=next_page_from_link,
        log_response=False,
    )
    texts = operator.execute(context={})
    count = 0
    with open(out, "w", encoding="utf-8") as handle:
        for text in texts:
            for record in json.loads(text):
                handle.write(json.dumps(record, separators=(",", ":")) + "\n")
                count += 1
    return count


def run_one(contender: str, asset: str, records: int) -> dict[str, Any]:
    """Run one extraction in this process and return its figures."""
    start, end = window(records)
    floor = peak_rss_mb()
    out = os.path.join(tempfile.mkdtemp(prefix="mdsp-bench-extract-"), "vibration.jsonl")
    extract = extract_ours if contender == "ours" else extract_http_operator
    began = time.perf_counter()
    count = extract(asset, start, end, out)
    seconds = time.perf_counter() - began
    lines = sum(1 for _ in open(out, "rb"))  # noqa: SIM115 - counted after timing
    os.remove(out)
    return {"records": count, "lines": lines, "seconds": seconds, "peak_rss_mb": peak_rss_mb(), "floor_mb": floor}


def measure(emu: EmulatorHandle, contender: str, records: int) -> dict[str, Any]:
    """Run one extraction in a fresh interpreter; check that it wrote every record."""
    asset = bench_asset_id(emu)
    result = run_json_subprocess(
        ["-m", "benchmarks.extract", contender, asset, str(records)], env=connection_env(emu.url)
    )
    if result["records"] != records or result["lines"] != records:
        raise RuntimeError(
            f"{contender} extracted {result['records']} records ({result['lines']} lines), not {records}"
        )
    return result


def rows(emu: EmulatorHandle, *, small: int, big: int, repeats: int = 3) -> list[Row]:
    """Measure both contenders at ``small`` and ``big`` record counts and return the rows.

    The ``big`` extraction runs ``repeats`` times per contender, alternating, and the median
    records/s is reported (the machine's load drifts); peaks are the highest seen.
    """
    small_runs = {c: measure(emu, c, small) for c in ("ours", "http")}
    big_runs: dict[str, list[dict[str, Any]]] = {"ours": [], "http": []}
    for _ in range(repeats):
        for contender in big_runs:
            big_runs[contender].append(measure(emu, contender, big))
    rate = {c: statistics.median(big / r["seconds"] for r in runs) for c, runs in big_runs.items()}
    peak = {c: max(r["peak_rss_mb"] for r in runs) for c, runs in big_runs.items()}
    small_peak = {c: r["peak_rss_mb"] for c, r in small_runs.items()}
    floor = {c: min(r["floor_mb"] for r in [small_runs[c], *big_runs[c]]) for c in big_runs}

    def memory(c: str) -> str:
        grown = f"+{small_peak[c] - floor[c]:.0f} -> +{peak[c] - floor[c]:.0f} MB"
        return f"{small_peak[c]:.0f} -> {peak[c]:.0f} MB ({grown} over the {floor[c]:.0f} MB after imports)"

    return [
        Row(
            f"Extract {big:,} records ({big // PAGE} pages of {PAGE}) to JSON Lines, records/s "
            f"(median of {repeats} alternating runs each)",
            f"{rate['ours']:,.0f}/s (client paging + deliver_records)",
            f"{rate['http']:,.0f}/s (HttpOperator + pagination_function, then JSON Lines)",
            f"{rate['ours'] / rate['http']:.2f}x",
            ">= 2x",
            rate["ours"] / rate["http"] >= 2,
        ),
        Row(
            f"Peak RSS of that extraction, {small:,} -> {big:,} records",
            memory("ours"),
            memory("http"),
            f"{(peak['http'] - floor['http']) / max(peak['ours'] - floor['ours'], 1):.0f}x less growth at {big:,}",
            "flat in the record count",
            peak["ours"] - small_peak["ours"] < 10,
        ),
    ]


def warm_up(contender: str) -> None:
    """Pay the one-off imports and lookups of a contender before the clock and the RSS floor start."""
    if contender == "ours":
        from airflow_provider_mdsp.hooks.mdsp import MdspHook
        from airflow_provider_mdsp.operators.output import storage_path

        storage_path(os.path.join(tempfile.gettempdir(), "warm-up.jsonl"))
        _ = MdspHook(MDSP_CONN).config
    else:
        from airflow.providers.http.operators.http import HttpOperator  # noqa: F401
        from airflow.sdk import BaseHook

        BaseHook.get_connection(HTTP_API_CONN).get_hook()


def main() -> None:
    """Child entry point: ``python -m benchmarks.extract {ours,http} ASSET_ID RECORDS``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("contender", choices=["ours", "http"])
    parser.add_argument("asset")
    parser.add_argument("records", type=int)
    args = parser.parse_args()
    prepare_environment()
    # Import everything the contender needs before the RSS floor is taken.
    warm_up(args.contender)
    print(json.dumps(run_one(args.contender, args.asset, args.records)))


if __name__ == "__main__":
    main()
