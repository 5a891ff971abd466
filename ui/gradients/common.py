"""What the Gradients sections share: per-layer gradient norms on a log axis, activation statistics
per layer, loss and norm curves over the steps, and the verdict on one network's gradients."""

from __future__ import annotations

import math

import streamlit as st

from nnkit.gradients import FLAT_SLOPE
from nnkit.runs import thin
from ui import charts
from ui.i18n import t

MAX_STEPS = 500  # points per curve: the chart stays quick with long trainings


def sci(value: float | None) -> str:
    """A norm spanning decades, as people read it: 2.8e-19, 0.73; an overflow as ∞."""
    if value is None or not math.isfinite(value):
        return "∞"
    return f"{value:.2e}" if value and (abs(value) < 1e-2 or abs(value) >= 1e4) else f"{value:.3g}"


def norm_rows(norms: list[float], name: str) -> list[dict]:
    """One row per Linear layer (numbered from the input) whose norm a log axis can show."""
    return [{"layer": i + 1, "norm": n, "network": name} for i, n in enumerate(norms) if math.isfinite(n) and n > 0]


def titled(where, title: str) -> None:
    where.markdown(f"**{title}**")


def norms_chart(rows: list[dict], where=st) -> None:
    if rows:  # nothing at all when every norm overflowed: the verdict above says so
        titled(where, t("grd.chart.norms"))
        where.vega_lite_chart(spec=charts.lines(rows, "layer", "norm", "network", t("grd.layer"), t("grd.norm"),
                                                log_y=True), width="stretch")


def stats_chart(stats: list[dict], activation: str, where=st) -> None:
    """Mean, spread and the share that passes almost no gradient, per hidden layer."""
    names = {"mean": t("grd.stat.mean"), "std": t("grd.stat.std"), "flat": t(f"grd.stat.flat.{activation}")}
    rows = [{"layer": i + 1, "value": s[key], "statistic": label} for i, s in enumerate(stats)
            for key, label in names.items() if math.isfinite(s[key])]
    if rows:
        titled(where, t("grd.chart.stats"))
        where.vega_lite_chart(spec=charts.lines(rows, "layer", "value", "statistic", t("grd.hidden_layer"),
                                                t("grd.value")), width="stretch")
        where.caption(t("grd.stat.caption", share=f"{FLAT_SLOPE:.0%}"))


def loss_chart(history: list[dict], name: str, where=st) -> None:
    rows = [{"step": e["epoch"] + 1, "loss": e["loss"], "network": name} for e in thin(history, MAX_STEPS)]
    if len(rows) > 1:  # one step is no curve: the metric above holds its loss
        titled(where, t("grd.chart.loss"))
        low, high = min(r["loss"] for r in rows), max(r["loss"] for r in rows)
        log = low > 0 and (high > 100 * low or high > 1e4)  # decades, or an exploding loss's long numbers
        # from 0: zoomed in, a loss stuck at 0.693 (that moved by 0.001) looked like a plunge
        where.vega_lite_chart(spec=charts.lines(rows, "step", "loss", "network", t("grd.step"), t("grd.loss"),
                                                log_y=log, zero=True), width="stretch")


def layer_norms_over_steps(history: list[dict], where=st) -> None:
    """The first, middle and last layer's gradient norm at every step (log axis)."""
    if not history:
        return
    count = len(history[0]["layer_norms"])
    picked = dict.fromkeys([0, count // 2, count - 1])
    rows = [{"step": e["epoch"] + 1, "norm": e["layer_norms"][i], "layer": t("grd.layer_n", n=i + 1)}
            for e in thin(history, MAX_STEPS) for i in picked
            if math.isfinite(e["layer_norms"][i]) and e["layer_norms"][i] > 0]
    if len(rows) > len(picked):
        titled(where, t("grd.chart.during"))
        where.vega_lite_chart(spec=charts.lines(rows, "step", "norm", "layer", t("grd.step"), t("grd.norm"),
                                                log_y=True), width="stretch")


def verdict(net: dict, where=st) -> None:
    """The first step's verdict in words, with the numbers it rests on; an overflow said as such."""
    first = net["first"]
    norms = first["norms"]
    word = net["verdict"]
    if word == "overflow":
        what = t("grd.list_sep").join(t(f"grd.overflow.{w}") for w in first["overflow"])
        where.error(t("grd.verdict.overflow", what=what), icon=":material/error:")
        return
    # every gradient 0 (all activations underflowed): the first layers get 0, not "∞ times" the last
    ratio = norms[0] / norms[-1] if norms[-1] else (0.0 if norms[0] == 0 else math.inf)
    text = t(f"grd.verdict.{word}", first=sci(norms[0]), last=sci(norms[-1]), ratio=sci(ratio))
    {"healthy": where.success, "vanishing": where.warning, "exploding": where.error}[word](text)


def outcome(net: dict, where=st) -> None:
    """How training ended: a loss that overflowed is caught and explained, never a crash."""
    if net["outcome"] == "diverged":
        where.error(t("grd.diverged", step=len(net["history"]) + 1), icon=":material/trending_up:")
