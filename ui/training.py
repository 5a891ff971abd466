"""A learner's own training in the background (the Classification page's model, which lives in the
session): a `ui.jobs.Job` that counts steps and is refused at once when the server's slots are
full, so the learner is told to try again instead of waiting in a queue."""

from __future__ import annotations

from typing import Callable

from ui.jobs import Job


class TrainingJob(Job):
    def __init__(self, work: Callable[[Callable[[dict], None]], object], total_steps: int):
        super().__init__(work, total_steps, unit="step", queue=False)
