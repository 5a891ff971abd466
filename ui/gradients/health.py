"""View of one deep network's gradient health: every layer's gradient norm and activation
statistics at the first step, then the loss and the norms while it trains."""

from __future__ import annotations

import streamlit as st

from ui.gradients.common import (layer_norms_over_steps, loss_chart, norm_rows, norms_chart, outcome, stats_chart,
                                 verdict)
from ui.i18n import t


def show_health(p, result: dict) -> None:
    net = result["net"]
    verdict(net)
    left, right = st.columns(2)
    rows = norm_rows(net["first"]["norms"], t("grd.first_step"))
    if net["after"] is not None:
        rows += norm_rows(net["after"]["norms"], t("grd.after", steps=len(net["history"])))
    norms_chart(rows, left)
    stats_chart(net["first"]["stats"], p.activation, right)
    outcome(net)
    left, right = st.columns(2)
    loss_chart(net["history"], t("grd.network"), left)
    layer_norms_over_steps(net["history"], right)
    st.markdown(t("grd.health.explain"))
