"""View of loss functions and convexity: f and f'' of a convex and a non-convex loss with the
regions where f'' < 0 shaded, Jensen's chord between two points on each, and the negative
log-likelihood beside the mean squared error over a slope w, both with their minimum marked."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from nnkit.convexity import DOMAIN
from ui.charts import cached
from ui.i18n import t
from ui.params import choice_label

HEIGHT = 170
NEGATIVE = "#d62728"  # where f'' < 0, and a chord below the function


@cached
def second_derivative_chart(x: list, values: list, regions: list, y_title: str, zero_line: bool) -> dict:
    """f or f'' against x, where f'' < 0 shaded (and, for f'', the line f'' = 0 dashed)."""
    scale = alt.Scale(domain=list(DOMAIN), nice=False)
    shade = alt.Chart(pd.DataFrame([{"x": a, "x2": b} for a, b in regions] or [{"x": 0.0, "x2": 0.0}])).mark_rect(
        color=NEGATIVE, opacity=0.15 if regions else 0).encode(x=alt.X("x:Q", scale=scale), x2="x2:Q")
    curve = alt.Chart(pd.DataFrame({"x": x, "v": values})).mark_line(color="black" if zero_line else "#1f77b4").encode(
        x=alt.X("x:Q", title="x", scale=scale), y=alt.Y("v:Q", title=y_title),
        tooltip=[alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("v:Q", format=".4g")])
    zero = alt.Chart(pd.DataFrame([{"y": 0.0}])).mark_rule(color="grey", strokeDash=[4, 3],
                                                            opacity=1 if zero_line else 0).encode(y="y:Q")
    return alt.layer(shade, zero, curve).properties(height=HEIGHT).to_dict()


@cached
def jensen_chart(x: list, f: list, j: dict, labels: tuple[str, str]) -> dict:
    """The function near a and b, the chord between (a, f(a)) and (b, f(b)), and at x = λa + (1−λ)b
    the point on each, joined by a segment (red where the chord is below the function)."""
    low, high = max(DOMAIN[0], min(j["a"], j["b"]) - 0.5), min(DOMAIN[1], max(j["a"], j["b"]) + 0.5)
    near = pd.DataFrame({"x": x, "f": f}).query("@low <= x <= @high")  # zoomed in: the gap stays visible
    curve = alt.Chart(near).mark_line(color="#1f77b4").encode(
        x=alt.X("x:Q", scale=alt.Scale(domain=[low, high], nice=False)), y=alt.Y("f:Q", title="f(x)",
                                                                                 scale=alt.Scale(zero=False)))
    ends = pd.DataFrame([{"x": j["a"], "f": j["f_a"]}, {"x": j["b"], "f": j["f_b"]}])
    chord = alt.Chart(ends).mark_line(color="#ff7f0e", point=True).encode(x="x:Q", y="f:Q")
    colour = "#2ca02c" if j["holds"] else NEGATIVE
    gap = alt.Chart(pd.DataFrame([{"x": j["x"], "f": j["f_x"], "f2": j["chord"]}])).mark_rule(
        color=colour, strokeWidth=3).encode(x="x:Q", y="f:Q", y2="f2:Q")
    marks = pd.DataFrame([{"x": j["x"], "f": j["f_x"], "what": labels[0]}, {"x": j["x"], "f": j["chord"], "what": labels[1]}])
    dots = alt.Chart(marks).mark_point(filled=True, size=70, color=colour).encode(
        x="x:Q", y="f:Q", tooltip=["what", alt.Tooltip("f:Q", format=".4g")])
    return alt.layer(curve, chord, gap, dots).properties(height=HEIGHT + 40).to_dict()


@cached
def minimum_chart(w: list, values: list, best: float, y_title: str, colour: str) -> dict:
    """A curve over the slope w with its minimum marked by a dashed rule."""
    curve = alt.Chart(pd.DataFrame({"w": w, "v": values})).mark_line(color=colour).encode(
        x=alt.X("w:Q", title="w", scale=alt.Scale(nice=False)), y=alt.Y("v:Q", title=y_title, scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("w:Q", format=".4f"), alt.Tooltip("v:Q", format=".5g")])
    rule = alt.Chart(pd.DataFrame([{"w": best}])).mark_rule(color="grey", strokeDash=[4, 3]).encode(x="w:Q")
    return alt.layer(curve, rule).properties(height=HEIGHT + 40).to_dict()


def show_loss_functions(p, result: dict) -> None:
    st.subheader(t("opt.conv.test"))
    st.markdown(t("opt.conv.test.intro"))
    for column, name in zip(st.columns(2), result["names"]):
        r = result["test"][name]
        column.markdown(f"**{choice_label(name)}**")
        column.vega_lite_chart(spec=second_derivative_chart(r["x"], r["f"], r["regions"], "f(x)", False), width="stretch")
        column.vega_lite_chart(spec=second_derivative_chart(r["x"], r["d2"], r["regions"], "f''(x)", True), width="stretch")
        column.markdown(_verdict(r))
    st.caption(t("opt.conv.notes"))

    st.subheader(t("opt.conv.jensen"))
    st.markdown(t("opt.conv.jensen.intro"))
    labels = (t("opt.conv.jensen.value"), t("opt.conv.jensen.chord"))
    for column, name in zip(st.columns(2), result["names"]):
        j, r = result["jensen"][name], result["test"][name]
        column.markdown(f"**{choice_label(name)}**")
        column.vega_lite_chart(spec=jensen_chart(r["x"], r["f"], j, labels), width="stretch")
        column.markdown(t("opt.conv.jensen.numbers", x=f"{j['x']:.4g}", value=f"{j['f_x']:.4g}", chord=f"{j['chord']:.4g}",
                          gap=f"{j['gap']:.4g}"))
        column.markdown(t("opt.conv.jensen.holds") if j["holds"] else t("opt.conv.jensen.fails"))
        if j["min_gap"] < -1e-9:
            column.caption(t("opt.conv.jensen.worst", lam=f"{j['worst_lam']:.3g}", gap=f"{j['min_gap']:.4g}"))

    st.subheader(t("opt.conv.mle"))
    st.markdown(t("opt.conv.mle.intro"))
    m = result["likelihood"]
    left, right = st.columns(2)
    left.markdown(f"**{t('opt.conv.mle.nll')}**")
    left.vega_lite_chart(spec=minimum_chart(m["w"], m["nll"], m["argmin_nll"], "NLL(w)", "#d62728"), width="stretch")
    right.markdown(f"**{t('opt.conv.mle.mse')}**")
    right.vega_lite_chart(spec=minimum_chart(m["w"], m["mse"], m["argmin_mse"], "MSE(w)", "#1f77b4"), width="stretch")
    st.markdown(t("opt.conv.mle.numbers", n=p.mle_samples, sigma=f"{p.sigma:g}", w_nll=f"{m['argmin_nll']:.4f}",
                  w_mse=f"{m['argmin_mse']:.4f}", w=f"{m['best_w']:.4f}", nll=f"{m['nll_at_best']:.4f}",
                  mse=f"{m['mse_at_best']:.4f}", scale=f"{m['scale']:.4g}", const=f"{m['const']:.4f}",
                  error=f"{m['identity_error']:.1e}"))


def _verdict(r: dict) -> str:
    if not r["convex"]:
        where = ", ".join(f"[{a:.2f}, {b:.2f}]" for a, b in r["regions"])
        return t("opt.conv.verdict.not_convex", where=where, share=f"{100 * r['negative_share']:.0f}",
                 low=f"{r['min_d2']:.4g}", at=f"{r['argmin_d2']:.2f}")
    numbers = {"low": f"{r['min_d2']:.4g}", "at": f"{r['argmin_d2']:.2f}"}
    return t("opt.conv.verdict.strict", **numbers) if r["strict"] else t("opt.conv.verdict.convex", **numbers)

