"""Overfitting: tell over- from underfitting on a curve, and pull the levers that fix each one."""

import streamlit as st

from nnkit.experiments.overfitting import (EXPERIMENT, RUN_METRICS, SETTINGS, OverfittingParams as P, applies,
                                           epochs_total, record, run)
from ui import guided, runs
from ui.i18n import t
from ui.overfitting import capacity, regularization, validation
from ui.page import code_section, header, share_link
from ui.params import read, widget, widgets
from ui.shared import shared

# each section's view: (params, run's result) -> draws it
VIEWS = {
    "capacity": capacity.show_capacity,
    "approximation": capacity.show_approximation,
    "data_size": capacity.show_data_size,
    "early_stopping": regularization.show_early_stopping,
    "regularization": regularization.show_regularization,
    "validation": validation.show_validation,
    "augmentation": validation.show_augmentation,
}

header("ovf", P)
p = read(P)
share_link()
guided.section(EXPERIMENT, p)

widget(P, "section")
st.header(t(f"ovf.{p.section}"))
st.markdown(t(f"ovf.{p.section}.intro"))
widgets(P, list(SETTINGS[p.section]))
key = tuple((name, getattr(p, name)) for name in applies(p))
result = shared("ovf", key, lambda listen: run(p, listen), total=epochs_total(p), unit="epoch",
                on_stopped=lambda partial: (made := record(p, partial)) is not None and runs.add("overfitting", made))
if result is not None:  # None while computing: its progress is on screen, and the page reruns when ready
    if (made := record(p, result)) is not None:
        runs.add("overfitting", made)
    VIEWS[p.section](p, result)

runs.panel("overfitting", P, {m: t(f"ovf.runs.{m}") for m in RUN_METRICS},
           # not the test score: runs are compared, and choices made, on validation
           {m: t(f"ovf.runs.{m}") for m in ("train_loss", "val_loss", "params")},
           log_metrics=RUN_METRICS)
code_section(EXPERIMENT, p)
