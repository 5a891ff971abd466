"""View of the learning-rate triad: x against step for four learning rates, and the same steps
drawn on the parabola."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from ui import charts
from ui.i18n import t


def show_triad(p, result: dict) -> None:
    a = result["curvature"]
    st.markdown(t("opt.triad.explain", critical=f"{2 / a:.4g}"))
    names = {kind: f"{t(f'opt.triad.kind.{kind}')} (η = {path['lr']:.3g})" for kind, path in result["paths"].items()}
    left, right = st.columns(2)
    rows = [{"step": i, "x": x, "rate": names[kind]} for kind, path in result["paths"].items()
            for i, x in enumerate(path["xs"])]
    left.markdown(f"**{t('opt.triad.chart.x')}**")
    shown = [r for r in rows if abs(r["x"]) <= 3 * abs(p.x0) + 1]  # the diverging one leaves the chart, on purpose
    left.vega_lite_chart(spec=charts.lines(shown, "step", "x", "rate", t("opt.step"), "x", height=320), width="stretch")
    span = 1.5 * abs(p.x0) + 0.5
    xs = np.linspace(-span, span, 121)
    curve = alt.Chart(pd.DataFrame({"x": xs, "f": a * xs * xs / 2})).mark_line(color="grey").encode(x="x:Q", y="f:Q")
    steps = [{"x": r["x"], "f": a * r["x"] ** 2 / 2, "rate": r["rate"], "step": r["step"]} for r in rows
             if abs(r["x"]) <= span and r["step"] <= 12]
    dots = alt.Chart(pd.DataFrame(steps)).mark_line(point=True, strokeDash=[3, 3]).encode(
        x=alt.X("x:Q", scale=alt.Scale(domain=[-span, span])), y=alt.Y("f:Q", title="f(x)"), order="step:Q",
        color=alt.Color("rate:N", title=None, scale=alt.Scale(scheme="category10")), tooltip=["rate", "step"])
    right.markdown(f"**{t('opt.triad.chart.curve')}**")
    right.vega_lite_chart(spec=alt.layer(curve, dots).properties(height=320).to_dict(), width="stretch")
