"""Activations: f and f', softmax with temperature, and why a network needs a non-linearity."""

import streamlit as st

from nnkit.activations import ACTIVATIONS, SATURATION_THRESHOLD, softmax
from nnkit.experiments.activations import EXPERIMENT, ActivationsParams as P, curves, train_nonlinearity, training_record
from ui import charts, guided, runs
from ui.i18n import t
from ui.shared import shared
from ui.page import code_section, header, share_link
from ui.params import choice_label, read, widget, widgets

header("act", P)
p = read(P)
share_link()
guided.section(EXPERIMENT, p)

# 1. f and f'
st.header(t("act.curves"))
left, mid, right = st.columns([3, 1, 1])
widget(P, "functions", left)
widget(P, "x_min", mid)
widget(P, "x_max", right)
widget(P, "leaky_slope", left)
if not p.functions:
    st.info(t("act.pick_one"))
else:
    drawn = curves(p)
    f_rows, df_rows, zones = [], [], []
    for c in drawn:
        name = choice_label(c.name)
        f_rows += [{"x": x, "y": y, "function": name} for x, y in zip(c.x[::2], c.f[::2])]
        df_rows += [{"x": x, "y": y, "function": name} for x, y in zip(c.x[::2], c.df[::2])]
        zones += [{"start": a, "end": b, "function": name} for a, b in c.saturated]
    col_f, col_df = st.columns(2)
    col_f.subheader(t("act.f"))
    col_f.vega_lite_chart(spec=charts.curves(f_rows, "f(x)"), width="stretch")
    col_df.subheader(t("act.df"))
    col_df.vega_lite_chart(spec=charts.curves(df_rows, "f'(x)"), width="stretch")
    strip = charts.zone_strip(zones, [choice_label(c.name) for c in drawn], (p.x_min, p.x_max),
                              f"|f'| < {SATURATION_THRESHOLD}")
    col_df.vega_lite_chart(spec=strip, width="stretch")
    col_df.caption(t("act.saturation", threshold=SATURATION_THRESHOLD))
    for start in range(0, len(p.functions), 4):
        for col, name in zip(st.columns(4), p.functions[start:start + 4]):
            with col.container(border=True):
                st.markdown(f"**{choice_label(name)}**")
                st.latex(ACTIVATIONS[name].latex)
                st.caption(t(f"act.explain.{name}"))

# 2. softmax
st.header(t("act.softmax"))
st.markdown(t("act.softmax.intro"))
left, right = st.columns([1, 2])
widget(P, "logits", left)
widget(P, "temperature", left)
probs = softmax(list(p.logits), p.temperature)
labels = [f"z{i + 1} = {z:g}" for i, z in enumerate(p.logits)]
right.vega_lite_chart(spec=charts.bars(labels, [float(v) for v in probs], t("act.probability")), width="stretch")
left.metric(t("act.sum"), f"{probs.sum():.6f}")
left.caption(t("act.temperature.explain"))

# 3. why non-linearity
st.header(t("act.why"))
st.markdown(t("act.why.intro"))
widgets(P, ["dataset", "n_points", "noise", "activation", "hidden_size", "hidden_layers", "lr", "epochs"])

train_key = (p.dataset, p.n_points, p.noise, p.activation, p.hidden_size, p.hidden_layers, p.lr, p.epochs,
             p.leaky_slope, p.seed)
trained = shared("act", train_key, lambda listen: train_nonlinearity(p, listen), total=2 * p.epochs, unit="epoch",
                 on_stopped=lambda partial: runs.add("activations", training_record(p, partial)))
if trained is not None:
    runs.add("activations", training_record(p, trained))
    columns = st.columns(2)
    for col, role in zip(columns, ["with", "without"]):
        net = trained["nets"].get(role)
        title = t(f"act.{role}", activation=choice_label(p.activation))
        if net is None or net.outcome == "diverged":
            col.subheader(title)
            col.error(t("act.diverged"))
            continue
        col.vega_lite_chart(spec=charts.regions(net.region, trained["points"], title, size=420), width="stretch")
        a, b = col.columns(2)
        a.metric(t("act.accuracy"), f"{net.accuracy:.1%}")
        b.metric(t("act.loss"), f"{net.loss:.4f}")

    history = [{"epoch": e["epoch"] + 1, "loss": e["train_loss"], "run": t(f"act.{role}", activation=choice_label(p.activation))}
               for role, net in trained["nets"].items() for e in net.history]
    st.vega_lite_chart(spec=charts.lines(history, "epoch", "loss", "run", t("act.epoch"), t("act.loss")), width="stretch")

    hidden = trained["nets"]["with"].hidden
    if hidden is not None:
        st.subheader(t("act.hidden"))
        left, right = st.columns([1, 1])
        left.vega_lite_chart(spec=charts.split_view(hidden, t("act.hidden.u"), t("act.hidden.v"), t("act.hidden.chart"),
                                                    size=420), width="stretch")
        right.markdown(t("act.hidden.explain"))
    st.markdown(t("act.why.takeaway"))
runs.panel("activations", P, {m: t(f"act.runs.{m}") for m in ("loss", "acc", "loss_without", "acc_without")},
           {"accuracy": t("act.runs.accuracy"), "accuracy_without": t("act.runs.accuracy_without"),
            "loss": t("act.runs.loss"), "loss_without": t("act.runs.loss_without")}, log_metrics=("loss", "loss_without"))

code_section(EXPERIMENT, p)
