"""Charts shared by the pages, built with Altair. Data arrives as NumPy arrays from nnkit.

Each function returns a Vega-Lite spec (a dict) for `st.vega_lite_chart(spec=...)`, cached: building
and validating an Altair chart costs 15-70 ms, most of a warm rerun, while the spec only changes
when its data does.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

# Shared by every session of the process, one cache per chart function. An entry holds a whole
# spec with its data (a decision-region heatmap of 6,400 cells pickles to about 400 KB), and a live
# training chart adds one at every poll: 64 per function keeps the whole set to tens of MB.
cached = st.cache_data(show_spinner=False, max_entries=64)

AXIS_EXTENT = 70  # pixels for the y axis of `curves` and `zone_strip`, so that their plots line up on x


def _palette(names: list[str]) -> alt.Scale:
    return alt.Scale(domain=names, scheme="category10")


@cached
def curves(rows: list[dict], y_title: str, height: int = 300) -> dict:
    """Overlaid curves with a hover readout. rows: {"x", "y", "function"}."""
    data = pd.DataFrame(rows)
    names = list(dict.fromkeys(data["function"]))
    x_range = [float(data["x"].min()), float(data["x"].max())]
    hover = alt.selection_point(fields=["x"], nearest=True, on="pointerover", empty=False)
    base = alt.Chart(data).encode(x=alt.X("x:Q", title="x", scale=alt.Scale(domain=x_range, nice=False)))
    color = alt.Color("function:N", title=None, scale=_palette(names), legend=alt.Legend(orient="top"))
    lines = base.mark_line().encode(
        y=alt.Y("y:Q", title=y_title, axis=alt.Axis(minExtent=AXIS_EXTENT, maxExtent=AXIS_EXTENT)), color=color)
    rule = base.mark_rule(color="gray").encode(
        opacity=alt.condition(hover, alt.value(0.6), alt.value(0)),
        tooltip=[alt.Tooltip("x:Q", format=".2f")] + [alt.Tooltip(f"{name}:Q", format=".4f") for name in names],
    ).transform_pivot("function", value="y", groupby=["x"]).add_params(hover)
    points = lines.mark_point(filled=True).encode(opacity=alt.condition(hover, alt.value(1), alt.value(0)))
    return alt.layer(lines, points, rule).properties(height=height).to_dict()


@cached
def zone_strip(zones: list[dict], names: list[str], x_range: tuple[float, float], title: str) -> dict:
    """x intervals (saturation zones) as bars, one row per function in its colour in `curves`; drawn
    under a `curves` chart of the same x range, so that overlapping zones stay apart.

    zones: {"start", "end", "function"}; a function without a zone keeps its (empty) row. `title`, on
    the y axis, takes the place of the curves' axis title, which keeps the two plots aligned."""
    return alt.Chart(pd.DataFrame(zones, columns=["start", "end", "function"])).mark_bar(opacity=0.75).encode(
        x=alt.X("start:Q", title=None, scale=alt.Scale(domain=list(x_range), nice=False)),
        x2="end:Q",
        y=alt.Y("function:N", title=title, scale=alt.Scale(domain=names),
                axis=alt.Axis(ticks=False, labelOverlap=False, minExtent=AXIS_EXTENT, maxExtent=AXIS_EXTENT)),
        color=alt.Color("function:N", legend=None, scale=_palette(names)),
        tooltip=["function", alt.Tooltip("start:Q", format=".2f"), alt.Tooltip("end:Q", format=".2f")],
    ).properties(height=22 * len(names) + 36).to_dict()  # fitted to the column, the height includes the x axis


@cached
def bars(labels: list[str], values: list[float], title: str) -> dict:
    data = pd.DataFrame({"label": labels, "value": values})
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("label:N", sort=None, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=title, scale=alt.Scale(domain=[0, 1])),
        tooltip=["label", alt.Tooltip("value:Q", format=".4f")],
    ).properties(height=260).to_dict()


def _same_units(x_lo: float, x_hi: float, y_lo: float, y_hi: float) -> tuple[alt.Scale, alt.Scale]:
    """Scales that show one unit of x and one unit of y at the same length on screen, whatever the
    chart's size: the box [x_lo, x_hi] x [y_lo, y_hi] is centred and the longer side of the chart
    shows more around it. So a chart may stretch to fill its column and a circle stays round."""
    cx, hx, cy, hy = (x_lo + x_hi) / 2, (x_hi - x_lo) / 2, (y_lo + y_hi) / 2, (y_hi - y_lo) / 2
    half_x, half_y = f"max({hx!r}, {hy!r} * width / height)", f"max({hy!r}, {hx!r} * height / width)"
    return (alt.Scale(domainMin={"expr": f"{cx!r} - {half_x}"}, domainMax={"expr": f"{cx!r} + {half_x}"}, nice=False),
            alt.Scale(domainMin={"expr": f"{cy!r} - {half_y}"}, domainMax={"expr": f"{cy!r} + {half_y}"}, nice=False))


