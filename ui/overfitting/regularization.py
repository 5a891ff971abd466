"""Views of the training-side remedies: early stopping, and weight penalties (L1, L2, p-norm,
weight decay) with the geometry of why L1 gives zeros."""

from __future__ import annotations

import numpy as np
import streamlit as st

from nnkit.experiments.base import fmt
from nnkit.experiments.overfitting_regularization import DECAY_EPOCHS, NEAR_ZERO, SGD_LR, WIDE, near_zero
from nnkit.experiments.overfitting import summary
from ui import charts
from ui.i18n import t
from ui.overfitting.common import gap_chart

BINS = 61  # the weight histograms' bins, symmetric around 0


def show_early_stopping(p, result: dict) -> None:
    s = summary(result)
    best, stop = s["best_epoch"], s["stopped_epoch"]
    marks = ([{"x": stop, "note": t("ovf.es.stopped_at", epoch=stop)}] if stop else []) + \
        ([{"x": best, "note": t("ovf.es.restored_at", epoch=best)}] if best else [])
    st.markdown(t("ovf.es.network", layers=len(WIDE), units=WIDE[0]))
    gap_chart(result["full"].history, marks=marks)
    st.caption(t("ovf.es.chart", epochs=s["epochs"]))
    if stop is None:
        st.info(t("ovf.es.never", patience=p.patience, epochs=s["epochs"]))
    a, b, c = st.columns(3)
    a.metric(t("ovf.es.best_val"), f"{s['best_val_loss']:.4f}", help=t("ovf.es.best_val.help", epoch=best))
    b.metric(t("ovf.es.stopped_val"), f"{s['stopped_val_loss']:.4f}",
             help=t("ovf.es.stopped_val.help", epoch=stop or s["epochs"]))
    c.metric(t("ovf.es.final_val"), f"{s['final_val_loss']:.4f}", help=t("ovf.es.final_val.help", epochs=s["epochs"]))
    if "test" in s:
        a, b, c, d = st.columns(4)
        a.metric(t("ovf.es.test_stopped"), f"{s['test_stopped']['loss']:.4f}")
        b.metric(t("ovf.es.acc_stopped"), f"{s['test_stopped']['acc']:.1%}")
        c.metric(t("ovf.es.test_restored"), f"{s['test']['loss']:.4f}")
        d.metric(t("ovf.es.acc_restored"), f"{s['test']['acc']:.1%}")
        st.info(t("ovf.es.test.why"), icon=":material/lock:")
    st.markdown(t("ovf.early_stopping.explain"))


def penalty_name(p_norm: float) -> str:
    return {1.0: "L1", 2.0: "L2"}.get(p_norm, f"L{fmt(p_norm)}")


def _weights(model) -> np.ndarray:
    return np.concatenate([q.detach().flatten().numpy() for q in model.parameters() if q.ndim >= 2])


def weight_histograms(models: dict) -> None:
    values = {name: _weights(m) for name, m in models.items()}
    edge = float(np.quantile(np.abs(np.concatenate(list(values.values()))), 0.99))
    bins = np.linspace(-edge, edge, BINS)
    rows = [{"start": float(lo), "end": float(hi), "count": int(n), "model": name}
            for name, w in values.items() for lo, hi, n in zip(bins[:-1], bins[1:], np.histogram(w, bins)[0])]
    st.vega_lite_chart(spec=charts.histograms(rows, t("ovf.reg.weight"), t("ovf.reg.count")), width="stretch")
    st.caption(t("ovf.reg.histogram", edge=f"{edge:.2f}"))


def show_regularization(p, result: dict) -> None:
    s = summary(result)
    name, lam = penalty_name(p.p_norm), fmt(p.lam)
    with_name, none_name = t("ovf.reg.with", name=name, lam=lam), t("ovf.reg.none")
    st.subheader(t("ovf.reg.penalty.title", name=name, p=fmt(p.p_norm), lam=lam))
    a, b, c, d = st.columns(4)
    a.metric(t("ovf.reg.val_none"), f"{s['none']['val_loss']:.4f}")
    b.metric(t("ovf.reg.val_with", name=name), f"{s['penalized']['val_loss']:.4f}")
    c.metric(t("ovf.reg.zero_none", threshold=fmt(NEAR_ZERO)), f"{s['none']['near_zero']:.1%}")
    d.metric(t("ovf.reg.zero_with", name=name, threshold=fmt(NEAR_ZERO)), f"{s['penalized']['near_zero']:.1%}")
    shown = next(n for lam_, n in zip(result["lams"], result["sweep"]) if lam_ == p.lam)
    left, right = st.columns(2)
    rows = [{"epoch": e["epoch"] + 1, "loss": e["val_loss"], "model": label}
            for label, n in ((none_name, result["none"]), (with_name, shown)) for e in n.history]
    left.caption(t("ovf.reg.val_curves"))
    left.vega_lite_chart(spec=charts.lines(rows, "epoch", "loss", "model", t("ovf.epoch"), t("ovf.loss")),
                         width="stretch")
    with right:
        right.caption(t("ovf.reg.histogram.title"))
        weight_histograms({none_name: result["none"].model, with_name: shown.model})
    sweep = [{"lam": lam_, "share": near_zero(n.model)} for lam_, n in zip(result["lams"], result["sweep"])]
    chosen = {"lam": p.lam, "share": s["penalized"]["near_zero"]}
    st.vega_lite_chart(spec=charts.share_sweep(sweep, chosen, t("ovf.reg.lam_axis"),
                                               t("ovf.reg.share_axis", threshold=fmt(NEAR_ZERO))), width="stretch")
    st.caption(t("ovf.reg.sweep", name=name, lams=", ".join(fmt(v) for v in result["lams"]),
                 threshold=fmt(NEAR_ZERO)))
    show_decay(p, s["decay"])
    show_geometry(p, result["geometry"])
    st.markdown(t("ovf.regularization.explain"))


