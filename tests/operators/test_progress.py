"""Progress lines of long reads: records so far, share of the window, rate and time left, at a steady pace."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow_provider_mdsp.operators.progress import ReadProgress, progress_message, window_share

START = datetime(2026, 5, 1, tzinfo=timezone.utc)
END = START + timedelta(hours=10)


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str, *args: object) -> None:
        self.lines.append(message % args)


def test_the_message_says_how_far_how_fast_and_how_long_still():
    assert progress_message(1_200_000, 0.4, 12.0) == (
        "1,200,000 records so far, 40% of the window, 100,000 records/s, about 18 s left"
    )
    assert progress_message(10, None, 0.0) == "10 records so far, 0 records/s"


def test_the_share_of_the_window_is_clamped_and_unknown_without_a_time():
    assert window_share(START, END, START + timedelta(hours=5)) == 0.5
    assert window_share(START, END, END + timedelta(hours=1)) == 1.0
    assert window_share(START, END, None) is None


def test_a_line_every_ten_seconds_while_pages_pass_through_unchanged():
    now = [0.0]
    log = Log()
    pages = [[{"_time": (START + timedelta(hours=h)).isoformat().replace("+00:00", "Z")}] for h in range(1, 11)]

    def clock() -> float:
        now[0] += 3.0  # each page takes 3 s
        return now[0]

    progress = ReadProgress(START, END, log, clock=clock)
    assert list(progress.track(iter(pages))) == pages
    assert len(log.lines) == 2, "at 12 s and 24 s of a 30 s read"
    assert log.lines[0].startswith("Reading: 4 records so far, 40% of the window")


def test_a_short_read_logs_nothing():
    log = Log()
    list(ReadProgress(START, END, log).track(iter([[{"_time": "2026-05-01T01:00:00Z"}]])))
    assert log.lines == []
