"""View of the product of derivatives: a chain of one-unit layers, each factor w·f'(z), their
product against the bound (|w| max f')^L."""

from __future__ import annotations

import streamlit as st

from ui import charts
from ui.gradients.common import sci
from ui.i18n import t


def show_chain(p, result: dict) -> None:
    c = result["chain"]
    a, b, d = st.columns(3)
    a.metric(t("grd.chain.max"), f"{c['max_derivative']:g}")
    b.metric(t("grd.chain.bound", depth=p.depth), sci(c["bound"][-1]))
    d.metric(t("grd.chain.product", depth=p.depth), sci(c["product"][-1]))
    names = {"product": t("grd.chain.curve.product"), "bound": t("grd.chain.curve.bound")}
    rows = [{"layer": i + 1, "value": v, "curve": label} for name, label in names.items()
            for i, v in enumerate(c[name]) if v > 0]
    if rows:
        st.vega_lite_chart(spec=charts.lines(rows, "layer", "value", "curve", t("grd.hidden_layer"),
                                             t("grd.chain.value"), log_y=True), width="stretch")
    st.caption(t("grd.chain.autograd", value=sci(c["autograd"][-1])))
    st.markdown(t("grd.chain.explain"))