def show_decay(p, decay: dict) -> None:
    st.subheader(t("ovf.reg.decay.title"))
    st.markdown(t("ovf.reg.decay.intro", epochs=DECAY_EPOCHS, wd=fmt(p.weight_decay), half=fmt(p.weight_decay / 2),
                  sgd_lr=fmt(SGD_LR), lr=fmt(p.lr)))
    pairs = {"sgd": ("SGD + L2", "SGD(weight_decay)"), "adam": ("Adam + L2", "AdamW(weight_decay)")}
    st.dataframe({t("ovf.reg.decay.pair"): [f"{a} vs {b}" for a, b in pairs.values()],
                  t("ovf.reg.decay.max_diff"): [f"{decay[k]['max_diff']:.2e}" for k in pairs],
                  t("ovf.reg.decay.val_penalty"): [f"{decay[k]['penalty_val_loss']:.4f}" for k in pairs],
                  t("ovf.reg.decay.val_decay"): [f"{decay[k]['decay_val_loss']:.4f}" for k in pairs]},
                 hide_index=True, width="stretch")
    st.markdown(t("ovf.reg.decay.explain", sgd=f"{decay['sgd']['max_diff']:.1e}",
                  adam=f"{decay['adam']['max_diff']:.2f}"))


def _outline(kind: str, size: float) -> list[tuple[float, float]]:
    if kind == "l1":
        return [(size, 0.0), (0.0, size), (-size, 0.0), (0.0, -size), (size, 0.0)]
    angles = np.linspace(0, 2 * np.pi, 73)
    return list(zip(size * np.cos(angles), size * np.sin(angles)))


def show_geometry(p, geo: dict) -> None:
    st.subheader(t("ovf.reg.geometry.title"))
    st.markdown(t("ovf.reg.geometry.intro"))
    a, b = np.meshgrid(geo["w1"], geo["w2"])
    grid = [{"w1": float(x), "w2": float(y), "loss": float(v)} for x, y, v in zip(a.ravel(), b.ravel(),
                                                                                 geo["loss"].ravel())]
    names = {k: t(f"ovf.reg.geometry.{k}") for k in ("l1", "l2")}
    shapes = [{"w1": float(x), "w2": float(y), "shape": names[k], "order": i}
              for k in ("l1", "l2") for i, (x, y) in enumerate(_outline(k, geo["budgets"][k]))]
    shapes += [{"w1": float(w[0]), "w2": float(w[1]), "shape": t("ovf.reg.geometry.path", name=names[k]), "order": i}
               for k in ("l1", "l2") for i, w in enumerate(geo["paths"][k])]
    shapes += [{"w1": float(w[0]), "w2": float(w[1]), "shape": t("ovf.reg.geometry.level", name=names[k]), "order": i}
               for k in ("l1", "l2") for i, w in enumerate(geo["levels"][k])]
    points = [{"w1": float(geo["ols"][0]), "w2": float(geo["ols"][1]), "name": t("ovf.reg.geometry.ols")}]
    points += [{"w1": float(w[0]), "w2": float(w[1]), "name": t("ovf.reg.geometry.optimum", name=names[k])}
               for k, w in geo["optima"].items()]
    left, right = st.columns([3, 2])
    left.vega_lite_chart(spec=charts.norm_balls(grid, shapes, points, "w₁", "w₂", t("ovf.reg.geometry.loss")),
                         width="stretch")
    l1, l2 = geo["optima"]["l1"], geo["optima"]["l2"]
    right.markdown(t("ovf.reg.geometry.numbers", lam=fmt(p.geo_lam), l1=f"({l1[0]:.3f}, {l1[1]:.3f})",
                     l2=f"({l2[0]:.3f}, {l2[1]:.3f})", lams=f"0 … {fmt(float(geo['lams'][-1]))}"))
    threshold = geo["threshold"]
    right.markdown(t("ovf.reg.geometry.threshold", threshold=fmt(threshold)) if threshold is not None
                   else t("ovf.reg.geometry.no_zero"))
