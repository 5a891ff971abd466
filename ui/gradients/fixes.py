"""View of the fixes: the broken and the fixed network side by side (verdict, loss curve, per-layer
norms), and the gradient norm before and after clipping at every step."""

from __future__ import annotations

import math

import streamlit as st

from nnkit.experiments.base import fmt
from nnkit.runs import thin
from ui import charts
from ui.gradients.common import MAX_STEPS, loss_chart, norm_rows, norms_chart, outcome, sci, verdict
from ui.i18n import t
from ui.params import choice_label


def setup_text(setup: dict) -> str:
    parts = [choice_label(setup["activation"]), t("grd.setup.init", init=choice_label(setup["init"]))]
    parts += [t(f"grd.setup.{k}") for k in ("batch_norm", "residual") if setup[k]]
    if setup["clip"] != "none":
        parts.append(choice_label(setup["clip"]))
    return " · ".join(parts)


def show_fixes(p, result: dict) -> None:
    nets = result["nets"]
    columns = dict(zip(nets, st.columns(2)))
    for role, net in nets.items():
        where = columns[role]
        where.subheader(t(f"grd.role.{role}"))
        where.caption(setup_text(net["setup"]))
        verdict(net, where)
        outcome(net, where)
        history = net["history"]
        a, b = where.columns(2)
        a.metric(t("grd.final_loss"), sci(history[-1]["loss"]) if history else "—")
        b.metric(t("grd.max_norm"), sci(max(e["grad_norm"] for e in history)) if history else "—")
        loss_chart(history, t(f"grd.role.{role}"), where)
    norms_chart([r for role, net in nets.items() for r in norm_rows(net["first"]["norms"], t(f"grd.role.{role}"))])
    fixed = nets.get("fixed")
    if fixed is not None and p.clip != "none" and fixed["history"]:
        st.markdown(f"**{t('grd.chart.clipping', threshold=fmt(p.clip_threshold))}**")
        rows = [{"step": e["epoch"] + 1, "norm": e[key], "when": t(f"grd.clip.{key}")}
                for e in thin(fixed["history"], MAX_STEPS) for key in ("grad_norm", "grad_norm_clipped")
                if 0 < e[key] < math.inf]
        st.vega_lite_chart(spec=charts.lines(rows, "step", "norm", "when", t("grd.step"), t("grd.norm"), log_y=True),
                           width="stretch")
    st.markdown(t("grd.fixes.explain"))