@cached
def regions(region: dict, points: dict, title: str, size: int = 320) -> dict:
    """Decision regions as a heatmap of P(class 1) under the training points.

    `size` is the height (and the width where the chart is drawn with width="content"); drawn with
    width="stretch" it fills its column and x₁ and x₂ keep the same scale."""
    x0, x1 = np.unique(region["x0"]), np.unique(region["x1"])
    dx, dy = (x0[1] - x0[0]) / 2, (x1[1] - x1[0]) / 2
    grid = pd.DataFrame({"a": region["x0"] - dx, "a2": region["x0"] + dx,
                         "b": region["x1"] - dy, "b2": region["x1"] + dy, "p": region["p"]})
    x_scale, y_scale = _same_units(float(x0[0] - dx), float(x0[-1] + dx), float(x1[0] - dy), float(x1[-1] + dy))
    heat = alt.Chart(grid).mark_rect(opacity=0.55).encode(
        x=alt.X("a:Q", title="x₁", scale=x_scale), x2="a2:Q",
        y=alt.Y("b:Q", title="x₂", scale=y_scale), y2="b2:Q",
        color=alt.Color("p:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[0, 1]), legend=None),
    )
    return alt.layer(heat, _scatter(points["x0"], points["x1"], points["label"])).properties(
        title=title, width=size, height=size).to_dict()


def _scatter(u: np.ndarray, v: np.ndarray, label: np.ndarray, x_title: str = "x₁", y_title: str = "x₂") -> alt.Chart:
    data = pd.DataFrame({"u": u, "v": v, "label": label})
    return alt.Chart(data).mark_circle(size=28, stroke="white", strokeWidth=0.6, opacity=0.9).encode(
        x=alt.X("u:Q", title=x_title), y=alt.Y("v:Q", title=y_title),
        color=alt.Color("label:N", scale=alt.Scale(range=["#1f77b4", "#d62728"]), title=None),
    )


@cached
def split_view(hidden: dict, x_title: str, y_title: str, title: str, size: int = 320) -> dict:
    """Points in a 2-D view with the vertical line u = 0 that separates the classes there; like
    `regions`, it may stretch to its column with u and v at the same scale."""
    u, v = np.asarray(hidden["u"]), np.asarray(hidden["v"])
    pad = 0.05 * max(float(np.ptp(u)), float(np.ptp(v)), 1e-9)
    x_scale, y_scale = _same_units(float(u.min()) - pad, float(u.max()) + pad, float(v.min()) - pad, float(v.max()) + pad)
    line = alt.Chart(pd.DataFrame({"u": [0.0]})).mark_rule(strokeDash=[6, 4], color="black").encode(x="u:Q")
    dots = _scatter(u, v, hidden["label"], x_title, y_title).encode(
        x=alt.X("u:Q", title=x_title, scale=x_scale), y=alt.Y("v:Q", title=y_title, scale=y_scale))
    return alt.layer(dots, line).properties(title=title, width=size, height=size).to_dict()


def clip_diverged(rows: list[dict], y: str = "loss", group: str = "run", factor: float = 100.0) -> list[dict]:
    """Drop the points of a diverging run once they pass `factor` times the largest starting value,
    so that 1e+300 does not flatten every other curve to a line at zero."""
    first: dict = {}
    for row in rows:
        first.setdefault(row[group], row[y])
    cap = factor * max(first.values(), default=1.0)
    return [row for row in rows if row[y] <= cap]


@cached
def lines(rows: list[dict], x: str, y: str, color: str, x_title: str, y_title: str, log_y: bool = False,
          height: int = 260, zero: bool = False) -> dict:
    """Curves (training curves, for instance), one line per value of `color`, coloured and listed in
    the order they first appear in `rows` (not alphabetically: a translated label must not change a
    curve's colour). `zero` starts a linear y axis at 0, so that a loss that barely moves also looks flat."""
    scale = alt.Scale(type="log") if log_y else alt.Scale(zero=zero)
    order = list(dict.fromkeys(r[color] for r in rows))
    return alt.Chart(pd.DataFrame(rows)).mark_line().encode(
        x=alt.X(f"{x}:Q", title=x_title), y=alt.Y(f"{y}:Q", title=y_title, scale=scale),
        color=alt.Color(f"{color}:N", title=None, scale=alt.Scale(domain=order, scheme="category10")),
        # same field and order: one legend with colour and dash
        strokeDash=alt.StrokeDash(f"{color}:N", title=None, scale=alt.Scale(domain=order)),
        tooltip=[x, alt.Tooltip(f"{y}:Q", format=".5g"), color],
    ).properties(height=height).to_dict()


@cached
def points_and_curves(points: list[dict], curves_: list[dict], x_title: str, y_title: str, height: int = 320) -> dict:
    """Data points {"x", "y", "set"} with fitted curves {"x", "y", "curve"} drawn over them."""
    dots = alt.Chart(pd.DataFrame(points)).mark_circle(size=30, opacity=0.7).encode(
        x=alt.X("x:Q", title=x_title), y=alt.Y("y:Q", title=y_title),
        color=alt.Color("set:N", title=None, scale=alt.Scale(scheme="tableau10")), tooltip=["x", "y", "set"])
    line = alt.Chart(pd.DataFrame(curves_)).mark_line(strokeWidth=2.5).encode(
        x="x:Q", y="y:Q", strokeDash=alt.StrokeDash("curve:N", legend=None),
        color=alt.Color("curve:N", title=None, scale=alt.Scale(scheme="set1")))
    return alt.layer(dots, line).resolve_scale(color="independent").properties(height=height).to_dict()


@cached
def surface(grid: dict, path: list[dict], best: tuple[float, float], loss_title: str, best_title: str,
            size: int = 360) -> dict:
    """A loss surface over (w, b) as a heatmap, the path the parameters took, and the optimum."""
    w, b = np.unique(grid["w"]), np.unique(grid["b"])
    dw, db = (w[1] - w[0]) / 2, (b[1] - b[0]) / 2
    cells = pd.DataFrame({"w": grid["w"] - dw, "w2": grid["w"] + dw, "b": grid["b"] - db, "b2": grid["b"] + db,
                          "loss": grid["loss"]})
    heat = alt.Chart(cells).mark_rect().encode(
        x=alt.X("w:Q", title="w", scale=alt.Scale(domain=[float(w[0] - dw), float(w[-1] + dw)], nice=False)),
        x2="w2:Q",
        y=alt.Y("b:Q", title="b", scale=alt.Scale(domain=[float(b[0] - db), float(b[-1] + db)], nice=False)),
        y2="b2:Q",
        color=alt.Color("loss:Q", title=loss_title, scale=alt.Scale(type="log", scheme="viridis")))
    trail = alt.Chart(pd.DataFrame(path)).mark_line(point=True, color="white", strokeWidth=1.5).encode(
        x="w:Q", y="b:Q", order="step:Q", tooltip=["step", alt.Tooltip("w:Q", format=".4f"),
                                                   alt.Tooltip("b:Q", format=".4f")])
    star = alt.Chart(pd.DataFrame([{"w": best[0], "b": best[1], "label": best_title}])).mark_point(
        shape="cross", size=200, color="red", filled=True).encode(x="w:Q", y="b:Q", tooltip=["label"])
    return alt.layer(heat, trail, star).properties(width=size, height=size).to_dict()


@cached
def grouped_bars(rows: list[dict], x: str, y: str, group: str, y_title: str) -> dict:
    """Bars of `y` per `x`, one bar per `group` side by side."""
    return alt.Chart(pd.DataFrame(rows)).mark_bar().encode(
        x=alt.X(f"{x}:N", title=None), xOffset=f"{group}:N", y=alt.Y(f"{y}:Q", title=y_title),
        color=alt.Color(f"{group}:N", title=None, scale=alt.Scale(scheme="category10")),
        tooltip=[x, group, alt.Tooltip(f"{y}:Q", format=".4f")],
    ).properties(height=280).to_dict()


def sweep_range(best: float) -> tuple[float, float]:
    """The errors a degree sweep shows: two decades under the lowest validation error, four above.
    An interpolating fit's training error (1e-17) and a wild one's validation error (1e10) would
    otherwise stretch the axis over 27 decades and flatten the U of the validation curve."""
    return best / 1e2, best * 1e4


@cached
def sweep(rows: list[dict], chosen: int, notes: list[dict], x_title: str, y_title: str) -> dict:
    """Error against model size {"degree", "mse", "set"}, the chosen size marked by a dashed rule.

    notes: {"degree", "mse", "note", "side"}: "best" (the lowest validation error, always present)
    draws a ring around its point with the text below it, towards the middle; "underfit" writes its text to the right of
    the point, "overfit" to the left, so neither runs off the chart at the ends of the sweep. Errors
    outside `sweep_range` are drawn at the chart's edge (their tooltips keep the true values).
    """
    low, high = sweep_range(next(n["mse"] for n in notes if n["side"] == "best"))
    curves_ = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=alt.X("degree:Q", title=x_title, scale=alt.Scale(domain=[1, max(r["degree"] for r in rows)])),
        y=alt.Y("mse:Q", title=y_title, scale=alt.Scale(type="log", domain=[low, high], clamp=True)),
        color=alt.Color("set:N", title=None, scale=alt.Scale(scheme="category10")),
        tooltip=["degree", "set", alt.Tooltip("mse:Q", format=".4g")])
    rule = alt.Chart(pd.DataFrame([{"degree": chosen}])).mark_rule(color="gray", strokeDash=[4, 4]).encode(
        x="degree:Q")
    layers = [curves_, rule]
    degrees = [r["degree"] for r in rows]
    best_on_left = next(n["degree"] for n in notes if n["side"] == "best") <= (min(degrees) + max(degrees)) / 2
    placed = {"best": {"align": "left" if best_on_left else "right", "dx": 8 if best_on_left else -8, "dy": 26},
              "underfit": {"align": "left", "dx": 6, "dy": -10}, "overfit": {"align": "right", "dx": -6, "dy": -10}}
    for side, where in placed.items():
        mine = [n for n in notes if n["side"] == side]
        if not mine:
            continue
        base = alt.Chart(pd.DataFrame(mine)).encode(x="degree:Q", y="mse:Q")
        layers.append(base.mark_text(fontWeight="bold", **where).encode(text="note:N"))
        if side == "best":
            layers.append(base.mark_point(size=220, color="black", strokeWidth=1.5))
    return alt.layer(*layers).properties(height=320).to_dict()


