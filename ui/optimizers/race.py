"""View of the race: the paths over the landscape's contour map, loss and step size against step,
the final numbers per optimizer (a divergence said as such), and the update rules written out."""

from __future__ import annotations

import inspect
import math
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from nnkit.experiments.base import fmt
from nnkit.experiments.optimizers import OptimizersParams as P
from nnkit.landscapes import LANDSCAPES, grid
from nnkit.runs import thin
from nnkit.updates import RULES
from ui import charts
from ui.i18n import t
from ui.params import choice_label, request

MAX_POINTS = 400  # points per path drawn: the charts stay quick with long races
LATEX = {
    "gd": r"w \leftarrow w - \eta\, g",
    "momentum": r"v \leftarrow \mu v + g, \qquad w \leftarrow w - \eta\, v",
    "nesterov": r"v \leftarrow \mu v + g, \qquad w \leftarrow w - \eta\,(g + \mu v)",
    "adagrad": r"s \leftarrow s + g^2, \qquad w \leftarrow w - \frac{\eta\, g}{\sqrt{s} + \epsilon}",
    "rmsprop": r"s \leftarrow \alpha s + (1-\alpha) g^2, \qquad w \leftarrow w - \frac{\eta\, g}{\sqrt{s} + \epsilon}",
    "adadelta": r"s \leftarrow \rho s + (1-\rho) g^2,\quad d = \frac{\sqrt{\Delta + \epsilon}}{\sqrt{s + \epsilon}}\, g,"
                r"\quad \Delta \leftarrow \rho \Delta + (1-\rho) d^2,\quad w \leftarrow w - \eta\, d",
    "adam": r"m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad "
            r"w \leftarrow w - \eta\, \frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}",
    "adamw": r"w \leftarrow w - \eta \lambda w, \quad \text{then Adam}",
}


PICK = "start_pick"  # the map's click selection: the start point
MAP_KEY = "opt.race.map"


@st.cache_data(show_spinner=False, max_entries=64)
def _map(landscape: str, kappa: float, paths: tuple, minimum: tuple, title: str) -> dict:
    xs, ys, values = grid(landscape, kappa, 70)
    low = min(float(values.min()), float(LANDSCAPES[landscape].f(*minimum, kappa)))
    return contour(xs, ys, values - low, LANDSCAPES[landscape].box, paths, minimum, title, pick=PICK)


def start_from_selection(event: Any, box: tuple[float, float, float, float]) -> tuple[float, float] | None:
    """The start point a click on the map chose: the centre of the clicked cell, to two decimals.
    None for no click (an empty or cleared selection), a malformed event, or a point outside the
    landscape's box."""
    try:
        cell = event["selection"][PICK][0]
        x = (float(cell["x"]) + float(cell.get("x2", cell["x"]))) / 2
        y = (float(cell["y"]) + float(cell.get("y2", cell["y"]))) / 2
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    x0, x1, y0, y1 = box
    if not (math.isfinite(x) and math.isfinite(y) and x0 <= x <= x1 and y0 <= y <= y1):
        return None
    return round(x, 2), round(y, 2)


def _picked(landscape: str) -> None:
    """The map's on_select callback (it runs before the next run): the clicked point becomes `start`."""
    point = start_from_selection(st.session_state.get(MAP_KEY), LANDSCAPES[landscape].box)
    if point is not None:
        request(P, {"start": point})


