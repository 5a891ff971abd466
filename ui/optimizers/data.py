"""View of stochastic gradients from data: the loss over (w, b) with the GD, SGD and mini-batch
paths, the full loss after each epoch, the time per epoch, and the gradient noise per batch size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from nnkit.experiments.optimizers_data import loss
from nnkit.runs import thin
from ui import charts
from ui.i18n import t
from ui.optimizers.race import MAX_POINTS, contour


def show_data(p, result: dict) -> None:
    x, y = result["x"], result["y"]
    ow, ob = result["optimum"]
    names = {m: t(f"opt.data.method.{m}", batch=path["batch"]) for m, path in result["paths"].items()}
    diverged = [names[m] for m, path in result["paths"].items() if path["outcome"] == "diverged"]
    if diverged:
        st.error(t("opt.diverged", names=", ".join(diverged)), icon=":material/trending_up:")
    # the plot spans the start, the optimum and the paths that stayed (a runaway one leaves it)
    points = [q for path in result["paths"].values() if path["outcome"] == "finished" for q in path["points"]]
    ws, bs = [q[0] for q in points] + [ow, p.start[0]], [q[1] for q in points] + [ob, p.start[1]]
    pad = 0.5
    box = (min(ws) - pad, max(ws) + pad, min(bs) - pad, max(bs) + pad)
    gw, gb = np.linspace(box[0], box[1], 60), np.linspace(box[2], box[3], 60)
    values = loss(*np.meshgrid(gw, gb), x, y)
    drawn = tuple((names[m], tuple(thin(path["points"], MAX_POINTS))) for m, path in result["paths"].items())
    left, right = st.columns([3, 2])
    left.vega_lite_chart(spec=contour(gw, gb, values, box, drawn, (ow, ob), t("opt.data.chart.map"), ("w", "b")))
    rows = [{"epoch": e, "loss": v, "method": names[m]} for m, path in result["paths"].items()
            for e, v in enumerate(path["losses"])]
    right.markdown(f"**{t('opt.data.chart.loss')}**")
    right.vega_lite_chart(spec=charts.lines(rows, "epoch", "loss", "method", t("opt.data.epoch"), t("opt.data.loss"),
                                            log_y=True, height=220), width="stretch")
    table = [{t("opt.data.col.method"): names[m], t("opt.data.col.updates"): len(path["points"]) - 1,
              t("opt.data.col.loss"): f"{path['losses'][-1]:.4g}" if path["outcome"] == "finished"
              else t("opt.outcome.diverged", step=len(path["points"])),
              t("opt.data.col.ms"): f"{1000 * float(np.median(path['seconds'])):.2f}"}
             for m, path in result["paths"].items()]
    st.table(pd.DataFrame(table))
    st.markdown(t("opt.data.noise"))
    st.table(pd.DataFrame([{t("opt.data.col.batch"): size, t("opt.data.col.noise"): f"{value:.3g}"}
                           for size, value in result["noise"].items()]))
    st.caption(t("opt.data.explain"))
