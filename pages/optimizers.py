"""Optimizers: gradient descent and its variants, each update rule written out and checked against
torch.optim, raced on 2-D landscapes; the learning rate on a 1-D quadratic."""

import streamlit as st

from nnkit.experiments.optimizers import (EXPERIMENT, RUN_FINALS, RUN_METRICS, OptimizersParams as P, applies, records,
                                          run)
from nnkit.updates import READS
from ui import guided, runs
from ui.i18n import t
from ui.optimizers import data, race, triad
from ui.page import code_section, header, remembered, share_link
from ui.params import read, widget, widgets
from ui.shared import shared

VIEWS = {"race": race.show_race, "triad": triad.show_triad, "data": data.show_data}


header("opt", P)
p = read(P)
share_link()
guided.section(EXPERIMENT, p)

widget(P, "section")
st.header(t(f"opt.{p.section}"))
st.markdown(t(f"opt.{p.section}.intro"))
if p.section == "race":
    widgets(P, ["landscape", "start", "steps", *(["kappa"] if p.landscape == "bowl" else [])])
    widget(P, "optimizers")
    widgets(P, [f"lr_{name}" for name in p.optimizers])
    widgets(P, list(dict.fromkeys(k for name in p.optimizers for k in READS[name] if k != "eps")))
elif p.section == "triad":
    widgets(P, ["curvature", "x0"])
else:
    widgets(P, ["samples", "batch_size", "data_lr", "data_epochs", "start"], columns=5)
key = tuple((name, getattr(p, name)) for name in applies(p))
if p.section == "data":  # up to 150,000 single-sample steps (about 2 s): in the background, under the cap
    result = shared("opt", key, lambda listen: run(p, listen), total=3 * p.data_epochs, unit="epoch")
else:  # a race of 3,000 steps of all eight takes a quarter of a second: computed here, once per setting
    result = remembered("opt", key, lambda: run(p))
if result is not None:  # None while computing: its progress is on screen, and the page reruns when ready
    if st.session_state.get("opt.recorded") != key:  # once per result: a run deleted from the history stays deleted
        for made in records(p, result):
            runs.add("optimizers", made)
        st.session_state["opt.recorded"] = key
    VIEWS[p.section](p, result)

runs.panel("optimizers", P, {m: t(f"opt.runs.{m}") for m in RUN_METRICS},
           {m: t(f"opt.runs.{m}") for m in RUN_FINALS}, log_metrics=("step_size",))
code_section(EXPERIMENT, p)
