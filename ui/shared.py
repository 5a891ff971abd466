"""Results shared by every session: seeded results depend only on their settings, so `shared`
computes each once, as a background job (ui/jobs.py), and keeps it for every session: a class of
thirty opening the same link trains the network once. The cache is bounded in entries and in bytes,
and entries keyed by a visitor's own data (an uploaded file) also expire.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import fields, is_dataclass
from typing import Any, Callable

import numpy as np
import streamlit as st

from ui.i18n import t
from ui.jobs import Job, wait_s

CACHE_BYTES = int(float(os.environ.get("NNKIT_CACHE_MB", 256)) * 2**20)
CACHE_ENTRIES = 512
POLL_S = 0.5
USER_DATA_TTL_S = 3600.0  # results keyed by a visitor's own file: gone an hour after they were made


def nbytes(value: Any, depth: int = 0) -> int:
    """About how many bytes `value` holds: arrays and tensors counted exactly, the rest roughly."""
    if depth > 6:
        return 64
    if isinstance(value, np.ndarray):
        return value.nbytes
    if hasattr(value, "element_size") and hasattr(value, "nelement"):  # a torch tensor
        return value.element_size() * value.nelement()
    if isinstance(value, dict):
        return 64 + sum(nbytes(k, depth + 1) + nbytes(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        if len(value) > 64 and all(isinstance(v, (int, float)) for v in list(value)[:64]):
            return 56 + 32 * len(value)  # a long list of numbers: Python objects, not raw floats
        return 56 + sum(nbytes(v, depth + 1) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return 64 + sum(nbytes(getattr(value, f.name), depth + 1) for f in fields(value))
    if hasattr(value, "parameters") and callable(value.parameters):  # an nn.Module
        return sum(nbytes(p, depth + 1) for p in value.parameters())
    if isinstance(value, (str, bytes)):
        return 49 + len(value)
    return 32


class _Entry:
    def __init__(self, job: Job, expires: float | None):
        self.job, self.expires, self.size = job, expires, 0


class SharedResults:
    """Finished and running jobs by key, least recently used first; bounded in entries and bytes."""

    def __init__(self, max_entries: int = CACHE_ENTRIES, max_bytes: int = CACHE_BYTES):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self.lock = threading.Lock()
        self.computed: Counter[str] = Counter()  # jobs started, by name: tests count them to prove sharing

    def get_or_start(self, key: tuple, work, total: int, unit: str, ttl: float | None) -> Job | None:
        """The job for `key` (running or finished), started if there is none; None if refused."""
        now = time.monotonic()
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and entry.expires is not None and entry.expires < now:
                del self.entries[key]
                entry = None
            if entry is not None and entry.job.finished.is_set() and (entry.job.stopped or entry.job.refused):
                del self.entries[key]  # a stopped job holds no result: whoever asks again starts it anew
                entry = None
            if entry is None:
                job = Job(work, total, unit, queue=True)
                entry = _Entry(job, now + ttl if ttl else None)
                self.entries[key] = entry
                self.computed[key[0]] += 1
                job.start()
            self.entries.move_to_end(key)
            return entry.job

    def settle(self, key: tuple) -> None:
        """A job ended: count its size and evict the least recently used results over the bounds."""
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry.size:
                return
            entry.size = nbytes(entry.job.result) + 1
            while len(self.entries) > 1 and (len(self.entries) > self.max_entries or self.held() > self.max_bytes):
                oldest = next(iter(self.entries))
                if oldest == key:
                    break
                del self.entries[oldest]

    def forget(self, key: tuple) -> None:
        with self.lock:
            self.entries.pop(key, None)

    def held(self) -> int:
        return sum(e.size for e in self.entries.values())


@st.cache_resource(show_spinner=False)
def results() -> SharedResults:
    """One per server process, shared by every session (never mutate what it holds)."""
    return SharedResults()


_STOPPED = "_jobs_stopped"  # {name: key} the learner stopped here: not restarted until asked


def shared(name: str, key: Any, work: Callable[[Callable[[dict], None]], Any], total: int,
           unit: str = "step", ttl: float | None = None,
           on_stopped: Callable[[Any], None] | None = None) -> Any | None:
    """The result of `work` for these settings, computed once for every session.

    `work(listen)` must depend only on `key` (with the seed in it). Returns the result when it is
    ready (within `wait_s()` of being asked, it is shown in the same run); otherwise draws the
    job's progress with a Stop button in its place and returns None: the page then skips what
    needs it, and reruns by itself when it is ready. When the learner stops it, what `work`
    returned when it stopped goes to `on_stopped` once (it is never shared: it is incomplete).
    """
    full_key = (name, key)
    stopped = st.session_state.setdefault(_STOPPED, {})
    if stopped.get(name) == key:
        job = st.session_state.get(f"{_STOPPED}.{name}")
        if job is not None and job.finished.is_set():  # the stop has taken effect: keep what it did, once
            st.session_state.pop(f"{_STOPPED}.{name}")
            if job.result is not None and on_stopped is not None:
                on_stopped(job.result)
        _stopped_note(name)
        return None
    store = results()
    job = store.get_or_start(full_key, work, total, unit, ttl)
    job.poll()
    job.watch(wait_s())
    if job.finished.is_set():
        return _finished(store, full_key, job, name)
    st.fragment(run_every=POLL_S)(_watch)(store, full_key, job, name)
    return None


def _finished(store: SharedResults, full_key: tuple, job: Job, name: str) -> Any | None:
    if job.refused:
        st.warning(t("jobs.busy"), icon=":material/hourglass_top:")
        if st.button(t("jobs.retry"), key=f"_job_retry_{name}"):
            st.rerun()
        return None
    if job.error is not None:
        st.error(t("jobs.error", error=f"{type(job.error).__name__}: {job.error}"))
        if st.button(t("jobs.retry"), key=f"_job_retry_{name}"):
            store.forget(full_key)
            st.rerun()
        return None
    if job.stopped:
        return None
    store.settle(full_key)
    return job.result


def _watch(store: SharedResults, full_key: tuple, job: Job, name: str) -> None:
    """The live part: progress while the job runs, one whole-page rerun when it has ended."""
    job.poll()
    if job.finished.is_set():
        st.rerun(scope="app")
    text = t("jobs.running") if job.started_computing.is_set() else t("jobs.waiting")
    left, right = st.columns([5, 1])
    left.progress(job.progress, text=text)
    if right.button(t("jobs.stop"), key=f"_job_stop_{name}", icon=":material/stop:"):
        job.stop()
        st.session_state[_STOPPED][name] = full_key[1]
        st.session_state[f"{_STOPPED}.{name}"] = job  # what it did until it stopped, for the run history
        job.watch(wait_s())  # a stop takes effect at the next step or epoch
        st.rerun(scope="app")


def _stopped_note(name: str) -> None:
    left, right = st.columns([5, 1])
    left.info(t("jobs.stopped"), icon=":material/stop_circle:")
    if right.button(t("jobs.run"), key=f"_job_run_{name}", icon=":material/play_arrow:"):
        st.session_state[_STOPPED].pop(name, None)
        st.rerun()
