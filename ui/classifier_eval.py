"""The Classification page's Evaluate tab: the validation set looked at closely, the test set once.

Everything a learner may choose by (the accuracy, the confusion matrix, the mistakes) is measured on
the validation set. The test set is scored only when asked, and its score is shown apart, with the
epoch it was taken at.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from nnkit.classify import confident_mistakes, evaluate_run
from ui import charts
from ui.classifier import dataset, device_tensors, image_grid, is_busy, validation_images, zoom
from ui.i18n import t
from ui.page import remembered


def evaluation_view(state: dict) -> None:
    run, model = state["run"], state["params"]
    data = dataset(model.dataset)
    if is_busy(state):
        st.info(t("cls.busy"))
        return
    if not run.has_weights:
        st.info(t("cls.eval.first"))
        return
    _, val, test = device_tensors(model)
    result = remembered("cls_eval", (run.uid, len(run.steps)),
                        lambda: evaluate_run(run.model, val, data.n_classes, run.loss_fn))
    st.markdown(t("cls.eval.intro"))
    st.metric(t("cls.val_acc"), f"{result.accuracy:.2%}")
    left, right = st.columns(2)
    left.subheader(t("cls.eval.per_class"))
    left.vega_lite_chart(spec=charts.bars(list(data.classes), [float(v) for v in result.per_class],
                                          t("cls.accuracy")), width="stretch")
    right.subheader(t("cls.eval.confusion"))
    picked = right.vega_lite_chart(
        spec=charts.confusion(tuple(map(tuple, result.confusion.tolist())), tuple(data.classes),
                              t("cls.true"), t("cls.predicted")),
        on_select="rerun", selection_mode="cell", key="cls_confusion")
    images, labels = validation_images(model)
    cells = (picked or {}).get("selection", {}).get("cell") or []
    if cells:
        true, predicted = data.classes.index(cells[0]["true"]), data.classes.index(cells[0]["predicted"])
        chosen = np.flatnonzero((labels == true) & (result.predicted == predicted))[:20]
        names = {"true": data.classes[true], "predicted": data.classes[predicted]}
        if len(chosen):
            st.markdown(t("cls.eval.cell", **names, n=len(chosen)))
            image_grid([images[i] for i in chosen], [f"#{i}" for i in chosen])
        else:
            st.info(t("cls.eval.cell.none", **names))
    else:
        right.caption(t("cls.eval.click"))
    st.subheader(t("cls.eval.mistakes"))
    for i in confident_mistakes(result, labels, k=4):
        a, b = st.columns([1, 4])
        a.image(zoom(images[i], 84), clamp=True,
                caption=t("cls.eval.mistake", true=data.classes[labels[i]], predicted=data.classes[result.predicted[i]]))
        b.vega_lite_chart(spec=charts.bars(list(data.classes), [float(v) for v in result.probabilities[i]],
                                           t("cls.probability")), width="stretch")
    if model.hidden_layers == 0:
        weights_view(run, data)
    test_view(run, test)


def weights_view(run, data) -> None:
    """Softmax regression's weights, one image per class: what each class score adds up pixel by pixel."""
    st.subheader(t("cls.eval.weights"))
    weight = run.model.layers[0].weight.detach().cpu().numpy().reshape(-1, *data.shape)
    scale = max(float(np.abs(weight).max()), 1e-12)
    grey = ((weight / scale + 1) * 127.5).round().astype(np.uint8)  # 0 is mid-grey, the sign is light or dark
    image_grid(list(grey), list(data.classes), columns=5)
    st.caption(t("cls.eval.weights.help"))


def test_view(run, test: tuple) -> None:
    """The test set, scored only when the learner asks, and shown apart from the validation numbers."""
    with st.container(border=True):
        st.subheader(t("cls.test.title"))
        st.markdown(t("cls.test.why"))
        if st.button(t("cls.test.score"), key="cls_score_test", icon=":material/flag:"):
            run.score_test(test)
        score = run.test_score
        if score is None:
            return
        st.metric(t("cls.test_acc"), f"{score['accuracy']:.2%}")
        st.caption(t("cls.test.when", epoch=score["epoch"]))
        if len(run.steps) != score["steps"]:
            st.caption(t("cls.test.since"))