def contour(xs: np.ndarray, ys: np.ndarray, values: np.ndarray, box: tuple, paths: tuple, minimum: tuple,
            title: str, axes: tuple[str, str] = ("x", "y"), pick: str | None = None) -> dict:
    """A function over a grid as a heatmap (values above its minimum, on a log scale), each path a
    line, the minimum a cross; with `pick`, a click on the heatmap selects its cell (a point
    selection of that name)."""
    gx, gy = np.meshgrid(xs, ys)
    dx, dy = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
    cells = pd.DataFrame({"x": (gx - dx).ravel(), "x2": (gx + dx).ravel(), "y": (gy - dy).ravel(),
                          "y2": (gy + dy).ravel(), "f": (values - values.min() + 1e-3).ravel()})
    x0, x1, y0, y1 = box
    sx, sy = alt.Scale(domain=[x0, x1], nice=False), alt.Scale(domain=[y0, y1], nice=False)
    heat = alt.Chart(cells).mark_rect().encode(
        x=alt.X("x:Q", title=axes[0], scale=sx), x2="x2:Q", y=alt.Y("y:Q", title=axes[1], scale=sy), y2="y2:Q",
        color=alt.Color("f:Q", title=None, scale=alt.Scale(type="log", scheme="greys", reverse=True), legend=None))
    if pick:
        heat = heat.add_params(alt.selection_point(name=pick, fields=["x", "x2", "y", "y2"], on="click"))
    rows = [{"x": x, "y": y, "i": i, "optimizer": name} for name, points in paths for i, (x, y) in enumerate(points)]
    trail = alt.Chart(pd.DataFrame(rows)).mark_line(point=alt.OverlayMarkDef(size=12), clip=True, strokeWidth=2).encode(
        x=alt.X("x:Q", scale=sx), y=alt.Y("y:Q", scale=sy), order="i:Q",
        # the order the paths come in, as charts.lines colours the curves beside it: one colour per optimizer
        color=alt.Color("optimizer:N", title=None, scale=alt.Scale(domain=[name for name, _ in paths],
                                                                 scheme="category10")),
        tooltip=["optimizer", "i", alt.Tooltip("x:Q", format=".4f"), alt.Tooltip("y:Q", format=".4f")])
    star = alt.Chart(pd.DataFrame([{"x": minimum[0], "y": minimum[1]}])).mark_point(
        shape="cross", size=250, color="white", filled=True, stroke="black", strokeWidth=0.5).encode(x="x:Q", y="y:Q")
    width = 520
    height = int(width * (y1 - y0) / (x1 - x0))
    return alt.layer(heat, trail, star).properties(width=width, height=height, title=title).to_dict()


def show_race(p, result: dict) -> None:
    paths = result["paths"]
    label = {path.name: choice_label(path.name) for path in paths}
    st.markdown(t(f"opt.land.{p.landscape}"))
    diverged = [label[path.name] for path in paths if path.outcome == "diverged"]
    if diverged:
        st.error(t("opt.diverged", names=", ".join(diverged)), icon=":material/trending_up:")
    drawn = tuple((label[path.name], tuple(thin(path.points, MAX_POINTS))) for path in paths)
    left, right = st.columns([3, 2])
    left.vega_lite_chart(spec=_map(p.landscape, p.kappa, drawn, tuple(result["minimum"]), t("opt.chart.map")),
                         key=MAP_KEY, on_select=lambda: _picked(p.landscape), selection_mode=PICK)
    left.caption(t("opt.map.click"))
    losses = [{"step": i, "loss": v, "optimizer": label[path.name]}
              for path in paths for i, v in thin(list(enumerate(path.losses)), MAX_POINTS)]
    right.markdown(f"**{t('opt.chart.loss')}**")
    right.vega_lite_chart(spec=charts.lines(charts.clip_diverged(losses, group="optimizer"), "step", "loss", "optimizer",
                                            t("opt.step"), t("opt.loss"), height=200), width="stretch")
    sizes = [{"step": i + 1, "size": v, "optimizer": label[path.name]}
             for path in paths for i, v in thin(list(enumerate(path.steps)), MAX_POINTS) if v > 0]
    if sizes:
        right.markdown(f"**{t('opt.chart.step')}**")
        right.vega_lite_chart(spec=charts.lines(sizes, "step", "size", "optimizer", t("opt.step"), t("opt.step_size"),
                                                log_y=True, height=200), width="stretch")
    summary = _table(p, result)
    st.dataframe(pd.DataFrame(summary), hide_index=True, width="stretch")
    if p.clip:
        st.caption(t("opt.clip.on", max_norm=fmt(p.max_norm)))
    show_rules(p)


def _table(p, result: dict) -> list[dict]:
    from nnkit.updates import distance

    out = []
    for path in result["paths"]:
        outcome = (t("opt.outcome.diverged", step=path.diverged_at) if path.outcome == "diverged"
                   else t("opt.outcome.finished"))
        out.append({t("opt.col.optimizer"): choice_label(path.name), t("opt.col.lr"): fmt(getattr(p, f"lr_{path.name}")),
                    t("opt.col.loss"): f"{path.losses[-1]:.6g}",
                    t("opt.col.distance"): f"{distance(path, result['landscape'], result['kappa']):.6g}",
                    t("opt.col.largest_step"): f"{max(path.steps, default=0.0):.4g}",
                    t("opt.col.outcome"): outcome})
    return out


def show_rules(p) -> None:
    """Each chosen optimizer's rule in LaTeX, in words, and as the from-scratch code the page runs."""
    st.subheader(t("opt.rules"))
    st.caption(t("opt.rules.intro"))
    for name in p.optimizers:
        with st.expander(choice_label(name)):
            st.markdown(t(f"opt.rule.{name}"))
            st.latex(LATEX[name])
            st.code(inspect.getsource(RULES[name]), language="python")
    st.info(t("opt.advice"), icon=":material/lightbulb:")
