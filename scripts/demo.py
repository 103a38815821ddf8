"""The one-command demo (``make demo``): the main example DAG in Airflow against the local emulator.

Starts the Insights Hub emulator on a free loopback port, runs ``mdsp_daily_pump_extraction``
with ``airflow dags test`` in a throwaway Airflow home (SQLite database), and prints what the run
did: its tasks, the records read per pump and the files written, the daily aggregates, the alarm
events raised, and the emulator's counters (token requests, API calls). The record counts are
checked against what the emulator serves for the same window, and the events against what it
holds. Airflow's own output goes to ``.demo/demo-airflow.log``; the files stay in
``.demo/output/``.
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_example_dags import (  # the helpers live next to this script
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_DIR,
    ROOT,
    CommandFailed,
    airflow_workspace,
    dags_test,
    default_logical_date,
)

DAG_ID = "mdsp_daily_pump_extraction"
LOG = DEMO_DIR / "demo-airflow.log"
OUTPUT = DEMO_DIR / "output"
HOME = DEMO_DIR / "airflow-home"


def read_run(db: Path) -> tuple[list[tuple[str, int, str]], dict[tuple[str, int], Any]]:
    """Return the task instances ``(task_id, map_index, state)`` and XCom values of the single run.

    :param db: the Airflow SQLite database.
    """
    with sqlite3.connect(db) as conn:
        tis = conn.execute(
            "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = ? ORDER BY start_date, map_index",
            (DAG_ID,),
        ).fetchall()
        rows = conn.execute(
            "SELECT task_id, map_index, value FROM xcom WHERE dag_id = ? AND key = 'return_value'", (DAG_ID,)
        ).fetchall()
    xcoms = {(task_id, map_index): _json(value) for task_id, map_index, value in rows}
    return tis, xcoms


def _json(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode()
    return json.loads(value) if isinstance(value, str) else value


class EmulatorReader:
    """Read the emulator's data directly (plain HTTP, not the provider) to check the run's results.

    :param url: the emulator's base URL.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        form = urllib.parse.urlencode({"grant_type": "client_credentials"}).encode()
        basic = base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
        token = self._call(f"{url}/oauth/token", form, {"Authorization": f"Basic {basic}"})[0]["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    @staticmethod
    def _call(url: str, data: bytes | None, headers: dict[str, str]) -> tuple[Any, str | None]:
        request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - loopback emulator
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read() or b"null"), response.headers.get("Link")

    def count_records(self, asset_id: str, aspect: str, start: str, end: str) -> int:
        """Count the records the emulator serves for ``(start, end]``, following every ``Link`` page."""
        query = urllib.parse.urlencode({"from": start, "to": end, "limit": 2000})
        url: str | None = f"{self.url}/api/iottimeseries/v3/timeseries/{asset_id}/{aspect}?{query}"
        total = 0
        while url:
            records, link = self._call(url, None, self.headers)
            total += len(records)
            url = urllib.parse.urljoin(url, link.split(";")[0].strip("<> ")) if link else None
        return total

    def event(self, event_id: str) -> dict[str, Any]:
        """Return one event as the emulator holds it."""
        return self._call(f"{self.url}/api/eventmanagement/v3/events/{event_id}", None, self.headers)[0]


def count_lines(path: Path) -> int:
    """Count the records of a JSON Lines file."""
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def task_table(tis: list[tuple[str, int, str]]) -> list[str]:
    """Render one line per task: its state, and how many mapped instances it had."""
    by_task: dict[str, Counter[str]] = {}
    for task_id, _map_index, state in tis:
        by_task.setdefault(task_id, Counter())[state or "none"] += 1
    lines = []
    for task_id, states in by_task.items():
        mapped = sum(states.values())
        text = ", ".join(f"{state}" + (f" x{n}" if mapped > 1 else "") for state, n in states.items())
        lines.append(f"  {task_id:<20} {text}")
    return lines


def summarise(tis: list[tuple[str, int, str]], xcoms: dict[tuple[str, int], Any], reader: EmulatorReader) -> bool:
    """Print the run's results next to what the emulator holds; return whether everything matched."""
    ok = all(state == "success" for _t, _m, state in tis)
    names = {a["assetId"]: a["name"] for a in xcoms[("list_pumps", -1)]["data"]}
    reads = sorted((v for (t, _m), v in xcoms.items() if t == "read_timeseries"), key=lambda r: names[r["asset_id"]])
    print(f"\nTasks ({'all succeeded' if ok else 'NOT all succeeded'})")
    print("\n".join(task_table(tis)))
    first = reads[0]
    print(f"\nRecords read per pump, aspect {first['aspect']}, window ({first['from']}, {first['to']}]")
    print(f"  {'pump':<10} {'asset id':<32} {'records':>8} {'emulator':>8} {'file':>9}")
    total_bytes = 0
    for read in reads:
        served = reader.count_records(read["asset_id"], read["aspect"], read["from"], read["to"])
        lines = count_lines(Path(urllib.parse.urlsplit(read["path"]).path))
        match = served == read["records"] == lines
        ok &= match
        total_bytes += read["bytes"]
        mark = "ok" if match else f"MISMATCH (file has {lines} lines)"
        size = f"{read['bytes'] / 1024:.0f} KiB"
        name = names[read["asset_id"]]
        print(f"  {name:<10} {read['asset_id']:<32} {read['records']:>8} {served:>8} {size:>9} {mark}")
    folder = Path(urllib.parse.urlsplit(first["path"]).path).parent
    print(f"  {len(reads)} JSON Lines files, {total_bytes / 1024:.0f} KiB, in {folder.relative_to(ROOT)}/")
    ok &= print_aggregates(xcoms, names)
    ok &= print_events(xcoms, names, reader)
    return ok


