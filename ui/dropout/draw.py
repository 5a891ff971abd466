"""Charts of the Dropout page only: the network with its dropped units, every pass's mask, and an
uncertainty map. Cached like ui.charts: a spec is rebuilt only when its data changes."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import _same_units, _scatter, cached

KEPT, DROPPED = "#4e79a7", "#d0d0d0"


@cached
def network(layers: list[dict], kept_title: str, dropped_title: str, height: int = 300) -> dict:
    """Units as circles in columns, one column per layer ({"name", "mask"}: 1 kept, 0 dropped);
    an edge joins two units of neighbouring layers only when both are kept."""
    nodes, edges = [], []
    tallest = max(len(layer["mask"]) for layer in layers)
    for col, layer in enumerate(layers):
        n = len(layer["mask"])
        for i, kept in enumerate(layer["mask"]):
            nodes.append({"x": col, "y": (tallest - n) / 2 + i, "layer": layer["name"],
                          "kept": kept_title if kept else dropped_title})
    start = 0
    for col in range(len(layers) - 1):
        here, there = layers[col]["mask"], layers[col + 1]["mask"]
        a = nodes[start:start + len(here)]
        b = nodes[start + len(here):start + len(here) + len(there)]
        for i, u in enumerate(a):
            for j, v in enumerate(b):
                if here[i] and there[j]:
                    edges += [{"edge": f"{col}.{i}.{j}", "x": u["x"], "y": u["y"]},
                              {"edge": f"{col}.{i}.{j}", "x": v["x"], "y": v["y"]}]
        start += len(here)
    x_axis = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-0.3, len(layers) - 0.7]))
    y_axis = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[-0.6, tallest - 0.4]))
    lines = alt.Chart(pd.DataFrame(edges or [{"edge": "", "x": 0, "y": 0}])).mark_line(
        color="#9aa9bf", strokeWidth=0.8, opacity=0.7 if edges else 0).encode(x=x_axis, y=y_axis, detail="edge:N")
    dots = alt.Chart(pd.DataFrame(nodes)).mark_circle(size=420, stroke="#333", strokeWidth=0.8, opacity=1).encode(
        x=x_axis, y=y_axis, tooltip=["layer:N", "kept:N"],
        color=alt.Color("kept:N", title=None, scale=alt.Scale(domain=[kept_title, dropped_title],
                                                               range=[KEPT, DROPPED]),
                        legend=alt.Legend(orient="top", symbolType="circle", symbolOpacity=1, symbolStrokeWidth=0)))
    labels = alt.Chart(pd.DataFrame([{"x": i, "name": layer["name"]} for i, layer in enumerate(layers)])).mark_text(
        dy=0, baseline="top", fontSize=12).encode(x=x_axis, y=alt.datum(-0.55), text="name:N")
    return alt.layer(lines, dots, labels).properties(height=height).to_dict()


@cached
def mask_grid(rows: list[dict], x_title: str, y_title: str, kept_title: str, dropped_title: str) -> dict:
    """Every pass's mask at a glance: {"pass", "unit", "kept"} as a grid of cells."""
    return alt.Chart(pd.DataFrame(rows)).mark_rect(stroke="white", strokeWidth=1).encode(
        x=alt.X("unit:O", title=x_title, sort=None), y=alt.Y("pass:O", title=y_title),
        color=alt.Color("kept:N", title=None, scale=alt.Scale(domain=[kept_title, dropped_title],
                                                               range=[KEPT, DROPPED]),
                        legend=alt.Legend(orient="top")),
        tooltip=["pass:O", "unit:N", "kept:N"],
    ).properties(height=min(20 * (1 + max(r["pass"] for r in rows)), 420)).to_dict()


@cached
def strip(rows: list[dict], line: float, x_title: str, y_title: str, line_title: str,
          domain: tuple | None = None) -> dict:
    """One value per pass {"x", "y"} as points, with a horizontal rule at `line` (the eval-mode value)."""
    scale = alt.Scale(domain=list(domain)) if domain else alt.Scale(zero=False)
    dots = alt.Chart(pd.DataFrame(rows)).mark_circle(size=70, color="#f28e2b").encode(
        x=alt.X("x:O", title=x_title), y=alt.Y("y:Q", title=y_title, scale=scale),
        tooltip=[alt.Tooltip("x:O", title=x_title), alt.Tooltip("y:Q", title=y_title, format=".4f")])
    rule = alt.Chart(pd.DataFrame([{"y": line, "name": line_title}])).mark_rule(color="#4e79a7", strokeWidth=2).encode(
        y="y:Q", tooltip=[alt.Tooltip("name:N", title=" "), alt.Tooltip("y:Q", format=".4f")])
    text = alt.Chart(pd.DataFrame([{"y": line, "name": line_title}])).mark_text(
        align="left", dx=4, dy=-6, color="#4e79a7").encode(x=alt.value(0), y="y:Q", text="name:N")
    return alt.layer(dots, rule, text).properties(height=220).to_dict()


@cached
def uncertainty(region: dict, points: dict, title: str, size: int = 320) -> dict:
    """How much the thinned networks disagree, as a heatmap (darker: more spread) under the points."""
    x0, x1 = np.unique(region["x0"]), np.unique(region["x1"])
    dx, dy = (x0[1] - x0[0]) / 2, (x1[1] - x1[0]) / 2
    grid = pd.DataFrame({"a": region["x0"] - dx, "a2": region["x0"] + dx, "b": region["x1"] - dy,
                         "b2": region["x1"] + dy, "s": region["p"]})
    x_scale, y_scale = _same_units(float(x0[0] - dx), float(x0[-1] + dx), float(x1[0] - dy), float(x1[-1] + dy))
    heat = alt.Chart(grid).mark_rect().encode(
        x=alt.X("a:Q", title="x₁", scale=x_scale), x2="a2:Q", y=alt.Y("b:Q", title="x₂", scale=y_scale), y2="b2:Q",
        color=alt.Color("s:Q", scale=alt.Scale(scheme="greys", domain=[0, 0.5]), legend=None))
    return alt.layer(heat, _scatter(points["x0"], points["x1"], points["label"])).properties(
        title=title, width=size, height=size).to_dict()


@cached
def distance(rows: list[dict], x_title: str, y_title: str) -> dict:
    """How far the average of K thinned networks is from eval mode {"k", "distance"}, K on a log axis."""
    return alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=alt.X("k:Q", title=x_title, scale=alt.Scale(type="log", base=2),
                axis=alt.Axis(values=[r["k"] for r in rows])),
        y=alt.Y("distance:Q", title=y_title, scale=alt.Scale(zero=True)),
        tooltip=[alt.Tooltip("k:Q", title=x_title), alt.Tooltip("distance:Q", title=y_title, format=".4f")],
    ).properties(height=260).to_dict()
