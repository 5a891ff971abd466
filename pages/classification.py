"""Classification: softmax + cross-entropy on real handwritten digits, trained live."""

import streamlit as st

from nnkit.experiments.classification import EXPERIMENT, RUN_METRICS, ClassificationParams as P
from ui import classifier as views
from ui import guided, model_files, runs
from ui.classifier_eval import evaluation_view
from ui.i18n import t
from ui.page import code_section, header, share_link
from ui.params import read, widget, widgets

header("cls", P)
p = read(P)
share_link()
guided.section(EXPERIMENT, p)
widget(P, "dataset")
p, data = views.choose_dataset(p)
state = views.current(p, data)
views.outdated_notice(p, state)
views.keep_run(state)
if "cls_loaded_message" in st.session_state:
    st.success(st.session_state.pop("cls_loaded_message"))

tabs = st.tabs([t(f"cls.tab.{name}") for name in ("data", "train", "evaluate", "draw", "files", "losses")])
with tabs[0]:
    views.data_view(state["params"], data)
with tabs[1]:
    st.markdown(t("cls.train.intro", input_size=data.input_size, h=data.shape[0], w=data.shape[1]))
    widgets(P, ["hidden_layers", "hidden_size", "activation", "optimizer", "lr", "batch_size", "epochs",
                "val_fraction", "loss"])
    st.code(t("cls.train.code", input_size=data.input_size, batch_size=p.batch_size), language="python")
    views.train_controls(p, state)
    runs.panel("classification", P, {m: t(f"cls.curve.{m}") for m in RUN_METRICS},
               # not the test score: runs are compared, and choices made, on validation
               {m: t(f"cls.runs.{m}") for m in ("epochs", "train_accuracy", "val_accuracy", "val_loss")},
               log_metrics=("train_loss", "val_loss", "running_loss"))
with tabs[2]:
    evaluation_view(state)
with tabs[3]:
    views.drawing_view(state)
with tabs[4]:
    model_files.files_view(p, data, state)
with tabs[5]:
    views.losses_view(p)

code_section(EXPERIMENT, p)
