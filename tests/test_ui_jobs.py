"""The one capped background mechanism and the shared results cache (ui/jobs.py).

Every heavy computation of a page (the Activations training, the regression runs, the loss
comparisons) runs as a background job under the server's cap, with progress and Stop, and a
seeded result is computed once for every session that asks for the same settings.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from conftest import open_page, setting
from nnkit.experiments.activations import ActivationsParams
from nnkit.train import StopTraining
from ui import jobs, shared
from ui.locales import en


def _wait(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_thirty_visitors_with_the_same_link_train_once():
    link = {"seed": "424242", "epochs": "40"}  # a seed no other test uses
    before = shared.results().computed["act"]
    pages = [open_page("activations", "en", link) for _ in range(3)]
    assert shared.results().computed["act"] == before + 1
    metrics = [[m.value for m in at.metric] for at in pages]
    assert metrics[0] == metrics[1] == metrics[2] and len(metrics[0]) >= 4
    # another seed is another experiment
    open_page("activations", "en", {"seed": "424243", "epochs": "40"})
    assert shared.results().computed["act"] == before + 2


def test_a_slow_result_shows_progress_and_stop_then_stays_stopped(monkeypatch):
    monkeypatch.setenv("NNKIT_JOB_WAIT_S", "0")
    at = open_page("activations", "en", {"seed": "515151", "epochs": "2000", "n_points": "1000", "hidden_layers": "3",
                                         "hidden_size": "64"})
    assert not at.exception, at.exception
    assert at.get("progress"), "the running job shows its progress"
    assert not any(m.label == en.STRINGS["act.accuracy"] for m in at.metric)  # no result yet
    key = next(k for k in shared.results().entries if k[0] == "act" and 515151 in k[1])
    job = shared.results().entries[key].job
    _wait(lambda: job.steps_done >= 2)  # a few epochs done: something to keep when it stops
    stop = next(b for b in at.button if b.key == "_job_stop_act")
    stop.click().run()
    assert not at.exception, at.exception
    assert any(i.value == en.STRINGS["jobs.stopped"] for i in at.info)
    _wait(lambda: job.finished.is_set())
    assert job.stopped and job.result is not None  # fit returned early, with outcome "stopped"
    at.run()  # a rerun does not start it again behind the learner's back
    assert any(i.value == en.STRINGS["jobs.stopped"] for i in at.info)
    # what it did before the stop is a run of its own, marked stopped
    [stopped] = at.session_state["activations.runs"].runs
    assert stopped.record.outcome == "stopped" and 0 < len(stopped.record.history) < 2000
    at.run()
    assert len(at.session_state["activations.runs"].runs) == 1  # kept once
    assert shared.results().entries.get(key) is not None and shared.results().entries[key].job is job
    # the learner asks for it again: it runs anew (and is stopped here to keep the test short)
    next(b for b in at.button if b.key == "_job_run_act").click().run()
    assert not any(i.value == en.STRINGS["jobs.stopped"] for i in at.info)
    again = shared.results().entries[key].job
    assert again is not job
    again.stop()
    _wait(lambda: again.finished.is_set())


def test_jobs_wait_for_a_slot_and_a_full_queue_is_refused(monkeypatch):
    slots = jobs._Slots(1)
    monkeypatch.setattr(jobs, "slots", lambda: slots)
    monkeypatch.setattr(jobs, "MAX_WAITING_PER_SLOT", 1)
    gate = threading.Event()
    first = jobs.Job(lambda listen: gate.wait(30), 1, queue=True)
    second = jobs.Job(lambda listen: "done", 1, queue=True)
    third = jobs.Job(lambda listen: "never", 1, queue=True)
    assert first.start()
    _wait(lambda: first.started_computing.is_set())
    assert second.start()
    _wait(lambda: slots.waiting == 1)
    assert not second.started_computing.is_set()  # the cap: one computes, one waits
    assert third.start()
    _wait(lambda: third.finished.is_set())
    assert third.refused and third.result is None  # the queue was full
    own = jobs.Job(lambda listen: "mine", 1, queue=False)
    assert not own.start()  # a learner's own training is refused at once when the server is full
    gate.set()
    _wait(lambda: second.finished.is_set())
    assert second.result == "done" and slots.running == 0 and slots.waiting == 0


def test_a_job_nobody_watches_stops_itself(monkeypatch):
    monkeypatch.setattr(jobs, "ABANDONED_AFTER_S", 0.2)
    steps = []

    def work(listen):
        for i in range(10_000):
            listen({"event": "step"})
            steps.append(i)
            time.sleep(0.001)
        return "finished"

    job = jobs.Job(work, 10_000, queue=True)
    job.start()
    _wait(lambda: job.finished.is_set(), timeout=30)
    assert job.stopped and job.result is None and len(steps) < 10_000
    assert isinstance(job.error, type(None))


def test_a_page_waiting_for_a_job_longer_than_the_abandon_time_keeps_it_alive(monkeypatch):
    """A page that waits in place (NNKIT_JOB_WAIT_S) is watching: the job must not abandon itself."""
    monkeypatch.setattr(jobs, "ABANDONED_AFTER_S", 0.2)

    def work(listen):
        for _ in range(100):
            listen({"event": "step"})
            time.sleep(0.01)  # about 1 s in all: five times the abandon time
        return "finished"

    job = jobs.Job(work, 100, queue=True)
    job.start()
    assert job.watch(60.0)
    assert not job.stopped and job.result == "finished"


def test_the_shared_cache_is_bounded_in_bytes_least_recently_used_first():
    store = shared.SharedResults(max_entries=100, max_bytes=3 * 8_000_000 + 100)  # room for three arrays
    arrays = {}
    for name in "abcd":
        job = store.get_or_start((name,), lambda listen: np.zeros(1_000_000), 1, "step", None)
        _wait(lambda: job.finished.is_set())
        store.settle((name,))
        arrays[name] = job
        if name == "b":
            store.get_or_start(("a",), None, 1, "step", None)  # "a" used again: "b" is now the oldest
    assert set(store.entries) == {("a",), ("c",), ("d",)}
    assert store.held() <= 3 * 8_000_000 + 100


def test_entries_keyed_by_a_visitors_data_expire(monkeypatch):
    store = shared.SharedResults()
    job = store.get_or_start(("csv", "sha"), lambda listen: 1, 1, "step", ttl=0.1)
    _wait(lambda: job.finished.is_set())
    time.sleep(0.15)
    again = store.get_or_start(("csv", "sha"), lambda listen: 2, 1, "step", ttl=0.1)
    assert again is not job


def test_stop_training_raised_by_the_listener_ends_the_work_quietly():
    def work(listen):
        listen({"event": "step"})
        raise StopTraining

    job = jobs.Job(work, 1, queue=True)
    job.start()
    _wait(lambda: job.finished.is_set())
    assert job.error is None and job.result is None


@pytest.mark.parametrize("task", ["linear", "multiple"])
def test_a_regression_run_reports_every_step_and_can_be_stopped(task):
    from nnkit.experiments.regression import RegressionParams, run

    events = []

    def listen(event):  # as a Job's listener does once asked to stop: every later event raises too
        events.append(event)
        if len(events) >= 50:
            raise StopTraining

    result = run(RegressionParams(task=task, iterations=400), listen)
    assert 50 <= len(events) <= 52  # the second training stops at its first event
    stopped = result["by_hand"] if task == "linear" else result["fits"]["raw"]
    assert stopped.outcome == "stopped"
    complete = []
    full = run(RegressionParams(task=task, iterations=400), complete.append)
    traces = [full["by_hand"], full["nn_linear"]] if task == "linear" else list(full["fits"].values())
    done = sum(e["event"] == "step" for e in complete)
    # one event per gradient step actually taken: 800 at most, the total the page's progress bar uses
    # (the raw features diverge early here, which ends that run)
    assert done == sum(len(trace.loss) for trace in traces) and done <= 800
    if task == "linear":
        assert done == 800


def test_the_activations_total_matches_the_events():
    from nnkit.experiments.activations import train_nonlinearity

    events = []
    train_nonlinearity(ActivationsParams(epochs=20, n_points=50), events.append)
    assert sum(e["event"] == "epoch" for e in events) == 2 * 20


def test_a_page_setting_changed_while_a_job_runs_keeps_the_page_working(monkeypatch):
    monkeypatch.setenv("NNKIT_JOB_WAIT_S", "0")
    at = open_page("activations", "en", {"seed": "616161", "epochs": "2000", "n_points": "1000"})
    setting(at, ActivationsParams, "epochs").set_value(20).run()
    assert not at.exception, at.exception
    for key, entry in list(shared.results().entries.items()):
        if key[0] == "act" and 616161 in key[1]:
            entry.job.stop()
