"""A time-series extraction under 503s, dropped connections, 429s and token expiry gives exactly the clean records."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_mdsp.auth import clear_token_providers
from airflow_provider_mdsp.operators.output import deliver_records
from tests.helpers.time import waits_on_emulator
from tests.resilience.conftest import FAULTS, bench_window, client_for, injected

pytestmark = pytest.mark.integration

RECORDS = 6000
PAGE = 400


def extract_to_file(
    url: str,
    asset: str,
    window: tuple[str, str],
    target: Path,
    *,
    page_time: tuple[Any, float] | None = None,
    statuses: list[int] | None = None,
    **settings: Any,
) -> dict:
    """Read the window page by page into ``target``.

    ``page_time=(clock, s)`` lets ``s`` pass on ``clock`` after each page; ``statuses`` collects the
    status of every API answer.
    """
    client = client_for(url, **settings)
    if statuses is not None:
        client.transport.session.hooks["response"].append(lambda response, **_: statuses.append(response.status_code))
    try:
        pages = client.timeseries.iter_timeseries_pages(asset, "Vibration", from_=window[0], to=window[1], limit=PAGE)
        if page_time is not None:
            pages = taking_time(pages, *page_time)
        return deliver_records(pages, output_path=str(target), max_xcom_records=0)
    finally:
        client.close()


def taking_time(pages: Iterable[Any], clock: Any, seconds: float) -> Iterator[Any]:
    """Yield the pages, letting ``seconds`` pass on ``clock`` after each one (a slow consumer, in no real time)."""
    for page in pages:
        yield page
        clock.advance(seconds)


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def assert_complete(found: list[str], clean: list[str]) -> None:
    """Exactly the clean records, in order: nothing duplicated, nothing missing."""
    times = [json.loads(line)["_time"] for line in found]
    assert len(times) == len(set(times)), "no record twice"
    assert len(found) == len(clean) == RECORDS, "no record missing"
    assert found == clean


def test_client_paging_into_a_file_survives_every_fault(emulator, tmp_path):
    asset, window = emulator.demo_assets()["bench-motor"], bench_window(RECORDS)
    clean = extract_to_file(emulator.url, asset, window, tmp_path / "clean.jsonl")
    emulator.reset_stats()
    emulator.set_faults(**FAULTS)
    with waits_on_emulator(emulator) as time:
        faulty = extract_to_file(emulator.url, asset, window, tmp_path / "faulty.jsonl")
    assert time.waited > 0, "the retries waited, on the emulator's clock"
    faults = injected(emulator.stats())
    assert all(faults.values()), f"every kind of fault happened: {faults}"
    assert emulator.stats()["token_requests"]["total"] == 1, "one 60 s token served the whole read"
    assert faulty["records"] == clean["records"] == RECORDS
    assert (faulty["first_time"], faulty["last_time"]) == (clean["first_time"], clean["last_time"])
    assert_complete(lines(tmp_path / "faulty.jsonl"), lines(tmp_path / "clean.jsonl"))


def test_the_read_operator_survives_every_fault(emulator, mdsp_emulator_connection, tmp_path):
    from airflow_provider_mdsp.operators.timeseries import MdspReadTimeSeriesOperator

    asset, window = emulator.demo_assets()["bench-motor"], bench_window(RECORDS)
    extract_to_file(emulator.url, asset, window, tmp_path / "clean.jsonl")
    emulator.reset_stats()
    emulator.set_faults(**FAULTS)
    clear_token_providers()
    read = MdspReadTimeSeriesOperator(
        task_id="read_vibration",
        mdsp_conn_id=mdsp_emulator_connection,
        asset_id=asset,
        aspect="Vibration",
        from_time=window[0],
        to_time=window[1],
        limit=PAGE,
        output_path=str(tmp_path / "operator.jsonl"),
    )
    with waits_on_emulator(emulator) as time:
        result = read.execute(context={})
    assert time.waited > 0, "the retries waited, on the emulator's clock"
    faults = injected(emulator.stats())
    assert all(faults.values()), f"every kind of fault happened: {faults}"
    assert result["records"] == RECORDS
    assert_complete(lines(tmp_path / "operator.jsonl"), lines(tmp_path / "clean.jsonl"))


def test_a_token_that_expires_during_the_extraction_is_renewed(emulator, tmp_path):
    asset, window = emulator.demo_assets()["bench-motor"], bench_window(RECORDS)
    clean = tmp_path / "clean.jsonl"
    extract_to_file(emulator.url, asset, window, clean)
    emulator.reset_stats()
    # 20 s tokens, renewed 5 s before expiry (a quarter of the lifetime). Each of the 15 pages takes
    # 2.5 s of the shared clock, so the read lasts over 37 s: three tokens at least. A request in
    # flight sees at most one page's 2.5 s, a Retry-After of 1 s and the emulator's whole-second
    # ``iat`` pass before the server checks its token: less than the 5 s margin, so none is refused.
    emulator.set_faults(**{**FAULTS, "token_lifetime_s": 20})
    statuses: list[int] = []
    with waits_on_emulator(emulator) as time:
        renewed = extract_to_file(
            emulator.url,
            asset,
            window,
            tmp_path / "renewed.jsonl",
            backoff_base=0.01,
            page_time=(time, 2.5),
            statuses=statuses,
        )
    assert time.waited >= RECORDS / PAGE * 2.5
    assert emulator.stats()["token_requests"]["total"] >= 3, "the token was renewed during the read, more than once"
    assert 401 not in statuses, "each token was renewed before it expired, not after the emulator refused it"
    assert statuses.count(200) >= RECORDS / PAGE
    assert renewed["records"] == RECORDS
    assert_complete(lines(tmp_path / "renewed.jsonl"), lines(clean))
