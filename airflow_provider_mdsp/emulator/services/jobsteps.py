"""The clock of the emulator's asynchronous jobs: a job moves one state further every ``step_s`` seconds."""

from __future__ import annotations


def job_step(submitted: float, now: float, step_s: float) -> int:
    """Return how far a job has come: 0 (just accepted), 1 (running) or 2 (ended).

    :param submitted: epoch seconds of submission
    :param now: epoch seconds now
    :param step_s: seconds per state; 0 or less ends jobs at once
    """
    if step_s <= 0:
        return 2
    return max(0, min(2, int((now - submitted) // step_s)))
