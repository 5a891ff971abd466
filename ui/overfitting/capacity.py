"""Views of the model-and-data sections: the capacity sweeps, universal approximation, learning curves."""

from __future__ import annotations

import streamlit as st

from nnkit.experiments.overfitting_capacity import DEPTHS, MODELS, TRAIN_SIZES, WIDTHS
from ui import charts
from ui.i18n import t
from ui.overfitting.common import gap_chart, set_names


def u_chart(trained: list, label: str, where) -> None:
    names = set_names()
    rows = [{"params": n.params, "loss": n.history[-1][f"{s}_loss"], "set": names[s], "shape": str(n.hidden)}
            for n in trained if n.history for s in ("train", "val")]
    best = min((r for r in rows if r["set"] == names["val"]), key=lambda r: r["loss"])
    where.subheader(label)
    where.vega_lite_chart(spec=charts.u_curve(rows, {"params": best["params"], "loss": best["loss"]},
                                              t("ovf.params"), t("ovf.loss"), t("ovf.best", shape=best["shape"])),
                          width="stretch")


def show_capacity(p, result: dict) -> None:
    data, names = result["data"], set_names()
    points = [{"x0": float(data.x[i, 0]), "x1": float(data.x[i, 1]), "set": names[name],
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


def show_approximation(p, result: dict) -> None:
    data, net, names = result["data"], result["net"], set_names()
    points = [{"x": float(data.x[i, 0]), "y": float(data.y[i, 0]), "set": names[name]}
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


def show_data_size(p, result: dict) -> None:
    names = set_names()
    rows = [{"size": size, "loss": n.history[-1][f"{s}_loss"],
             "curve": t("ovf.model_set", model=t(f"ovf.model.{name}", units=MODELS[name][0]), set=names[s])}
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
