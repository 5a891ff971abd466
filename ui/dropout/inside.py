"""Views of one trained network taken apart: train vs eval mode and keep vs drop probability
("train_eval"), and the average of K thinned networks ("ensemble")."""

from __future__ import annotations

import streamlit as st

from nnkit.experiments.base import fmt
from nnkit.experiments.dropout_inside import KS
from ui import charts
from ui.dropout import draw
from ui.dropout.compare import points
from ui.i18n import t


def show_train_eval(p, result: dict) -> None:
    if p.rate == 0:
        st.info(t("drp.rate_zero"), icon=":material/info:")
    st.subheader(t("drp.modes.title"))
    st.markdown(t("drp.modes.text"))
    rows = [{"x": i + 1, "y": v} for i, v in enumerate(result["train_mode"])]
    st.vega_lite_chart(spec=draw.strip(rows, result["eval_mode"], t("drp.modes.pass"), t("drp.modes.p1"),
                                       t("drp.modes.eval"), (0, 1)), width="stretch")
    st.subheader(t("drp.forgot.title"))
    st.markdown(t("drp.forgot.text"))
    forgot = result["forgot"]
    a, b, c = st.columns(3)
    a.metric(t("drp.forgot.eval_acc"), f"{forgot['eval_mode']:.0%}")
    b.metric(t("drp.forgot.range"), f"{min(forgot['train_mode']):.0%} – {max(forgot['train_mode']):.0%}")
    mean_loss = sum(forgot["train_mode_loss"]) / len(forgot["train_mode_loss"])
    c.metric(t("drp.forgot.loss"), f"{forgot['eval_mode_loss']:.3f} / {mean_loss:.3f}")
    rows = [{"x": i + 1, "y": v} for i, v in enumerate(forgot["train_mode"])]
    st.vega_lite_chart(spec=draw.strip(rows, forgot["eval_mode"], t("drp.forgot.scoring"), t("drp.forgot.acc"),
                                       t("drp.modes.eval")), width="stretch")
    _keep_vs_drop(p, result)


def _keep_vs_drop(p, result: dict) -> None:
    import pandas as pd

    st.subheader(t("drp.layer.title"))
    keep = fmt(round(1 - p.rate, 6))
    st.markdown(t("drp.layer.text", rate=fmt(p.rate), keep=keep, samples=f"{p.samples:,}"))
    left, right = st.columns(2)
    train, test = t("drp.layer.code.train"), t("drp.layer.code.test")
    left.code(f"# PyTorch\nnn.Dropout(p={fmt(p.rate)})  # {train}: h * m / (1 - p)\nmodel.eval()  # {test}: h",
              language="python")
    right.code(f"# {t('drp.layer.code.course')}\np_keep = {keep}  # {train}: h * m\n# {test}: h * p_keep",
               language="python")
    layer = result["layer"]
    columns = {"h": t("drp.layer.h"), "inverted_train": t("drp.layer.inv_train"),
               "inverted_eval": t("drp.layer.inv_eval"), "original_train": t("drp.layer.orig_train"),
               "original_eval": t("drp.layer.orig_eval"), "drop_scaled_eval": t("drp.layer.drop_scaled")}
    table = pd.DataFrame({t("drp.layer.unit"): result["units"],
                          **{title: layer[name] for name, title in columns.items()}})
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        title: st.column_config.NumberColumn(format="%.4f") for title in columns.values()})
    a, b, c = st.columns(3)
    a.metric(t("drp.layer.dev_inverted"), f"{result['deviation']['inverted']:.4f}")
    b.metric(t("drp.layer.dev_original"), f"{result['deviation']['original']:.4f}")
    c.metric(t("drp.layer.dev_drop_scaled"), f"{result['drop_scaled_error']:.4f}")
    st.caption(t("drp.layer.kept", share=f"{layer['kept_share']:.4f}", keep=keep))
    st.markdown(t("drp.convnetjs"))
    if p.rate == 0.5:
        st.caption(t("drp.convnetjs.hidden"))
    else:
        st.caption(t("drp.convnetjs.error", rate=fmt(p.rate), error=f"{result['drop_scaled_error']:.4f}",
                     deviation=f"{max(result['deviation'].values()):.4f}"))


def show_ensemble(p, result: dict) -> None:
    if p.rate == 0:
        st.info(t("drp.rate_zero"), icon=":material/info:")
    left, right = st.columns([3, 2])
    rows = [{"k": k, "distance": d} for k, d in zip(result["ks"], result["distance"])]
    left.markdown(f"**{t('drp.mc.distance')}**", help=t("drp.mc.distance.help"))
    left.vega_lite_chart(spec=draw.distance(rows, t("drp.mc.k"), t("drp.mc.distance.axis")), width="stretch")
    k = right.select_slider(t("drp.mc.pick_k"), options=list(KS), value=KS[-1], key="drp_k")
    right.metric(t("drp.mc.val_acc", k=k), f"{result['val_acc'][k]:.0%}")
    right.metric(t("drp.mc.eval_acc"), f"{result['eval_val_acc']:.0%}")
    right.metric(t("drp.mc.spread"), f"{float(result['std'].max()):.3f}")
    grid, shown = result["grid"], points(result["data"])
    a, b, c = st.columns(3)
    a.vega_lite_chart(spec=charts.regions({**grid, "p": result["eval_p"]}, shown, t("drp.mc.eval_region"), size=280),
                      width="stretch")
    b.vega_lite_chart(spec=charts.regions({**grid, "p": result["mean_p"][k]}, shown,
                                          t("drp.mc.mean_region", k=k), size=280), width="stretch")
    c.vega_lite_chart(spec=draw.uncertainty({**grid, "p": result["std"]}, shown,
                                            t("drp.mc.std_region", k=KS[-1]), size=280), width="stretch")
    st.markdown(t("drp.ensemble.explain"))
