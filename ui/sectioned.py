"""The page of an experiment made of sections (`section` picks what runs): written once, used by the
Overfitting, Dropout, Gradients, Optimizers and Schedulers pages, each of which only names its views.

The hub module (nnkit/experiments/<page>.py) provides EXPERIMENT, RUN_METRICS, `applies(p)`,
`epochs_total(p)` (the "epoch" events a run reports; 0: it is computed in a blink), `run(p, callback)`,
`records(p, result)` (one run record per network or path it trained), and optionally `check(p)`, which
raises ParamError for a combination of settings the section cannot run.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import streamlit as st

from nnkit.experiments.base import ParamError
from ui import guided, runs
from ui.i18n import t
from ui.page import code_section, header, remembered, share_link
from ui.params import describe, read, widget, widgets
from ui.shared import shared


def page(prefix: str, hub: ModuleType, views: dict[str, Callable[[Any, dict], None]], finals: tuple[str, ...],
         log_metrics: tuple[str, ...] | None = None, settings: Callable[[Any], None] | None = None) -> None:
    """Header, share link and guided experiments; the section picker, the section's title, intro and
    widgets; its run (in the background, under the cap, when it trains; remembered when it is cheap),
    its view, the run history and the code export.

    `views[section](p, result)` draws a section; `finals` are the run history's final numbers;
    `settings(p)` draws the widgets when a section needs more than one row of its own settings."""
    experiment = hub.EXPERIMENT
    P, name = experiment.params_cls, experiment.name
    header(prefix, P)
    p = read(P)
    share_link()
    guided.section(experiment, p)

    widget(P, "section")
    st.header(t(f"{prefix}.{p.section}"))
    st.markdown(t(f"{prefix}.{p.section}.intro"))
    if settings is not None:
        settings(p)
    else:
        widgets(P, [n for n in hub.applies(p) if n not in ("section", "seed")])
    try:
        getattr(hub, "check", lambda p: None)(p)
    except ParamError as err:
        st.error(describe(err))
        st.stop()

    def keep(result: dict) -> None:
        for made in hub.records(p, result):
            runs.add(name, made)

    key = tuple((n, getattr(p, n)) for n in hub.applies(p))
    if total := hub.epochs_total(p):
        result = shared(prefix, key, lambda listen: hub.run(p, listen), total=total, unit="epoch", on_stopped=keep)
    else:  # computed in a blink, nothing trained for long: here, once per setting
        result = remembered(prefix, key, lambda: hub.run(p))
    history = True
    if result is not None:  # None while training: its progress is on screen, and the page reruns when ready
        if st.session_state.get(f"{prefix}.recorded") != key:  # once per result: a deleted run stays deleted
            keep(result)
            st.session_state[f"{prefix}.recorded"] = key
        views[p.section](p, result)
        # a section that trains nothing (curves drawn whole) keeps no run: no empty "Your runs (0)" under it
        history = bool(runs.book(name).runs) or bool(hub.records(p, result))

    if history:
        runs.panel(name, P, {m: t(f"{prefix}.runs.{m}") for m in hub.RUN_METRICS},
                   {m: t(f"{prefix}.runs.{m}") for m in finals}, log_metrics=log_metrics or hub.RUN_METRICS)
    code_section(experiment, p)
