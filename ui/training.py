"""Training in the background while the page stays usable, with a server-wide cap.

A `TrainingJob` runs nnkit's `fit` in a worker thread that makes no Streamlit calls. The page
polls it from an `st.fragment(run_every=...)`, which also acts as a heartbeat: when the browser tab
is closed the polling stops, and the job stops itself after `ABANDONED_AFTER_S` seconds. A stop
takes effect where the current epoch ends, so the weights, the epoch count and the history always
describe the same model; training can then continue.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable

import streamlit as st

from nnkit.train import StopTraining

ABANDONED_AFTER_S = 30.0
DEFAULT_MAX_TRAININGS = 2  # for a small server: each training takes a CPU core or a GPU's attention


def max_trainings() -> int:
    try:
        return max(1, int(os.environ.get("NNKIT_MAX_TRAININGS", DEFAULT_MAX_TRAININGS)))
    except ValueError:
        return DEFAULT_MAX_TRAININGS


@st.cache_resource(show_spinner=False)
def _slots() -> threading.BoundedSemaphore:
    """One per server process, shared by every session: the cap on concurrent trainings."""
    return threading.BoundedSemaphore(max_trainings())


class TrainingJob:
    def __init__(self, work: Callable[[Callable[[dict], None]], object], total_steps: int):
        self.work, self.total_steps = work, total_steps
        self.stop_requested = threading.Event()
        self.last_poll = time.monotonic()
        self.steps_done = 0
        self.result = None
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> bool:
        """Start in the background; False when the server is already running its maximum."""
        if not _slots().acquire(blocking=False):
            return False
        self.thread = threading.Thread(target=self._run, name="nnkit-training", daemon=True)
        self.thread.start()
        return True

    def _run(self) -> None:
        try:
            self.result = self.work(self._listen)
        except BaseException as err:  # noqa: BLE001 - reported on the page, never lost in a thread
            self.error = err
        finally:
            _slots().release()
            self.finished.set()

    def _listen(self, event: dict) -> None:
        if event["event"] == "step":
            self.steps_done += 1
        elif event["event"] == "epoch" and (self.stop_requested.is_set()
                                            or time.monotonic() - self.last_poll > ABANDONED_AFTER_S):
            raise StopTraining  # after the epoch is recorded: never weights from half an epoch

    def poll(self) -> None:
        """Called by the page's polling fragment: proves someone is still watching."""
        self.last_poll = time.monotonic()

    def stop(self) -> None:
        self.stop_requested.set()

    @property
    def progress(self) -> float:
        return min(self.steps_done / max(self.total_steps, 1), 1.0)

    @property
    def running(self) -> bool:
        return self.thread is not None and not self.finished.is_set()
