"""A learner's own training in the background (the Classification page's model, which lives in the
session): a `ui.jobs.Job` that counts steps and is refused at once when the server's slots are
full, so the learner is told to try again instead of waiting in a queue.

A stop (the Stop button, or nobody polling for `ui.jobs.ABANDONED_AFTER_S`: the tab was closed)
takes effect where the current epoch ends, so the weights, the epoch count and the history always
describe the same model; training can then continue.
"""

from __future__ import annotations

from typing import Callable

from nnkit.train import StopTraining
from ui.jobs import Job, exiting


class TrainingJob(Job):
    def __init__(self, work: Callable[[Callable[[dict], None]], object], total_steps: int):
        super().__init__(work, total_steps, unit="step", queue=False)

    def listen(self, event: dict) -> None:
        if event["event"] == "step":
            self.steps_done += 1
        elif event["event"] == "epoch" and self.should_stop():
            raise StopTraining  # after the epoch is recorded: never weights from half an epoch
        if exiting():
            raise StopTraining  # the server is going down: nothing is kept anyway
