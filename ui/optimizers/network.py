"""View of the optimizers on a real network: training and validation loss and validation accuracy
against epoch and against wall seconds, the final numbers per optimizer, and the course's advice
set next to what this run showed, in sentences built from its numbers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nnkit.experiments import optimizers_network as N
from nnkit.experiments.optimizers import OptimizersParams as P
from ui import charts
from ui.i18n import t
from ui.params import choice_label, widget, widgets

CURVES = ("train_loss", "val_loss", "val_acc")


def settings_network(p: P) -> None:
    """The data and training, then the optimizers, then the learning rates of the chosen ones."""
    switch = "adam_sgd" in p.net_optimizers
    widgets(P, ["subset", "net_epochs", "net_batch_size", *(["switch_epoch"] if switch else [])])
    widget(P, "net_optimizers")
    rates = [f"net_lr_{n}" for n in p.net_optimizers]
    if switch and "adam" not in p.net_optimizers:  # its Adam half reads Adam's rate
        rates.insert(rates.index("net_lr_adam_sgd"), "net_lr_adam")
    widgets(P, rates, columns=5)


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _rate(p: P, name: str) -> str:
    if name == "adam_sgd":
        return f"{p.net_lr_adam:g} → {p.net_lr_adam_sgd:g}"
    return f"{getattr(p, f'net_lr_{name}'):g}"


def _compare(mine: float, theirs: float, same: float) -> str:
    return "same" if abs(mine - theirs) < same else "higher" if mine > theirs else "lower"


def advice(p: P, s: dict, names: dict[str, str]) -> list[str]:
    """The course's advice, each piece followed by what this run measured (or what it lacks)."""
    nets, a = s["optimizers"], s["advice"]
    adam, sgd, best, same = a["adam"], a["sgd"], a["best"], a["same"]
    acc = {n: _pct(v["val_acc"]) for n, v in nets.items()}

    def versus(mine: str, other: str, key: str = "opt.net.vs") -> str:
        return t(f"{key}.{_compare(nets[mine]['val_acc'], nets[other]['val_acc'], same)}", name=names[other],
                 acc=acc[other])

    out = []
    if adam:
        reached = nets[adam]["reached_epoch"]
        reach = t("opt.net.reach", epoch=reached) if reached else t("opt.net.reach.never", epochs=nets[adam]["epochs"])
        rank = "best" if adam == best else {"same": "tied"}.get(_compare(nets[adam]["val_acc"], nets[best]["val_acc"],
                                                                         same), "behind")
        verdict = t(f"opt.net.rank.{rank}", best=names[best], acc=acc[best], n=len(a["ranked"]),
                    gap=f"{100 * (nets[best]['val_acc'] - nets[adam]['val_acc']):.1f}")
        out.append(t("opt.net.advice.adam", name=names[adam], lr=_rate(p, adam), reach=reach, acc=acc[adam],
                     verdict=verdict))
    else:
        out.append(t("opt.net.advice.adam.missing"))
    if sgd and adam:
        gap = {n: f"{nets[n]['val_loss'] - nets[n]['train_loss']:.3f}" for n in (sgd, adam)}
        out.append(t("opt.net.advice.sgd", name=names[sgd], lr=_rate(p, sgd), acc=acc[sgd], vs=versus(sgd, adam),
                     adam=names[adam], mine=gap[sgd], theirs=gap[adam]))
    elif sgd:
        out.append(t("opt.net.advice.sgd.alone", name=names[sgd], lr=_rate(p, sgd), acc=acc[sgd]))
    else:
        out.append(t("opt.net.advice.sgd.missing"))
    if a["switch"]:
        others = [versus("adam_sgd", n, "opt.net.vs.alone") for n in (adam, sgd) if n]
        said = {"k": s["switch_epoch"], "acc": acc["adam_sgd"]}
        out.append(t("opt.net.advice.switch", **said, vs=t("opt.net.and").join(others)) if others
                   else t("opt.net.advice.switch.alone", **said))
    else:
        out.append(t("opt.net.advice.switch.missing"))
    if len(a["ranked"]) > 1:
        top, bottom = a["ranked"][0], a["ranked"][-1]
        out.append(t("opt.net.spread", best=names[top], worst=names[bottom], image=f"{100 * same:.2f}",
                     gap=f"{100 * (nets[top]['val_acc'] - nets[bottom]['val_acc']):.1f}"))
    return out


def show_network(p: P, result: dict) -> None:
    s = N.summary_network(result)
    names = {n: choice_label(n) for n in result["trained"]}
    nets = s["optimizers"]
    st.caption(t("opt.net.setup", n_train=s["n_train"], n_val=s["n_val"], hidden=N.HIDDEN[0]))
    if "adam_sgd" in p.net_optimizers and p.switch_epoch >= p.net_epochs:
        st.info(t("opt.net.no_switch", epochs=p.net_epochs), icon=":material/info:")
    diverged = [names[n] for n, v in nets.items() if v["outcome"] == "diverged"]
    if diverged:
        st.error(t("opt.net.diverged", names=", ".join(diverged)), icon=":material/trending_up:")
    rows = [{**row, "optimizer": names[n]} for n, net in result["trained"].items() for row in N.rows(net)]
    if rows:
        for curve in CURVES:
            left, right = st.columns(2)
            for box, x in ((left, "epoch"), (right, "seconds")):
                box.markdown(f"**{t(f'opt.net.chart.{curve}.{x}')}**")
                box.vega_lite_chart(spec=charts.lines(rows, x, curve, "optimizer", t(f"opt.net.axis.{x}"),
                                                      t(f"opt.net.axis.{curve}"), log_y=curve != "val_acc",
                                                      height=200), width="stretch")
    table = [{t("opt.net.col.optimizer"): names[n], t("opt.net.col.lr"): _rate(p, n),
              t("opt.net.col.val_acc"): _pct(v["val_acc"]) if v["outcome"] != "diverged" else t("runs.outcome.diverged"),
              t("opt.net.col.best"): t("opt.net.best", acc=_pct(v["best_val_acc"]), epoch=v["best_epoch"])
              if v["best_epoch"] else "–",
              t("opt.net.col.val_loss"): f"{v['val_loss']:.4f}", t("opt.net.col.train_loss"): f"{v['train_loss']:.4f}",
              t("opt.net.col.reached"): t("opt.net.reached", epoch=v["reached_epoch"], seconds=f"{v['reached_seconds']:.2f}")
              if v["reached_epoch"] else "–",
              t("opt.net.col.seconds"): f"{v['seconds']:.2f}"} for n, v in nets.items()]
    st.table(pd.DataFrame(table))
    st.markdown(f"**{t('opt.net.advice')}**")
    st.markdown("\n".join(f"- {line}" for line in advice(p, s, names)))
    st.caption(t("opt.net.explain"))
