"""Gradients: why depth multiplies local derivatives, the gradient health of a deep network layer
by layer, and the fixes (ReLU, a matching init, batch norm, residual connections, clipping)."""

import streamlit as st

from nnkit.experiments.gradients import (EXPERIMENT, RUN_FINALS, RUN_METRICS, SETTINGS, GradientsParams as P, applies,
                                         epochs_total, records, run)
from ui import guided, runs
from ui.gradients import chain, fixes, hand, health
from ui.i18n import t
from ui.page import code_section, header, share_link
from ui.params import read, widget, widgets
from ui.shared import shared

# each section's view: (params, run's result) -> draws it
VIEWS = {
    "by_hand": hand.show_hand,
    "chain": chain.show_chain,
    "health": health.show_health,
    "fixes": fixes.show_fixes,
}


def keep_runs(result: dict) -> None:
    for made in records(p, result):
        runs.add("gradients", made)


header("grd", P)
p = read(P)
share_link()
guided.section(EXPERIMENT, p)

widget(P, "section")
st.header(t(f"grd.{p.section}"))
st.markdown(t(f"grd.{p.section}.intro"))
widgets(P, list(SETTINGS[p.section]))
key = tuple((name, getattr(p, name)) for name in applies(p))
if epochs_total(p):
    result = shared("grd", key, lambda listen: run(p, listen), total=epochs_total(p), unit="epoch",
                    on_stopped=keep_runs)
else:
    result = run(p)  # by hand and the chain of derivatives: computed in a blink, nothing trained
if result is not None:  # None while training: its progress is on screen, and the page reruns when ready
    if st.session_state.get("grd.recorded") != key:  # once per result: a run deleted from the history stays deleted
        keep_runs(result)
        st.session_state["grd.recorded"] = key
    VIEWS[p.section](p, result)

runs.panel("gradients", P, {m: t(f"grd.runs.{m}") for m in RUN_METRICS},
           {m: t(f"grd.runs.{m}") for m in RUN_FINALS}, log_metrics=RUN_METRICS)
code_section(EXPERIMENT, p)
