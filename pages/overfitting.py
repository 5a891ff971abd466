"""Overfitting: tell over- from underfitting on a curve, and pull the levers that fix each one."""

import streamlit as st

from nnkit.experiments.overfitting import (DEPTHS, EXPERIMENT, MODELS, RUN_METRICS, SETTINGS, WIDTHS,
                                           TRAIN_SIZES, OverfittingParams as P, applies, epochs_total, record,
                                           run)
from nnkit.runs import thin
from ui import charts, guided, runs
from ui.i18n import t
from ui.page import code_section, header, share_link
from ui.params import read, widget, widgets
from ui.shared import shared

header("ovf", P)
p = read(P)
share_link()
guided.section(EXPERIMENT, p)

widget(P, "section")
st.header(t(f"ovf.{p.section}"))
st.markdown(t(f"ovf.{p.section}.intro"))
widgets(P, list(SETTINGS[p.section]))
key = tuple((name, getattr(p, name)) for name in applies(p))
result = shared("ovf", key, lambda listen: run(p, listen), total=epochs_total(p), unit="epoch",
                on_stopped=lambda partial: (made := record(p, partial)) is not None and runs.add("overfitting", made))
if result is not None and (made := record(p, result)) is not None:
    runs.add("overfitting", made)
SET_NAMES = {name: t(f"ovf.set.{name}") for name in ("train", "val", "test")}


def gap_chart(history: list[dict], where=st, loss: str | None = None) -> None:
    # at most 1,000 epochs a chart: Altair refuses a chart of over 5,000 rows
    rows = [{"x": e["epoch"] + 1, "train": e["train_loss"], "val": e["val_loss"]} for e in thin(history, 1000)]
    where.vega_lite_chart(spec=charts.gap_curves(rows, (SET_NAMES["train"], SET_NAMES["val"]), t("ovf.epoch"),
                                                 loss or t("ovf.loss"), t("ovf.gap")), width="stretch")


def u_chart(trained: list, label: str, where) -> None:
    rows = [{"params": n.params, "loss": n.history[-1][f"{s}_loss"], "set": SET_NAMES[s], "shape": str(n.hidden)}
            for n in trained if n.history for s in ("train", "val")]
    best = min((r for r in rows if r["set"] == SET_NAMES["val"]), key=lambda r: r["loss"])
    where.subheader(label)
    where.vega_lite_chart(spec=charts.u_curve(rows, {"params": best["params"], "loss": best["loss"]},
                                              t("ovf.params"), t("ovf.loss"), t("ovf.best", shape=best["shape"])),
                          width="stretch")


if result is None:
    pass  # computing: its progress is on screen, and the page reruns when it is ready
elif p.section == "capacity":
    data = result["data"]
    points = [{"x0": float(data.x[i, 0]), "x1": float(data.x[i, 1]), "set": SET_NAMES[name],
               "label": int(data.y[i])} for name, idx in data.index.items() for i in idx.tolist()]
    left, right = st.columns([2, 3])
    left.vega_lite_chart(spec=charts.split_scatter(points), width="content")
    right.markdown(t("ovf.split", **{name: len(idx) for name, idx in data.index.items()}))
    width_col, depth_col = st.columns(2)
    u_chart(result["width"], t("ovf.width_sweep", widths=", ".join(map(str, WIDTHS))), width_col)
    if result["depth"]:
        u_chart(result["depth"], t("ovf.depth_sweep", width=p.depth_width, depths=len(DEPTHS)), depth_col)
        val = [n.val_loss for n in result["depth"]]
        verdict = "helped" if val[-1] < val[0] else "hurt"
        depth_col.markdown(t(f"ovf.depth.{verdict}", width=p.depth_width, shallow=f"{val[0]:.3f}",
                             deep=f"{val[-1]:.3f}", depth=DEPTHS[len(val) - 1]))
    if "chosen" in result:
        chosen, test = result["chosen"], result["test"]
        a, b, c, d = st.columns(4)
        a.metric(t("ovf.chosen"), str(chosen.hidden), help=t("ovf.chosen.help"))
        b.metric(t("ovf.val_loss"), f"{chosen.val_loss:.4f}")
        c.metric(t("ovf.test_loss"), f"{test['loss']:.4f}")
        d.metric(t("ovf.test_acc"), f"{test['acc']:.1%}")
        st.info(t("ovf.test.why"), icon=":material/lock:")
    everyone = {str(n.hidden): n for n in result["width"] + result["depth"]}
    default = str(result["chosen"].hidden) if "chosen" in result else next(iter(everyone))
    shown = st.selectbox(t("ovf.curves_of"), list(everyone), index=list(everyone).index(default), key="ovf_curves_of")
    gap_chart(everyone[shown].history)
    st.markdown(t("ovf.capacity.explain"))
elif p.section == "approximation":
    data, net = result["data"], result["net"]
    points = [{"x": float(data.x[i, 0]), "y": float(data.y[i, 0]), "set": SET_NAMES[name]}
              for name, idx in data.index.items() for i in idx.tolist()]
    grid = result["grid"]
    curves = [{"x": float(x), "y": float(y), "curve": t("ovf.fit", units=p.units)} for x, y in zip(grid, result["fitted"])]
    curves += [{"x": float(x), "y": float(y), "curve": t("ovf.truth")} for x, y in zip(grid, result["truth"])]
    units = [{"x": float(x), "y": float(y), "unit": i + 1} for i, piece in enumerate(result["pieces"])
             for x, y in zip(grid[::4], piece[::4])]
    st.vega_lite_chart(spec=charts.pieces(points, curves, units, "x", "y"), width="stretch")
    st.caption(t("ovf.pieces", units=p.units, bias=f"{result['bias']:.3f}"))
    a, b, c = st.columns(3)
    a.metric(t("ovf.params"), net.params)
    b.metric(t("ovf.train_loss"), f"{net.train_loss:.4f}")
    c.metric(t("ovf.val_loss"), f"{net.val_loss:.4f}")
    gap_chart(net.history, loss=t("ovf.mse"))
    st.markdown(t("ovf.approximation.explain"))
else:
    rows = [{"size": size, "loss": n.history[-1][f"{s}_loss"],
             "curve": t("ovf.model_set", model=t(f"ovf.model.{name}", units=MODELS[name][0]), set=SET_NAMES[s])}
            for name, trained in result["curves"].items() for size, n in zip(TRAIN_SIZES, trained)
            for s in ("train", "val") if n.history]
    st.vega_lite_chart(spec=charts.learning_curves(rows, t("ovf.train_size"), t("ovf.loss")), width="stretch")
    large = result["curves"].get("large", [])
    if large:
        left, right = st.columns(2)
        left.caption(t("ovf.curves_at", size=TRAIN_SIZES[0]))
        gap_chart(large[0].history, left)
        right.caption(t("ovf.curves_at", size=TRAIN_SIZES[len(large) - 1]))
        gap_chart(large[-1].history, right)
    st.markdown(t("ovf.data_size.explain"))

runs.panel("overfitting", P, {m: t(f"ovf.runs.{m}") for m in RUN_METRICS},
           # not the test score: runs are compared, and choices made, on validation
           {m: t(f"ovf.runs.{m}") for m in ("train_loss", "val_loss", "params")},
           log_metrics=RUN_METRICS)
code_section(EXPERIMENT, p)
