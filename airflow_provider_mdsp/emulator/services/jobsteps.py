"""The clock of the emulator's asynchronous jobs: a job moves one state further every ``step_s`` seconds.

A job is accepted (step 0), runs (step 1) and ends (step 2); each service names the states its own
way. A tenant's job books share one :class:`JobClock`; a :class:`JobBook` holds one service's jobs
and does a job's work once, when the job has ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

ENDED = 2


def job_step(submitted: float, now: float, step_s: float) -> int:
    """Return how far a job has come: 0 (just accepted), 1 (running) or 2 (ended).

    :param submitted: epoch seconds of submission
    :param now: epoch seconds now
    :param step_s: seconds per state; 0 or less ends jobs at once
    """
    if step_s <= 0:
        return ENDED
    return max(0, min(ENDED, int((now - submitted) // step_s)))


@dataclass(frozen=True)
class JobClock:
    """The clock of a tenant's jobs.

    :param step_s: seconds per job state (``job_step_s`` in the config)
    :param time: epoch-seconds clock
    """

    step_s: float
    time: Callable[[], float]


class Job(Protocol):
    """What a job book needs of a job: when it was submitted, and whether its work is done."""

    id: str
    submitted: float
    done: bool


J = TypeVar("J", bound=Job)


class JobBook(Generic[J]):
    """The jobs of one service in one tenant, by id.

    :param clock: the tenant's job clock
    """

    def __init__(self, clock: JobClock) -> None:
        self.step_s = clock.step_s
        self._clock = clock.time
        self.jobs: dict[str, J] = {}

    def add(self, job: J) -> J:
        """Keep a new job and return it.

        :param job: the job
        """
        self.jobs[job.id] = job
        return job

    def advance(self) -> None:
        """Do the work of each job that has ended, once."""
        now = self._clock()
        for job in list(self.jobs.values()):
            if job.done or job_step(job.submitted, now, self.step_s) < ENDED:
                continue
            job.done = True
            self.finish(job)

    def finish(self, job: J) -> None:
        """Do a job's work; called once, when the job has ended.

        :param job: the job
        """
        raise NotImplementedError
