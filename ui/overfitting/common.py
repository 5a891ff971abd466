"""What every Overfitting section draws: the names of the three sets and the train/validation
curves with the generalization gap shaded."""

from __future__ import annotations

import streamlit as st

from nnkit.runs import thin
from ui import charts
from ui.i18n import t


def set_names() -> dict[str, str]:
    return {name: t(f"ovf.set.{name}") for name in ("train", "val", "test")}


def gap_chart(history: list[dict], where=st, loss: str | None = None, marks: list[dict] | None = None) -> None:
    """Training and validation loss per epoch of one network, the gap between them shaded; `marks`
    {"x": epoch, "note"} draws labelled vertical rules."""
    names = set_names()
    # at most 1,000 epochs a chart: Altair refuses a chart of over 5,000 rows
    rows = [{"x": e["epoch"] + 1, "train": e["train_loss"], "val": e["val_loss"]} for e in thin(history, 1000)]
    axes = (t("ovf.epoch"), loss or t("ovf.loss"), t("ovf.gap"))
    spec = charts.gap_marks(rows, (names["train"], names["val"]), marks, *axes) if marks else \
        charts.gap_curves(rows, (names["train"], names["val"]), *axes)
    where.vega_lite_chart(spec=spec, width="stretch")
