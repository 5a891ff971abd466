"""View of the curves section: the learning rate of each chosen scheduler over the run, overlaid on
one epoch axis (a per-batch scheduler at fractional epochs), its formula, and its numbers."""

from __future__ import annotations

import streamlit as st

from nnkit.schedules import FORMULAS
from ui import charts
from ui.i18n import t
from ui.params import choice_label

MAX_POINTS = 500  # per curve sent to the browser: 10,000 steps thinned evenly, first and last kept


def rows_of(lrs: list[float], per_epoch: int, label: str) -> list[dict]:
    """{"epoch", "lr", "schedule"} rows of one curve of `per_epoch` rates an epoch; a rate holds until
    the next, so the last is repeated at the run's end; thinned evenly to MAX_POINTS."""
    points = [(i / per_epoch, lr) for i, lr in enumerate(lrs)] + [(len(lrs) / per_epoch, lrs[-1])]
    stride = max(1, -(-len(points) // MAX_POINTS))
    kept = points[::stride] + ([points[-1]] if (len(points) - 1) % stride else [])
    return [{"epoch": x, "lr": lr, "schedule": label} for x, lr in kept]


def curve_rows(result: dict) -> list[dict]:
    """The rows of every chosen scheduler's curve, on one epoch axis."""
    return [row for name, c in result["curves"].items()
            for row in rows_of(c["lrs"], result["steps_per_epoch"] if c["per_batch"] else 1, choice_label(name))]


def show_schedules(p, result: dict) -> None:
    st.vega_lite_chart(spec=charts.schedules(curve_rows(result), t("sch.epoch"), t("sch.lr")), width="stretch")
    st.caption(t("sch.curves.caption"))
    if result["val_loss"] is not None:
        st.markdown(t("sch.plateau.loss"))
        rows = [{"epoch": e, "loss": v, "curve": t("sch.val_loss")} for e, v in enumerate(result["val_loss"])]
        st.vega_lite_chart(spec=charts.lines(rows, "epoch", "loss", "curve", t("sch.epoch"), t("sch.val_loss"),
                                             height=200), width="stretch")
    st.table([{t("sch.col.schedule"): choice_label(name), t("sch.col.stepped"): t(f"sch.per.{'batch' if c['per_batch'] else 'epoch'}"),
               t("sch.col.steps"): len(c["lrs"]), t("sch.col.first"): f"{c['lrs'][0]:.6g}",
               t("sch.col.last"): f"{c['lrs'][-1]:.6g}", t("sch.col.min"): f"{min(c['lrs']):.6g}",
               t("sch.col.max"): f"{max(c['lrs']):.6g}"} for name, c in result["curves"].items()])
    st.subheader(t("sch.formulas"))
    for name in result["curves"]:
        st.markdown(f"**{choice_label(name)}**: {t(f'sch.formula.{name}')}")
        st.latex(FORMULAS[name])
