"""Views of the Schedulers page's training, range test and batch-size sections: the curves over a shared
step axis, and a table of the numbers each trained network ended with."""

from __future__ import annotations

import math

import streamlit as st

from nnkit.runs import thin
from ui import charts
from ui.i18n import t
from ui.params import choice_label

MAX_POINTS = 400  # per schedule sent to the browser


def _score(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.4f}"


def _outcome(fitted) -> str:
    return t(f"sch.outcome.{fitted.outcome}", step=len(fitted.step_losses))


def show_training(p, result: dict) -> None:
    fitted = result["fitted"]
    rows = []
    for name, f in fitted.items():
        label = choice_label(name)
        points = thin(list(enumerate(zip(f.step_losses, f.step_lrs))), MAX_POINTS)
        rows += [{"step": i, "loss": loss, "lr": lr, "schedule": label} for i, (loss, lr) in points]
    if rows:
        st.vega_lite_chart(spec=charts.loss_over_lr(rows, t("sch.train.step", per=result["steps_per_epoch"]),
                                                    t("sch.train.batch_loss"), t("sch.lr")), width="stretch")
    st.table([{t("sch.col.schedule"): choice_label(name),
               t("sch.col.val_accuracy"): _score(f.final.get("val_acc", math.nan)),
               t("sch.col.val_loss"): _score(f.final.get("val_loss", math.nan)),
               t("sch.col.max_batch_loss"): _score(max(f.step_losses, default=math.nan)),
               t("sch.col.lr_last"): f"{f.step_lrs[-1]:.4g}" if f.step_lrs else "—",
               t("sch.col.outcome"): _outcome(f)}
              for name, f in fitted.items()])
    st.caption(t("sch.train.explain"))


def show_range_test(p, result: dict) -> None:
    test = result["test"]
    if not test.lrs:
        return
    rows = [{"lr": lr, "loss": loss, "curve": t("sch.range.batch")} for lr, loss in zip(test.lrs, test.losses)]
    rows += [{"lr": lr, "loss": s, "curve": t("sch.range.smoothed")} for lr, s in zip(test.lrs, test.smoothed)]
    rates = result["rates"]
    marks = [{"lr": rates[n], "label": t(f"sch.range.rate.{n}")} for n in ("suggested", "minimum") if n in rates]
    st.vega_lite_chart(spec=charts.range_test(rows, marks, t("sch.lr"), t("sch.train.batch_loss")), width="stretch")
    numbers = {"batches": len(test.lrs), "lr": f"{test.lrs[-1]:.3g}", "best": f"{test.lrs[test.best_index]:.3g}",
               "suggested": f"{test.suggested_lr:.3g}"}
    st.markdown(t("sch.range.blew_up", **numbers) if test.blew_up else t("sch.range.no_blow_up", **numbers))
    st.table([{t("sch.col.rate"): t(f"sch.range.rate.{name}"), t("sch.col.lr"): f"{rates[name]:.4g}",
               t("sch.col.val_accuracy"): _score(f.final.get("val_acc", math.nan)),
               t("sch.col.val_loss"): _score(f.final.get("val_loss", math.nan)), t("sch.col.outcome"): _outcome(f)}
              for name, f in result["fitted"].items()])
    st.caption(t("sch.range.explain"))


def show_batch_size(p, result: dict) -> None:
    labels = {name: t(f"sch.batch.run.{name}", batch=b, lr=f"{lr:.4g}") for name, (b, lr) in result["runs"].items()}
    rows = [{"epoch": e["epoch"] + 1, "loss": e["val_loss"], "run": labels[name]}
            for name, f in result["fitted"].items() for e in f.epochs]
    if rows:
        st.vega_lite_chart(spec=charts.lines(rows, "epoch", "loss", "run", t("sch.epoch"), t("sch.val_loss"),
                                             log_y=True), width="stretch")
    st.table([{t("sch.col.run"): labels[name], t("sch.col.steps"): len(f.step_losses),
               t("sch.col.val_accuracy"): _score(f.final.get("val_acc", math.nan)),
               t("sch.col.val_loss"): _score(f.final.get("val_loss", math.nan)), t("sch.col.outcome"): _outcome(f)}
              for name, f in result["fitted"].items()])
    st.caption(t("sch.batch.explain", k=p.bs_factor))
