"""Run history: every training a learner finishes or stops on a page is kept, to compare.

A page hands each finished (or stopped) training to `add` as an `nnkit.runs.RunRecord`, and draws
`panel` where the learner compares: a table of the runs with only the settings that differ, their
outcome and final numbers, each with its colour; the curves of the ticked runs overlaid in those
colours; restore a run's settings, delete runs, download them all (CSV, JSON) or load runs saved
earlier (by this page or by `python -m nnkit run ... --save-run FILE`).

Each page keeps its own runs (`<page>.runs` in the session), at most MAX_RUNS: the oldest is
dropped first and the learner is told. Runs with the same identity (by default the same settings,
which give the same numbers) are one run: a repeat replaces it instead of piling up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import streamlit as st

from nnkit.experiments.base import specs
from nnkit.runs import (RunFileError, RunRecord, bundle, differing, read_bundle, settings_of, settings_text, thin,
                        to_csv)
from ui import charts, params
from ui.i18n import t
from ui.params import choice_label, text_key
from ui.text import literal, message

MAX_RUNS = 10  # one colour each: a run's colour is the same in the table and the chart
# Tableau 10: distinct at a glance
COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
MAX_POINTS = 400  # per run in the overlay: the chart stays quick with long histories


@dataclass
class Run:
    number: int  # shown as "#3": the order the learner made them in, never reused
    record: RunRecord
    identity: str

    @property
    def label(self) -> str:
        return f"#{self.number}"

    @property
    def colour(self) -> str:
        return COLOURS[(self.number - 1) % len(COLOURS)]


@dataclass
class Book:
    runs: list[Run] = field(default_factory=list)
    made: int = 0  # runs numbered so far
    dropped: list[int] = field(default_factory=list)  # numbers dropped to stay under MAX_RUNS, not yet told
    version: int = 0  # changes when runs are deleted: the run picker starts afresh
    last: str = ""  # identity of the latest run handed to `add`: deleted, it does not come back by itself
    offered: list[str] = field(default_factory=list)  # labels the compare box has listed: a new run is ticked


def book(page: str) -> Book:
    return st.session_state.setdefault(f"{page}.runs", Book())


def add(page: str, record: RunRecord, identity: str | None = None) -> Run | None:
    """Keep `record` as a run of `page`; the same identity (default: the same settings) replaces its
    earlier run, keeping its number and colour. Pages hand over the run they show on every rerun:
    one the learner deleted while it was showing stays deleted."""
    if not record.history:
        return None  # stopped before its first epoch: nothing to compare
    runs = book(page)
    identity = identity or json.dumps([record.experiment, record.settings], sort_keys=True)
    for run in runs.runs:
        if run.identity == identity:
            if (run.record.history, run.record.summary, run.record.outcome, run.record.tags) != \
                    (record.history, record.summary, record.outcome, record.tags):
                run.record = record  # the same run trained on (a classifier's next epochs)
            runs.last = identity
            return run
    if identity == runs.last:
        return None
    runs.last = identity
    for run in runs.runs:  # the very same run again (a download loaded back): nothing new
        if (run.record.experiment, run.record.settings, run.record.history, run.record.summary,
                run.record.outcome) == (record.experiment, record.settings, record.history, record.summary,
                                        record.outcome):
            return run
    runs.made += 1
    run = Run(runs.made, record, identity)
    runs.runs.append(run)
    while len(runs.runs) > MAX_RUNS:
        runs.dropped.append(runs.runs.pop(0).number)
    runs.version += 1
    return run


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


def _setting(params_cls: type, name: str, value: Any) -> str:
    kind = specs(params_cls)[name][1].kind if name in specs(params_cls) else ""
    if isinstance(value, list):
        return ", ".join(choice_label(v) for v in value)
    if kind == "bool" and value in ("true", "false"):
        return t(f"runs.{value}")
    return choice_label(value) if kind == "choice" else value


def _setting_title(params_cls: type, name: str) -> str:
    return t("sidebar.seed") if name == "seed" else t(text_key(params_cls, name))


def _table(runs: list[Run], params_cls: type, finals: dict[str, str]):
    import pandas as pd

    changed = differing([r.record for r in runs])
    # a number none of these runs has (another task's loss) would be a column of dashes
    shown = {key: label for key, label in finals.items() if any(r.record.summary.get(key) is not None for r in runs)}
    rows = []
    for run in runs:
        row = {"#": run.label, t("runs.colour"): run.colour}
        row.update({_setting_title(params_cls, n): _setting(params_cls, n, run.record.settings.get(n, "—"))
                    for n in changed})
        row[t("runs.outcome")] = t(f"runs.outcome.{run.record.outcome}") + \
            "".join(f" · {t(f'runs.tag.{tag}')}" for tag in run.record.tags if tag in ("resumed", "loaded"))
        row.update({label: _number(run.record.summary.get(key)) for key, label in shown.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    colour = t("runs.colour")
    return frame.style.map(lambda c: f"background-color: {c}; color: {c}", subset=[colour])


def panel(page: str, params_cls: type, metrics: dict[str, str], finals: dict[str, str],
          log_metrics: tuple[str, ...] = ()) -> None:
    """The runs of `page`: table, overlay of a metric (`metrics`: history name -> label) for the
    ticked runs, restore, delete, download and load. `finals`: summary name -> label, the table's
    numbers. `log_metrics` start on a log scale (losses spanning decades)."""
    runs = book(page)
    with st.expander(t("runs.title", count=len(runs.runs)), expanded=bool(runs.runs), icon=":material/history:"):
        if runs.dropped:
            st.info(t("runs.dropped", runs=", ".join(f"#{n}" for n in runs.dropped), limit=MAX_RUNS))
            runs.dropped.clear()
        if not runs.runs:
            st.caption(t("runs.empty", limit=MAX_RUNS))
        else:
            st.caption(t("runs.help", limit=MAX_RUNS))
            st.dataframe(_table(runs.runs, params_cls, finals), hide_index=True, width="stretch")
            _overlay(page, runs, metrics, log_metrics)
            _manage(page, runs, params_cls)
        _files(page, runs, params_cls)


def _overlay(page: str, runs: Book, metrics: dict[str, str], log_metrics: tuple[str, ...]) -> None:
    labels = [r.label for r in runs.runs]
    left, mid, right = st.columns([3, 2, 1])
    key = f"{page}.runs.ticked"
    if key not in st.session_state or not runs.offered:
        st.session_state[key] = labels[-4:]
    else:  # a run made since is ticked; what the learner unticked stays unticked
        kept = [label for label in st.session_state[key] if label in labels]
        st.session_state[key] = kept + [label for label in labels if label not in runs.offered and label not in kept]
    runs.offered = labels
    ticked = left.multiselect(t("runs.compare"), labels, key=key)
    available = [m for m in metrics if any(m in r.record.metrics for r in runs.runs)]
    if not available:
        return
    metric = mid.selectbox(t("runs.metric"), available, format_func=metrics.get, key=f"{page}.runs.metric")
    log_y = right.toggle(t("runs.log"), value=metric in log_metrics, key=f"{page}.runs.log.{metric}")
    chosen = [r for r in runs.runs if r.label in ticked]
    rows = []
    for run in chosen:
        history = run.record.history
        rows += [{"x": row[run.record.x], "y": row[metric], "run": run.label} for row in thin(history, MAX_POINTS)
                 if row.get(metric) is not None and run.record.x in row and (not log_y or row[metric] > 0)]
    if not rows:
        st.caption(t("runs.nothing", metric=metrics[metric]))
        return
    axis = {r.record.x for r in chosen}
    st.vega_lite_chart(spec=charts.runs_overlay(rows, t(f"runs.x.{axis.pop()}") if len(axis) == 1 else "",
                                                metrics[metric], tuple(r.label for r in chosen),
                                                tuple(r.colour for r in chosen), log_y), width="stretch")


def _manage(page: str, runs: Book, params_cls: type) -> None:
    labels = {r.label: r for r in runs.runs}
    pick, restore, delete, clear = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(t("runs.pick"), list(labels), index=len(labels) - 1, key=f"{page}.runs.pick.{runs.version}")
    if restore.button(t("runs.restore"), key=f"{page}.runs.restore", icon=":material/settings_backup_restore:",
                      help=t("runs.restore.help")):
        params.request(params_cls, settings_of(labels[chosen].record, params_cls))
        st.rerun()
    if delete.button(t("runs.delete"), key=f"{page}.runs.delete", icon=":material/delete:"):
        runs.runs.remove(labels[chosen])
        runs.version += 1
        st.rerun()
    if clear.button(t("runs.clear"), key=f"{page}.runs.clear", icon=":material/delete_sweep:"):
        runs.runs.clear()
        runs.version += 1
        st.rerun()


def _files(page: str, runs: Book, params_cls: type) -> None:
    records = [r.record for r in runs.runs]
    labels = [r.label for r in runs.runs]
    if records:
        left, right = st.columns(2)
        left.download_button(t("runs.download.csv"), lambda: to_csv(records, labels),
                             f"nn_playground_{page}_runs.csv", mime="text/csv", key=f"{page}.runs.csv",
                             on_click="ignore", icon=":material/table:")
        right.download_button(t("runs.download.json"), lambda: bundle(records),
                              f"nn_playground_{page}_runs.json", mime="application/json", key=f"{page}.runs.json",
                              on_click="ignore", icon=":material/data_object:")
    upload = st.file_uploader(t("runs.load"), type=["json"], key=f"{page}.runs.upload", help=t("runs.load.help"))
    if upload is not None:
        load(page, params_cls, upload.file_id, upload.name, lambda: upload.getvalue())


def load(page: str, params_cls: type, file_id: str, name: str, read: Callable[[], bytes]) -> None:
    """Add the runs of an uploaded file (once per upload), or say why it cannot be read."""
    done = st.session_state.setdefault(f"{page}.runs.loaded", {})
    if file_id not in done:
        done.clear()  # only the latest upload is remembered: the set cannot grow
        try:
            records = read_bundle(read())
            experiment = params.scope(params_cls)
            for record in records:
                if record.experiment != experiment:
                    raise RunFileError("experiment", f"a run of {record.experiment}", experiment=record.experiment)
                # refuses settings this page does not have; writes the rest as the page does (1e-2 is 0.01)
                values = settings_of(record, params_cls)
                record.settings = settings_text(params_cls(**values), list(values))
            for record in records:
                record.tags = list(dict.fromkeys([*record.tags, "loaded"]))
                add(page, record, identity=json.dumps([record.experiment, record.settings, record.created],
                                                      sort_keys=True))
            done[file_id] = ("ok", len(records))
        except RunFileError as err:
            done[file_id] = ("error", message("runs.error", err))
        st.rerun()
    status, what = done[file_id]
    if status == "ok":
        st.success(t("runs.loaded", count=what, name=literal(name)))
    else:
        st.error(t("runs.load.failed", name=literal(name)) + " " + what)
