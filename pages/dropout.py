"""Dropout: the units each training pass drops, train vs eval mode, keep vs drop probability, the
average of many thinned networks, and what dropout buys on held-out data."""

import streamlit as st

from nnkit.experiments.base import ParamError
from nnkit.experiments.dropout import (EXPERIMENT, RUN_FINALS, RUN_METRICS, DropoutParams as P, applies, check,
                                       epochs_total, records, run, settings)
from ui import guided, runs
from ui.dropout import compare, inside, masks
from ui.i18n import t
from ui.page import code_section, header, share_link
from ui.params import describe, read, widget, widgets
from ui.shared import shared

# each section's view: (params, run's result) -> draws it
VIEWS = {
    "compare_rates": compare.show_compare,
    "train_eval": inside.show_train_eval,
    "ensemble": inside.show_ensemble,
    "masks": masks.show_masks,
}


def keep_runs(result: dict) -> None:
    for made in records(p, result):
        runs.add("dropout", made)


header("drp", P)
p = read(P)
share_link()
guided.section(EXPERIMENT, p)

widget(P, "section")
st.header(t(f"drp.{p.section}"))
st.markdown(t(f"drp.{p.section}.intro"))
widgets(P, list(settings(p)))
try:
    check(p)  # the digits: only the comparison trains on them
except ParamError as err:
    st.error(describe(err))
    st.stop()
key = tuple((name, getattr(p, name)) for name in applies(p))
if epochs_total(p):
    result = shared("drp", key, lambda listen: run(p, listen), total=epochs_total(p), unit="epoch",
                    on_stopped=keep_runs)
else:
    result = run(p)  # the masks: drawn in a blink, nothing trained
if result is not None:  # None while training: its progress is on screen, and the page reruns when ready
    if st.session_state.get("drp.recorded") != key:  # once per result: a run deleted from the history stays deleted
        keep_runs(result)
        st.session_state["drp.recorded"] = key
    VIEWS[p.section](p, result)

runs.panel("dropout", P, {m: t(f"drp.runs.{m}") for m in RUN_METRICS},
           {m: t(f"drp.runs.{m}") for m in RUN_FINALS}, log_metrics=RUN_METRICS)
code_section(EXPERIMENT, p)
