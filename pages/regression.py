"""Regression: one neuron fitted by following the gradient, by hand and with nn.Linear."""

import numpy as np
import streamlit as st

from nnkit.experiments.regression import EXPERIMENT, RUN_METRICS, SETTINGS, RegressionParams as P, record, run
from nnkit.regression import CLEARLY_WORSE
from nnkit.runs import thin
from ui import charts, guided, runs
from ui.i18n import t
from ui.shared import shared
from ui.own_data import own_data_section
from ui.page import code_section, header, share_link
from ui.params import read, widget, widgets

header("reg", P)
p = read(P)
share_link()
guided.section(EXPERIMENT, p)

widget(P, "task")
# the polynomial task is fitted in closed form: no learning rate, no iterations to show
widgets(P, [n for n in ("n_points", "noise", "lr", "iterations") if n in SETTINGS[p.task]])
# each task's heading and settings first: they stay on screen while the result is computed
st.header(t(f"reg.{p.task}"))
st.markdown(t(f"reg.{p.task}.intro", zeroing=t("reg.zeroing.on") if p.zero_grad else t("reg.zeroing.off")))
if p.task == "linear":
    widgets(P, ["true_w", "true_b", "init", "init_value"])
    widget(P, "zero_grad")
    if not p.zero_grad:
        st.warning(t("reg.zero_grad.off"))
elif p.task == "multiple":
    widgets(P, ["true_weights", "true_b", "spread", "standardize"])
else:
    widgets(P, ["truth", "degree"], columns=2)
key = tuple(sorted(vars(p).items()))
result = shared("reg", key, lambda listen: run(p, listen), total=1 if p.task == "polynomial" else 2 * p.iterations,
                on_stopped=lambda partial: (made := record(p, partial)) is not None and runs.add("regression", made))


def diverged_note(outcome: str, who: str) -> bool:
    if outcome == "diverged":
        st.error(t("reg.diverged", who=who, lr=p.lr))
    return outcome == "diverged"


if result is not None and (made := record(p, result)) is not None:
    runs.add("regression", made)

if result is None:
    pass  # computing: its progress is on screen, and the page reruns when it is ready