def print_aggregates(xcoms: dict[tuple[str, int], Any], names: dict[str, str]) -> bool:
    """Print each pump's daily Temperature aggregate; return whether every pump got one interval."""
    results = sorted((v for (t, _m), v in xcoms.items() if t == "daily_aggregates"), key=lambda r: names[r["asset_id"]])
    print("\nDaily aggregates, Temperature (°C)")
    ok = True
    for result in results:
        if result["records"] != 1:
            ok = False
            print(f"  {names[result['asset_id']]:<10} expected one daily interval, got {result['records']}")
            continue
        temp = result["data"][0]["Temperature"]
        print(
            f"  {names[result['asset_id']]:<10} min {temp['minvalue']:6.2f}  average {temp['average']:6.2f}  "
            f"max {temp['maxvalue']:6.2f}  ({temp['countgood']} good values)"
        )
    return ok


def print_events(xcoms: dict[tuple[str, int], Any], names: dict[str, str], reader: EmulatorReader) -> bool:
    """Print the alarm events raised and check that the emulator holds each of them."""
    created = xcoms.get(("raise_alarms", -1)) or {"event_ids": []}
    print(f"\nAlarm events raised: {len(created['event_ids'])}")
    ok = True
    for event_id in created["event_ids"]:
        event = reader.event(event_id)
        ok &= event.get("id") == event_id
        print(
            f"  {event['typeId']} on {names.get(event['entityId'], event['entityId'])} at {event['timestamp']}: "
            f"{event.get('variable')} peaked at {event.get('temperature')} (threshold {event.get('threshold')})"
        )
    return ok


def print_counters(stats: dict[str, Any]) -> None:
    """Print the emulator's counters for the run."""
    tokens = stats["token_requests"]
    by_client = ", ".join(f"{c}: {n}" for c, n in tokens["by_client"].items())
    print(
        f"\nEmulator counters: {tokens['total']} token request(s) ({by_client}), {stats['total_calls']} requests in all"
    )
    for endpoint, count in sorted(stats["calls"].items(), key=lambda item: -item[1]):
        print(f"  {count:>4}  {endpoint}")
    if stats.get("rate_limited"):
        print(f"  {stats['rate_limited']} answered 429")
    print(
        "  (`airflow dags test` runs every task in one process, so they share one token; on workers,\n"
        "   `shared_cache` in the connection shares it between the tasks of a host.)"
    )


def main() -> int:
    """Run the demo; return the exit code."""
    from airflow_provider_mdsp.emulator import run_emulator

    started = time.monotonic()
    logical_date = default_logical_date()
    LOG.unlink(missing_ok=True)
    shutil.rmtree(OUTPUT / DAG_ID, ignore_errors=True)
    print(f"Demo: {DAG_ID} in Airflow against the local Insights Hub emulator")
    with run_emulator(mode="process") as emulator:
        print(f"  emulator     {emulator.url} (tenant 'demo', technical user '{DEMO_CLIENT_ID}')")
        print(f"  logical date {logical_date:%Y-%m-%d}: the run reads the day before, its data interval")
        with airflow_workspace(emulator.url, keep=True, home=HOME, output_dir=OUTPUT) as (home, env, _out):
            print(f"  airflow      {LOG.relative_to(ROOT)} (Airflow's output), home {home.relative_to(ROOT)}")
            print("Running the DAG with `airflow dags test` …", flush=True)
            try:
                seconds = dags_test(DAG_ID, logical_date, env, LOG)
            except CommandFailed as exc:
                print(f"\nThe DAG run failed: {exc}")
                return 1
            stats = emulator.stats()
            tis, xcoms = read_run(home / "airflow.db")
            print(f"The DAG run took {seconds:.0f} s.")
            ok = summarise(tis, xcoms, EmulatorReader(emulator.url))
    print_counters(stats)
    verdict = "everything matches what the emulator holds" if ok else "SOME RESULTS DO NOT MATCH the emulator"
    print(f"\nDone in {time.monotonic() - started:.0f} s: {verdict}.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
