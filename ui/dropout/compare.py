"""View of the comparison: per-rate numbers, the curves of every rate overlaid, decision regions (the
toy sets; the digits have none: they are not points of a plane)."""

from __future__ import annotations

import streamlit as st

from nnkit.experiments.base import fmt
from nnkit.experiments.dropout_compare import SLOW_LOSS, digits, per_network
from nnkit.runs import thin
from ui import charts
from ui.i18n import t


def rate_label(rate: float) -> str:
    return t("drp.rate_label", rate=fmt(rate))


def points(data) -> dict:
    x, y = data.part("train")
    return {"x0": x[:, 0].numpy(), "x1": x[:, 1].numpy(), "label": y.numpy()}


def _table(result: dict):
    import pandas as pd

    rows = []
    for rate, net in zip(result["rates"], result["trained"]):
        n = per_network(net)
        rows.append({t("drp.table.rate"): fmt(rate), t("drp.table.train_loss"): n["train_loss"],
                     t("drp.table.val_loss"): n["val_loss"], t("drp.table.gap"): n["gap"],
                     t("drp.table.best_val_loss"): n["best_val_loss"], t("drp.table.best_epoch"): n["best_epoch"],
                     t("drp.table.val_acc"): n["val_acc"], t("drp.table.best_val_acc"): n["best_val_acc"],
                     t("drp.table.converged", level=SLOW_LOSS): n["converged_epoch"] or "—",
                     t("drp.table.roughness"): n["running_roughness"]})
    return pd.DataFrame(rows)


def _curves(result: dict, key: str, title: str, where) -> None:
    rows = [{"epoch": e["epoch"] + 1, "loss": e[key], "rate": rate_label(rate)}
            for rate, net in zip(result["rates"], result["trained"]) for e in thin(net.history, 500)]
    where.markdown(f"**{title}**")
    if rows:
        where.vega_lite_chart(spec=charts.lines(rows, "epoch", "loss", "rate", t("drp.epoch"), t("drp.loss")),
                              width="stretch")


def show_compare(p, result: dict) -> None:
    st.dataframe(_table(result), hide_index=True, width="stretch",
                 column_config={t(f"drp.table.{key}"): st.column_config.NumberColumn(format="percent")
                                for key in ("val_acc", "best_val_acc")})
    st.caption(t("drp.table.help"))
    left, right = st.columns(2)
    _curves(result, "val_loss", t("drp.chart.val"), left)
    _curves(result, "train_loss", t("drp.chart.train"), right)
    _curves(result, "running_loss", t("drp.chart.running"), st)
    st.markdown(f"**{t('drp.regions')}**")
    if digits(p):
        st.caption(t("drp.regions.digits"))
    else:
        columns = st.columns(max(len(result["rates"]), 3))
        for column, rate, region in zip(columns, result["rates"], result["regions"]):
            column.vega_lite_chart(spec=charts.regions(region, points(result["data"]), rate_label(rate), size=240),
                                   width="stretch")
    st.markdown(t("drp.compare_rates.explain"))
    if digits(p):
        st.markdown(t("drp.compare_rates.digits"))