elif p.task == "linear":
    hand, packaged = result["by_hand"], result["nn_linear"]
    best_w, best_b = result["least_squares"]
    bad = diverged_note(hand.outcome, t("reg.by_hand")) | diverged_note(packaged.outcome, "nn.Linear")
    left, right = st.columns([3, 1])
    table = {"": [t("reg.true"), t("reg.by_hand"), "nn.Linear", t("reg.least_squares")],
             "w": [p.true_w, hand.w[-1], packaged.w[-1], best_w], "b": [p.true_b, hand.b[-1], packaged.b[-1], best_b]}
    left.dataframe(table, hide_index=True, column_config={k: st.column_config.NumberColumn(format="%.6f") for k in "wb"})
    gap = max(abs(a - b) for a, b in zip(hand.w + hand.b, packaged.w + packaged.b))
    right.metric(t("reg.agree"), f"{gap:.1e}", help=t("reg.agree.help"))
    if not bad:
        step = st.slider(t("reg.scrub"), 0, len(hand.w) - 1, len(hand.w) - 1, key="reg_step")
        w, b = hand.w[step], hand.b[step]
        points = [{"x": float(x), "y": float(y), "set": t("reg.data")} for x, y in zip(result["x"], result["y"])]
        line_x = [-2.0, 2.0]
        curves = [{"x": x, "y": w * x + b, "curve": t("reg.at_step", step=step)} for x in line_x] + \
                 [{"x": x, "y": best_w * x + best_b, "curve": t("reg.least_squares")} for x in line_x]
        left, right = st.columns(2)
        left.vega_lite_chart(spec=charts.points_and_curves(points, curves, "x", "y"), width="stretch")
        stride = max(1, len(hand.w) // 150)
        path = [{"step": i, "w": hand.w[i], "b": hand.b[i]} for i in range(0, step + 1, stride)] + \
               [{"step": step, "w": w, "b": b}]
        right.vega_lite_chart(spec=charts.surface(result["surface"], path, (best_w, best_b), t("reg.loss"),
                                                  t("reg.least_squares")), width="content")
        right.caption(t("reg.surface"))
    # at most 1,000 steps a curve: Altair refuses a chart of over 5,000 rows (2 x 5,000 iterations)
    losses = [{"step": i, "loss": v, "run": name} for name, trace in ((t("reg.by_hand"), hand), ("nn.Linear", packaged))
              for i, v in thin(list(enumerate(trace.loss)), 1000)]
    if losses:
        st.vega_lite_chart(spec=charts.lines(charts.clip_diverged(losses), "step", "loss", "run", t("reg.step"), t("reg.loss"), log_y=True),
                           width="stretch")
    st.caption(t("reg.stable_lr", stable=f"{result['stable_lr']:.3g}"))
    st.markdown(t("reg.linear.explain"))

elif p.task == "multiple":
    fits = result["fits"]
    for name, fit in fits.items():
        diverged_note(fit.outcome, t(f"reg.{name}"))
    losses = [{"step": i, "loss": v, "run": t(f"reg.{name}")} for name, fit in fits.items()
              for i, v in thin(list(enumerate(fit.loss)), 1000)]
    st.vega_lite_chart(spec=charts.lines(charts.clip_diverged(losses), "step", "loss", "run", t("reg.step"),
                                         t("reg.loss"), log_y=True), width="stretch")
    shown = fits["standardized" if p.standardize else "raw"]
    bars = [{"feature": f"x{j + 1}", "weight": float(v), "source": t("reg.true")} for j, v in enumerate(p.true_weights)]
    bars += [{"feature": f"x{j + 1}", "weight": float(v), "source": t("reg.least_squares")}
             for j, v in enumerate(result["least_squares"])]
    if shown.outcome != "diverged":
        bars += [{"feature": f"x{j + 1}", "weight": float(v), "source": t("reg.learned")} for j, v in enumerate(shown.weights)]
    st.vega_lite_chart(spec=charts.grouped_bars(bars, "feature", "weight", "source", t("reg.weight")), width="stretch")
    st.caption(t("reg.scales", scales=", ".join(f"{s:.3g}" for s in result["scales"])) + " " +
               t("reg.stable_lr.multiple", **{k: f"{v:.3g}" for k, v in result["stable_lr"].items()}))
    st.markdown(t("reg.multiple.explain"))

else:
    (tx, ty), (vx, vy) = result["train"], result["val"]
    points = [{"x": float(x), "y": float(y), "set": t("reg.train")} for x, y in zip(tx, ty)] + \
             [{"x": float(x), "y": float(y), "set": t("reg.val")} for x, y in zip(vx, vy)]
    curves = [{"x": float(x), "y": float(y), "curve": t("reg.fit_degree", degree=p.degree)}
              for x, y in zip(result["grid"], result["fitted"])]
    curves += [{"x": float(x), "y": float(y), "curve": t("reg.truth")} for x, y in zip(result["grid"], result["truth"])]
    sw = result["sweep"]
    rows = [{"degree": d, "mse": m, "set": t(f"reg.{kind}")} for kind in ("train", "val")
            for d, m in zip(sw["degree"], sw[f"{kind}_mse"])]
    labels, val = result["labels"], dict(zip(sw["degree"], sw["val_mse"]))
    # each label where the numbers earn it: the lowest degree that underfits, the highest that overfits
    words = {"underfit": t("reg.underfit"), "overfit": t("reg.overfit")}
    notes = [{"degree": d[i], "mse": val[d[i]], "note": words[kind], "side": kind}
             for kind, d, i in (("underfit", labels["underfit"], 0), ("overfit", labels["overfit"], -1)) if d]
    notes.append({"degree": labels["best"], "mse": val[labels["best"]], "note": t("reg.best"), "side": "best"})
    left, right = st.columns(2)
    left.vega_lite_chart(spec=charts.points_and_curves(points, curves, "x", "y"), width="stretch")
    right.vega_lite_chart(spec=charts.sweep(rows, p.degree, notes, t("reg.degree"), "MSE"), width="stretch")
    low, high = charts.sweep_range(val[labels["best"]])
    if any(not low <= row["mse"] <= high for row in rows):
        right.caption(t("reg.sweep.clamped"))
    st.markdown(t("reg.polynomial.explain", best=labels["best"], factor=f"{CLEARLY_WORSE:g}"))
    with st.expander(t("reg.features")):
        st.caption(t("reg.features.help", degree=p.degree))
        st.dataframe({f"x^{k}" if k > 1 else "x": np.round(tx[:6] ** k, 4) for k in range(1, p.degree + 1)})
        st.write(t("reg.coef"), ", ".join(f"{c:.4f}" for c in result["coef"]))

runs.panel("regression", P, {m: t(f"reg.runs.{m}") for m in RUN_METRICS},
           {m: t(f"reg.runs.{m}") for m in ("loss", "distance", "loss_raw", "loss_standardized")},
           log_metrics=("loss", "loss_nn_linear", "loss_raw", "loss_standardized"))
code_section(EXPERIMENT, p)
own_data_section()
