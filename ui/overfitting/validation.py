"""Views of the validation sections: model selection by K-fold cross-validation, and data augmentation."""

from __future__ import annotations

import streamlit as st

from nnkit.experiments.overfitting_validation import CANDIDATES, VARIANTS
from ui import charts
from ui.classifier import image_grid
from ui.i18n import t
from ui.overfitting.common import gap_chart, set_names

# category10: ten folds told apart; the test points light grey, out of the way
FOLD_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                "#17becf")


def _folds_drawn(result: dict) -> None:
    data, folds = result["data"], result["folds"]
    fold_of = {i: k for k, (_, val) in enumerate(folds) for i in val.tolist()}
    test = t("ovf.set.test")
    points = [{"x0": float(data.x[i, 0]), "x1": float(data.x[i, 1]), "label": int(data.y[i]),
               "set": t("ovf.cv.fold", k=fold_of[i] + 1) if i in fold_of else test} for i in range(len(data.x))]
    colours = tuple((t("ovf.cv.fold", k=k + 1), FOLD_COLOURS[k % len(FOLD_COLOURS)]) for k in range(len(folds)))
    left, right = st.columns([2, 3])
    left.vega_lite_chart(spec=charts.split_scatter(points, colours=colours + ((test, "#d9d9d9"),)), width="content")
    right.markdown(t("ovf.cv.folds", k=len(folds), pool=len(fold_of), test=len(data.index["test"]),
                     sizes=", ".join(str(len(val)) for _, val in folds)))


def show_validation(p, result: dict) -> None:
    _folds_drawn(result)
    cvs = result["cv"]
    labels = [t("ovf.cv.width", units=w) for w in CANDIDATES[:len(cvs)]]
    chosen = result.get("chosen")
    if chosen is not None:
        best, refit, test = result["best"], result["refit"], result.get("test")
        bar = cvs[best].mean + cvs[best].standard_error
        means = [{"model": label, "mean": cv.mean, "low": cv.mean - cv.standard_error,
                  "high": cv.mean + cv.standard_error,
                  "chosen": t("ovf.cv.chosen_mark") if i == chosen else t("ovf.cv.other_mark")}
                 for i, (label, cv) in enumerate(zip(labels, cvs))]
        folds = [{"model": label, "loss": s} for label, cv in zip(labels, cvs) for s in cv.scores]
        marks = (t("ovf.cv.chosen_mark"), t("ovf.cv.other_mark"))
        st.vega_lite_chart(spec=charts.cv_scores(means, folds, bar, marks, t("ovf.cv.candidates"),
                                                 t("ovf.cv.val_loss"), t("ovf.cv.bar")), width="stretch")
        st.markdown(t("ovf.cv.rule", best=CANDIDATES[best], mean=f"{cvs[best].mean:.4f}",
                      se=f"{cvs[best].standard_error:.4f}", bar=f"{bar:.4f}", chosen=CANDIDATES[chosen],
                      chosen_mean=f"{cvs[chosen].mean:.4f}"))
        a, b, c, d = st.columns(4)
        a.metric(t("ovf.cv.best"), CANDIDATES[best])
        b.metric(t("ovf.cv.chosen"), CANDIDATES[chosen], help=t("ovf.cv.chosen.help"))
        if test is not None:
            c.metric(t("ovf.test_loss"), f"{test['loss']:.4f}")
            d.metric(t("ovf.test_acc"), f"{test['acc']:.1%}")
            st.info(t("ovf.cv.refit", width=CANDIDATES[chosen], n=len(result["data"].index["train"])
                      + len(result["data"].index["val"]), train=f"{refit.train_loss:.4f}"), icon=":material/lock:")
    shown = result["nets"][chosen if chosen is not None else -1]
    rows = [{"epoch": e["epoch"] + 1, "loss": e["val_loss"], "fold": t("ovf.cv.fold", k=k + 1)}
            for k, net in enumerate(shown) for e in net.history[::max(1, len(net.history) // 300)]]
    if rows:
        st.subheader(t("ovf.cv.per_fold", width=shown[0].hidden[0]))
        st.vega_lite_chart(spec=charts.lines(rows, "epoch", "loss", "fold", t("ovf.epoch"), t("ovf.cv.val_loss")),
                           width="stretch")
        st.caption(t("ovf.cv.fold_one"))
        gap_chart(shown[0].history)
    st.markdown(t("ovf.validation.explain"))


def show_augmentation(p, result: dict) -> None:
    originals, versions = result["preview"]
    st.subheader(t("ovf.aug.preview"))
    images, captions = [], []
    for original, copies in zip(originals.numpy(), versions.numpy()):
        images += [original, *copies]
        captions += [t("ovf.aug.original")] + [""] * len(copies)
    image_grid(images, captions, columns=1 + len(versions[0]))
    st.caption(t("ovf.aug.sizes", **result["sizes"]))
    nets = result["nets"]
    names = set_names()
    rows = [{"epoch": e["epoch"] + 1, "accuracy": e[f"{s}_acc"],
             "curve": t("ovf.model_set", model=t(f"ovf.aug.{name}"), set=names[s])}
            for name, net in nets.items() for s in ("val", "train") for e in net.history]
    if rows:
        st.subheader(t("ovf.aug.curves"))
        st.vega_lite_chart(spec=charts.lines(rows, "epoch", "accuracy", "curve", t("ovf.epoch"), t("ovf.aug.accuracy")),
                           width="stretch")
    tests = result.get("tests", {})
    columns = st.columns(len(VARIANTS))
    for column, name in zip(columns, nets):
        net = nets[name]
        column.markdown(f"**{t(f'ovf.aug.{name}')}**")
        one, two = column.columns(2)
        one.metric(t("ovf.aug.val_acc"), f"{net.history[-1]['val_acc']:.1%}" if net.history else "-")
        if name in tests:
            two.metric(t("ovf.test_acc"), f"{tests[name]['acc']:.1%}")
        gap_chart(net.history, column)
    if tests:
        plain, augmented = (nets[name].history[-1]["val_acc"] for name in VARIANTS)
        verdict = "helped" if augmented > plain + 0.005 else "hurt" if augmented < plain - 0.005 else "same"
        st.markdown(t(f"ovf.aug.{verdict}", plain=f"{plain:.1%}", augmented=f"{augmented:.1%}",
                      test_plain=f"{tests['plain']['acc']:.1%}", test_augmented=f"{tests['augmented']['acc']:.1%}"))
        st.info(t("ovf.aug.test_once"), icon=":material/lock:")
    st.markdown(t("ovf.augmentation.explain"))
