"""Heavy work off the page's thread: one capped set of background jobs for the whole server.

Every job that can take over a second runs here, as a `Job`: a worker thread that makes no
Streamlit calls, reports progress through nnkit's plain callback, and stops when asked (the Stop
button) or when nobody watches any more (its page polls it from an `st.fragment`; a closed tab stops
polling, and the job stops itself after `ABANDONED_AFTER_S`). At most `NNKIT_MAX_TRAININGS` jobs
compute at once in the whole server; the others wait for a slot, in a bounded queue.

Results a page needs are computed through `ui.shared.shared`, which keeps them for every session.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from typing import Any, Callable

import streamlit as st

from nnkit.device import max_trainings  # the cap; nnkit.device also shares the cores out by it
from nnkit.train import StopTraining

ABANDONED_AFTER_S = 30.0
MAX_WAITING_PER_SLOT = 8  # jobs queued for a slot beyond this are refused ("try again")


def wait_s() -> float:
    """How long a page waits for a job before showing its progress: a job that ends within it
    appears in the same run, as if computed in place. Tests raise it to wait for results."""
    try:
        return max(0.0, float(os.environ.get("NNKIT_JOB_WAIT_S", 1.0)))
    except ValueError:
        return 1.0


class _Slots:
    """The server-wide cap: `NNKIT_MAX_TRAININGS` jobs compute at once, a bounded number wait."""

    def __init__(self, size: int):
        self.size = size
        self.free = threading.Semaphore(size)
        self.lock = threading.Lock()
        self.waiting = 0
        self.running = 0

    def take(self, block: bool, stop: threading.Event) -> bool:
        if not block:
            if not self.free.acquire(blocking=False):
                return False
        else:
            with self.lock:
                if self.waiting >= MAX_WAITING_PER_SLOT * self.size:
                    return False
                self.waiting += 1
            try:
                while not self.free.acquire(timeout=0.2):
                    if stop.is_set():
                        return False
            finally:
                with self.lock:
                    self.waiting -= 1
        with self.lock:
            self.running += 1
        return True

    def give(self) -> None:
        with self.lock:
            self.running -= 1
        self.free.release()


@st.cache_resource(show_spinner=False)
def slots() -> _Slots:
    """One per server process, shared by every session."""
    return _Slots(max_trainings())


_LIVE: "weakref.WeakSet[Job]" = weakref.WeakSet()  # jobs whose thread may still run
_EXITING = threading.Event()


@atexit.register
def _stop_all_at_exit(timeout: float = 10.0) -> None:
    """Stop every job before the interpreter goes: a worker thread still inside torch while Python
    shuts down aborts the process ("terminate called without an active exception")."""
    _EXITING.set()
    deadline = time.monotonic() + timeout
    for job in list(_LIVE):
        if job.thread is not None:
            job.thread.join(max(0.0, deadline - time.monotonic()))


def exiting() -> bool:
    return _EXITING.is_set()


class Job:
    """`work(listen)` in a worker thread, holding one of the server's slots while it computes.

    `listen` is the nnkit callback: it counts progress events of kind `unit` and raises
    StopTraining when the job was asked to stop or nobody has polled it for ABANDONED_AFTER_S.
    `queue=True` waits for a free slot (results a page needs); `queue=False` refuses at once when
    the server is full (a training the learner started, who is told to try again).
    """

    def __init__(self, work: Callable[[Callable[[dict], None]], Any], total_steps: int, unit: str = "step",
                 queue: bool = False):
        self.work, self.total_steps, self.unit, self.queue = work, total_steps, unit, queue
        self.stop_requested = threading.Event()
        self.last_poll = time.monotonic()
        self.steps_done = 0
        self.result = None
        self.error: BaseException | None = None
        self.refused = False
        self.started_computing = threading.Event()
        self.finished = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> bool:
        """Start in the background; False when the server's slots (and its queue) are full."""
        if not self.queue and not slots().take(block=False, stop=self.stop_requested):
            return False
        self.thread = threading.Thread(target=self._run, name="nnkit-job", daemon=True)
        _LIVE.add(self)
        self.thread.start()
        return True

    def _run(self) -> None:
        try:
            if self.queue and not slots().take(block=True, stop=self.stop_requested):
                self.refused = not self.stop_requested.is_set()
                return
            self.started_computing.set()
            try:
                self.result = self.work(self.listen)
            finally:
                slots().give()
        except StopTraining:
            pass  # stopped where the work does not catch it itself: nothing to keep
        except BaseException as err:  # noqa: BLE001 - reported on the page, never lost in a thread
            self.error = err
        finally:
            self.finished.set()

    def listen(self, event: dict) -> None:
        if event["event"] == self.unit:
            self.steps_done += 1
        if self.should_stop():
            raise StopTraining

    def should_stop(self) -> bool:
        """Asked to stop, or abandoned (which then counts as asked: its result is kept by nobody)."""
        if _EXITING.is_set() or time.monotonic() - self.last_poll > ABANDONED_AFTER_S:
            self.stop_requested.set()
        return self.stop_requested.is_set()

    def poll(self) -> None:
        """Called by a watching page: proves someone still wants the result."""
        self.last_poll = time.monotonic()

    def watch(self, seconds: float) -> bool:
        """Wait up to `seconds` for the job to finish, polling as it waits (a page waiting for it is
        watching it: a wait longer than ABANDONED_AFTER_S must not abandon the job). True if finished."""
        deadline = time.monotonic() + seconds
        while not self.finished.is_set() and (left := deadline - time.monotonic()) > 0:
            self.poll()
            self.finished.wait(min(left, ABANDONED_AFTER_S / 3))
        return self.finished.is_set()

    def stop(self) -> None:
        self.stop_requested.set()

    @property
    def stopped(self) -> bool:
        return self.stop_requested.is_set()

    @property
    def progress(self) -> float:
        return min(self.steps_done / max(self.total_steps, 1), 1.0)

    @property
    def running(self) -> bool:
        return self.thread is not None and not self.finished.is_set()