@cached
def confusion(matrix: tuple[tuple[int, ...], ...], labels: tuple[str, ...], true_title: str, predicted_title: str,
              size: int = 380) -> dict:
    """A confusion matrix as a heatmap; clicking a cell selects it (selection parameter "cell")."""
    rows = [{"true": labels[i], "predicted": labels[j], "count": int(c)}
            for i, row in enumerate(matrix) for j, c in enumerate(row)]
    cell = alt.selection_point(name="cell", fields=["true", "predicted"], on="click", empty=False)
    base = alt.Chart(pd.DataFrame(rows)).encode(
        x=alt.X("predicted:N", title=predicted_title, sort=list(labels)),
        y=alt.Y("true:N", title=true_title, sort=list(labels)))
    heat = base.mark_rect().encode(
        color=alt.Color("count:Q", scale=alt.Scale(type="symlog", scheme="blues"), legend=None),
        stroke=alt.condition(cell, alt.value("orange"), alt.value(None)),
        tooltip=["true", "predicted", "count"]).add_params(cell)
    text = base.mark_text(fontSize=10).encode(
        text=alt.condition(alt.datum.count > 0, "count:Q", alt.value("")),
        color=alt.condition(alt.datum.count > max(1, max(map(max, matrix)) // 2), alt.value("white"),
                            alt.value("black")))
    return alt.layer(heat, text).properties(width=size, height=size).to_dict()


def live_lines(rows: list[dict], x: str, y: str, color: str, x_title: str, y_title: str, height: int = 220) -> dict:
    """The same picture as `lines`, written as a plain Vega-Lite dict: no Altair building or
    validation, so a chart redrawn twice a second while a model trains costs about a millisecond
    instead of ~50 ms of the CPU the training needs."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": rows}, "height": height,
        "mark": {"type": "line", "point": len(rows) < 60},
        "encoding": {
            "x": {"field": x, "type": "quantitative", "title": x_title,
                  "axis": {"format": "d", "tickMinStep": 1}},  # epochs and steps are whole numbers
            "y": {"field": y, "type": "quantitative", "title": y_title, "scale": {"zero": False}},
            "color": {"field": color, "type": "nominal", "title": None, "scale": {"scheme": "category10"},
                      "legend": {"orient": "bottom"}},
            "strokeDash": {"field": color, "type": "nominal", "title": None, "legend": {"orient": "bottom"}},
            "tooltip": [{"field": x, "type": "quantitative"}, {"field": y, "type": "quantitative", "format": ".4f"},
                        {"field": color, "type": "nominal"}],
        },
    }


@cached
def runs_overlay(rows: list[dict], x_title: str, y_title: str, runs: tuple[str, ...], colours: tuple[str, ...],
                 log_y: bool = False, height: int = 280) -> dict:
    """One metric of several runs, each run in the colour it has in the runs table."""
    values = [r["y"] for r in rows]
    # a log axis helps only across decades: within one it flattens the curve and labels no tick
    if log_y and min(values) > 0 and max(values) / min(values) > 10:
        scale = alt.Scale(type="log")
    else:
        scale = alt.Scale(zero=False)
    return alt.Chart(pd.DataFrame(rows)).mark_line().encode(
        x=alt.X("x:Q", title=x_title, axis=alt.Axis(format="d", tickMinStep=1)),  # epochs and steps are whole
        y=alt.Y("y:Q", title=y_title, scale=scale),
        color=alt.Color("run:N", title=None, scale=alt.Scale(domain=list(runs), range=list(colours)),
                        sort=list(runs)),
        tooltip=["run", alt.Tooltip("x:Q", title=x_title), alt.Tooltip("y:Q", title=y_title, format=".5g")],
    ).properties(height=height).to_dict()


def live_smoothed(rows: list[dict], x: str, x_title: str, y_title: str, domain: list[float] | None = None,
                  height: int = 200) -> dict:
    """Noisy per-step values {x, "raw", "smooth"}: the raw line faint, its smoothed line over it. Plain
    Vega-Lite, like `live_lines`, as it is redrawn while a model trains."""
    scale = {"domain": domain} if domain else {"zero": False}

    def line(field: str, style: dict) -> dict:
        return {"mark": {"type": "line", **style},
                "encoding": {"x": {"field": x, "type": "quantitative", "title": x_title,
                                   "axis": {"format": "d", "tickMinStep": 1}},
                             "y": {"field": field, "type": "quantitative", "title": y_title, "scale": scale}}}

    smooth = line("smooth", {"strokeWidth": 2.5})
    smooth["encoding"]["tooltip"] = [{"field": x, "type": "quantitative"},
                                     {"field": "raw", "type": "quantitative", "format": ".4f"},
                                     {"field": "smooth", "type": "quantitative", "format": ".4f"}]
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": rows},
            "height": height, "layer": [line("raw", {"opacity": 0.3, "strokeWidth": 1}), smooth]}


def _gap_layers(rows: list[dict], names: tuple[str, str], x_title: str, y_title: str, gap_title: str) -> list:
    data = pd.DataFrame(rows)
    band = alt.Chart(data).mark_area(opacity=0.25, color="#d62728").encode(
        x=alt.X("x:Q", title=x_title), y=alt.Y("train:Q", title=y_title), y2="val:Q",
        tooltip=[alt.Tooltip("x:Q"), alt.Tooltip("gap:Q", title=gap_title, format=".4f")],
    ).transform_calculate(gap="datum.val - datum.train")
    long = data.melt(id_vars=["x"], value_vars=["train", "val"], var_name="set", value_name="loss")
    long["set"] = long["set"].map(dict(zip(("train", "val"), names)))
    curves_ = alt.Chart(long).mark_line().encode(
        x="x:Q", y="loss:Q", color=alt.Color("set:N", title=None, scale=alt.Scale(scheme="category10"),
                                             legend=alt.Legend(orient="top")),
        tooltip=["x", "set", alt.Tooltip("loss:Q", format=".4f")])
    return [band, curves_]


@cached
def gap_curves(rows: list[dict], names: tuple[str, str], x_title: str, y_title: str, gap_title: str,
               height: int = 260) -> dict:
    """Training and validation loss {"x", "train", "val"} against `x`, one line each (called
    `names`), and the generalization gap between them shaded."""
    return alt.layer(*_gap_layers(rows, names, x_title, y_title, gap_title)).properties(height=height).to_dict()


@cached
def gap_marks(rows: list[dict], names: tuple[str, str], marks: list[dict], x_title: str, y_title: str,
              gap_title: str, height: int = 300) -> dict:
    """`gap_curves` with vertical rules at the epochs in `marks` {"x", "note"}, each labelled near the
    top, one label a line below the one before (two epochs close together keep readable labels)."""
    marks = [{**m, "top": 4 + 16 * i} for i, m in enumerate(marks)]
    rules = alt.Chart(pd.DataFrame(marks)).encode(x="x:Q")
    return alt.layer(*_gap_layers(rows, names, x_title, y_title, gap_title),
                     rules.mark_rule(strokeDash=[4, 3], color="black"),
                     rules.mark_text(align="left", dx=4, baseline="top", fontWeight="bold").encode(
                         text="note:N", y=alt.Y("top:Q", scale=None)),
                     ).properties(height=height).to_dict()


@cached
def histograms(rows: list[dict], x_title: str, y_title: str, height: int = 260) -> dict:
    """Counts per bin {"start", "end", "count", "model"}, one translucent histogram per model."""
    return alt.Chart(pd.DataFrame(rows)).mark_bar(opacity=0.55, binSpacing=0).encode(
        x=alt.X("start:Q", title=x_title, bin="binned"), x2="end:Q", y=alt.Y("count:Q", title=y_title, stack=None),
        color=alt.Color("model:N", title=None, scale=alt.Scale(scheme="category10"), legend=alt.Legend(orient="top")),
        tooltip=["model", "start", "end", "count"],
    ).properties(height=height).to_dict()


@cached
def share_sweep(rows: list[dict], chosen: dict, x_title: str, y_title: str, height: int = 260) -> dict:
    """A share {"lam", "share"} against lam (log axis), the chosen lam {"lam", "share"} ringed."""
    line = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=alt.X("lam:Q", title=x_title, scale=alt.Scale(type="log")),
        y=alt.Y("share:Q", title=y_title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("lam:Q", format="g"), alt.Tooltip("share:Q", format=".1%")])
    ring = alt.Chart(pd.DataFrame([chosen])).mark_point(size=260, color="black", strokeWidth=1.5).encode(
        x="lam:Q", y="share:Q")
    return alt.layer(line, ring).properties(height=height).to_dict()


@cached
def norm_balls(grid: list[dict], shapes: list[dict], points: list[dict], x_title: str, y_title: str,
               loss_title: str, size: int = 440) -> dict:
    """Why L1 gives zeros: a loss heatmap {"w1", "w2", "loss"} on a regular grid, outlines and paths
    {"w1", "w2", "shape", "order"} (the L1 diamond, the L2 disc, the paths of optima over lam), and
    points {"w1", "w2", "name"} (the optima), on axes of equal units (the chart may stretch to fill
    its column). Darker grey is a higher loss."""
    cells = pd.DataFrame(grid)
    w1 = np.unique(cells["w1"])
    half = (w1[1] - w1[0]) / 2
    cells = cells.assign(w1_lo=cells["w1"] - half, w1_hi=cells["w1"] + half, w2_lo=cells["w2"] - half,
                         w2_hi=cells["w2"] + half)
    lo, hi = float(w1[0] - half), float(w1[-1] + half)
    x_scale, y_scale = _same_units(lo, hi, lo, hi)  # a disc stays round
    heat = alt.Chart(cells).mark_rect(clip=True).encode(
        x=alt.X("w1_lo:Q", title=x_title, scale=x_scale), x2="w1_hi:Q",
        y=alt.Y("w2_lo:Q", title=y_title, scale=y_scale), y2="w2_hi:Q",
        color=alt.Color("loss:Q", scale=alt.Scale(scheme="greys", type="log"), legend=None),
        tooltip=[alt.Tooltip("w1:Q", format=".2f"), alt.Tooltip("w2:Q", format=".2f"),
                 alt.Tooltip("loss:Q", title=loss_title, format=".3f")])
    outlines = alt.Chart(pd.DataFrame(shapes)).mark_line(strokeWidth=2.5, clip=True).encode(
        x="w1:Q", y="w2:Q", order="order:Q",
        stroke=alt.Stroke("shape:N", title=None, scale=alt.Scale(scheme="set1"),
                          legend=alt.Legend(orient="bottom", columns=2, labelLimit=300)),
        strokeDash=alt.StrokeDash("shape:N", title=None))
    dots = alt.Chart(pd.DataFrame(points)).mark_point(size=120, filled=True, color="black", clip=True).encode(
        x="w1:Q", y="w2:Q", shape=alt.Shape("name:N", title=None, legend=alt.Legend(orient="top", labelLimit=300)),
        tooltip=["name", alt.Tooltip("w1:Q", format=".4f"), alt.Tooltip("w2:Q", format=".4f")])
    return alt.layer(heat, outlines, dots).properties(height=size).to_dict()


@cached
def u_curve(rows: list[dict], best: dict, x_title: str, y_title: str, best_note: str, height: int = 300) -> dict:
    """Loss against parameter count (log axis) {"params", "loss", "set", "shape"}, one line per set,
    with the lowest validation loss `best` {"params", "loss"} ringed and labelled."""
    curves_ = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=alt.X("params:Q", title=x_title, scale=alt.Scale(type="log")),
        y=alt.Y("loss:Q", title=y_title), color=alt.Color("set:N", title=None, scale=alt.Scale(scheme="category10"),
                                                        legend=alt.Legend(orient="top")),
        tooltip=["shape", "params", "set", alt.Tooltip("loss:Q", format=".4f")])
    mark = alt.Chart(pd.DataFrame([{**best, "note": best_note}])).encode(x="params:Q", y="loss:Q")
    return alt.layer(curves_, mark.mark_point(size=260, color="black", strokeWidth=1.5),
                     mark.mark_text(fontWeight="bold", dy=22).encode(text="note:N")).properties(height=height).to_dict()


@cached
def split_scatter(points: list[dict], x_title: str = "x₁", y_title: str = "x₂", size: int = 320,
                  colours: tuple[tuple[str, str], ...] = ()) -> dict:
    """The points of a data set {"x0", "x1", "set", "label"}: colour for the set it went to, shape for
    its class. `colours` ((set, colour), ...) fixes the sets' colours and their order in the legend
    (then on the right, where a long list of folds fits)."""
    scale = alt.Scale(domain=[n for n, _ in colours], range=[c for _, c in colours]) if colours else \
        alt.Scale(scheme="set1")
    return alt.Chart(pd.DataFrame(points)).mark_point(filled=True, size=45, opacity=0.8).encode(
        x=alt.X("x0:Q", title=x_title), y=alt.Y("x1:Q", title=y_title),
        color=alt.Color("set:N", title=None, scale=scale, legend=alt.Legend(orient="right" if colours else "top")),
        shape=alt.Shape("label:N", title=None), tooltip=["set", "label"],
    ).properties(width=size, height=size).to_dict()


@cached
def cv_scores(means: list[dict], folds: list[dict], bar: float, marks: tuple[str, str], x_title: str,
              y_title: str, bar_note: str, height: int = 300) -> dict:
    """K-fold scores per candidate: each fold's score {"model", "loss"} as a grey dot, the mean
    {"model", "mean", "low", "high", "chosen"} as a square with a bar from low to high (red where
    "chosen" is marks[0], blue where it is marks[1]), and a dashed rule at `bar` (the best mean plus
    its standard error: Occam's line, labelled `bar_note`). Candidates keep the order of `means`."""
    order = [m["model"] for m in means]
    x = alt.X("model:N", title=x_title, sort=order, axis=alt.Axis(labelAngle=0))
    dots = alt.Chart(pd.DataFrame(folds)).mark_circle(size=35, opacity=0.45, color="gray").encode(
        x=x, y=alt.Y("loss:Q", title=y_title), tooltip=["model", alt.Tooltip("loss:Q", format=".4f")])
    table = pd.DataFrame(means)
    colour = alt.Color("chosen:N", title=None, scale=alt.Scale(domain=list(marks), range=["#e41a1c", "#377eb8"]),
                       legend=alt.Legend(orient="top"))
    span = alt.Chart(table).encode(x=x, color=colour)
    errors = alt.layer(span.mark_rule(strokeWidth=2).encode(y=alt.Y("low:Q", title=y_title), y2="high:Q"),
                       span.mark_tick(size=16, thickness=2).encode(y="low:Q"),
                       span.mark_tick(size=16, thickness=2).encode(y="high:Q"))
    centres = alt.Chart(table).mark_point(filled=True, shape="square", size=90).encode(
        x=x, y="mean:Q", color=colour,
        tooltip=["model", alt.Tooltip("mean:Q", format=".4f"), alt.Tooltip("low:Q", format=".4f"),
                 alt.Tooltip("high:Q", format=".4f")])
    line = alt.Chart(pd.DataFrame([{"bar": bar, "note": bar_note}])).encode(y="bar:Q")
    return alt.layer(dots, errors, centres, line.mark_rule(strokeDash=[5, 4], color="black"),
                     line.mark_text(align="left", x=4, dy=-7, fontSize=11).encode(text="note:N")
                     ).properties(height=height).to_dict()


@cached
def pieces(points: list[dict], curves_: list[dict], units: list[dict], x_title: str, y_title: str,
           height: int = 340) -> dict:
    """A 1-D fit: data points {"x", "y", "set"}, curves {"x", "y", "curve"} and, thin and grey, each
    hidden unit's piece {"x", "y", "unit"} (the fit is their sum plus a bias)."""
    thin_ = alt.Chart(pd.DataFrame(units)).mark_line(strokeWidth=1, opacity=0.45, color="gray").encode(
        x=alt.X("x:Q", title=x_title), y=alt.Y("y:Q", title=y_title), detail="unit:N", tooltip=["unit"])
    dots = alt.Chart(pd.DataFrame(points)).mark_circle(size=30, opacity=0.7).encode(
        x="x:Q", y="y:Q", color=alt.Color("set:N", title=None, scale=alt.Scale(scheme="tableau10")))
    line = alt.Chart(pd.DataFrame(curves_)).mark_line(strokeWidth=2.5).encode(
        x="x:Q", y="y:Q", strokeDash=alt.StrokeDash("curve:N", legend=None),
        color=alt.Color("curve:N", title=None, scale=alt.Scale(scheme="set1")))
    return alt.layer(thin_, dots, line).resolve_scale(color="independent").properties(height=height).to_dict()


@cached
def learning_curves(rows: list[dict], x_title: str, y_title: str, height: int = 300) -> dict:
    """Loss against training-set size (log axis) {"size", "loss", "curve"}, one line per curve."""
    return alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=alt.X("size:Q", title=x_title, scale=alt.Scale(type="log", nice=False,
                                                         domain=[min(r["size"] for r in rows), max(r["size"] for r in rows)])),
        y=alt.Y("loss:Q", title=y_title),
        color=alt.Color("curve:N", title=None, scale=alt.Scale(scheme="category10"), legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("curve:N", title=None), tooltip=["size", "curve", alt.Tooltip("loss:Q", format=".4f")],
    ).properties(height=height).to_dict()


@cached
def schedules(rows: list[dict], x_title: str, y_title: str, height: int = 320) -> dict:
    """Learning-rate curves {"epoch", "lr", "schedule"}, each rate held until the next one (a
    scheduler changes the rate in steps), coloured in the order they first appear."""
    order = list(dict.fromkeys(r["schedule"] for r in rows))
    return alt.Chart(pd.DataFrame(rows)).mark_line(interpolate="step-after").encode(
        x=alt.X("epoch:Q", title=x_title), y=alt.Y("lr:Q", title=y_title),
        color=alt.Color("schedule:N", title=None, scale=alt.Scale(domain=order, scheme="category10")),
        strokeDash=alt.StrokeDash("schedule:N", title=None, scale=alt.Scale(domain=order)),
        tooltip=[alt.Tooltip("epoch:Q", format=".4g"), alt.Tooltip("lr:Q", format=".5g"), "schedule"],
    ).properties(height=height).to_dict()


@cached
def loss_over_lr(rows: list[dict], x_title: str, loss_title: str, lr_title: str, height: int = 220) -> dict:
    """Rows {"step", "loss", "lr", "schedule"}: each schedule's batch losses (log scale) drawn above its
    learning rate, one shared step axis, so a spike in the loss lines up with the rate that caused it."""
    order = list(dict.fromkeys(r["schedule"] for r in rows))
    base = alt.Chart(pd.DataFrame(rows)).encode(
        x=alt.X("step:Q", title=x_title),
        color=alt.Color("schedule:N", title=None, scale=alt.Scale(domain=order, scheme="category10"),
                        legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("schedule:N", title=None, scale=alt.Scale(domain=order)))
    loss = base.mark_line(opacity=0.85).encode(
        y=alt.Y("loss:Q", title=loss_title, scale=alt.Scale(type="log")),
        tooltip=["step", alt.Tooltip("loss:Q", format=".4g"), "schedule"]).properties(height=height)
    lr = base.mark_line(interpolate="step-after").encode(
        y=alt.Y("lr:Q", title=lr_title), tooltip=["step", alt.Tooltip("lr:Q", format=".5g"), "schedule"],
    ).properties(height=height * 2 // 3)
    return alt.vconcat(loss, lr).resolve_scale(x="shared").to_dict()


@cached
def range_test(rows: list[dict], marks: list[dict], x_title: str, y_title: str, height: int = 300) -> dict:
    """The LR range test: rows {"lr", "loss", "curve"} (the batch loss and its smoothed value, log scale)
    against a log rate axis; `marks` {"lr", "label"} are vertical rules (the suggestion, the minimum)."""
    order = list(dict.fromkeys(r["curve"] for r in rows))
    curves = alt.Chart(pd.DataFrame(rows)).mark_line().encode(
        x=alt.X("lr:Q", title=x_title, scale=alt.Scale(type="log")),
        y=alt.Y("loss:Q", title=y_title, scale=alt.Scale(type="log")),  # the blow-up is 50x the rest
        color=alt.Color("curve:N", title=None, scale=alt.Scale(domain=order, scheme="category10"),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("lr:Q", format=".4g"), alt.Tooltip("loss:Q", format=".4g"), "curve"])
    rules = alt.Chart(pd.DataFrame(marks)).mark_rule(strokeDash=[4, 3], color="gray").encode(
        x="lr:Q", tooltip=["label", alt.Tooltip("lr:Q", format=".4g")])
    text = alt.Chart(pd.DataFrame(marks)).mark_text(align="left", dx=4, dy=-120, color="gray").encode(
        x="lr:Q", text="label")
    return alt.layer(curves, rules, text).properties(height=height).to_dict()
