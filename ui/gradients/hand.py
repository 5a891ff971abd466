"""View of backpropagation by hand: the 2-2-1 network as a computation graph whose values appear
step by step (forward, then backward, then the update), the steps so far with their formulas, and
every hand-computed gradient beside autograd's."""

from __future__ import annotations

import streamlit as st

from nnkit.backprop import PARAMS, hand_gradients
from ui.i18n import t
from ui.text import literal

_AT = "grd.hand.at"  # (the settings it was stepping through, how many steps are shown)


def _graph(values: dict[str, float], grads: dict[str, float], weights: dict[str, float]) -> str:
    """The network in DOT: each node's value once computed, its gradient once the backward pass reaches it."""
    def label(node: str, name: str) -> str:
        parts = [name]
        inner = f"z{node[1:]}" if node in ("h1", "h2") else None
        if inner in values:
            parts.append(f"z = {values[inner]:.4g}")
        if node in values:
            parts.append(f"{node} = {values[node]:.4g}" if inner else f"= {values[node]:.4g}")
        if node in grads:
            parts.append(f"∂L/∂{node} = {grads[node]:.4g}")  # h1, not z1: named
        return "\\n".join(parts)

    def edge(weight: str) -> str:
        text = f"{weight} = {weights[weight]:.3g}"
        if weight in grads:
            text += f"\\n∂L/∂{weight} = {grads[weight]:.3g}"
        return text

    lines = ["digraph { rankdir=LR; node [shape=circle, fontsize=10, width=1.1, fixedsize=true]; "
             "edge [fontsize=9];"]
    for node, name in (("x1", "x1"), ("x2", "x2"), ("h1", "z1 → h1"), ("h2", "z2 → h2"), ("o", "o"), ("L", "L")):
        lines.append(f'"{node}" [label="{label(node, name)}"];')
    for j in (1, 2):
        for i in (1, 2):
            lines.append(f'"x{i}" -> "h{j}" [label="{edge(f"w{j}{i}")}"];')
        lines.append(f'"h{j}" -> "o" [label="{edge(f"v{j}")}"];')
    lines.append('"o" -> "L";')
    return "\n".join(lines) + "}"


def show_hand(p, result: dict) -> None:
    steps = result["steps"]
    key = (p.activation, p.hand_loss, p.hand_x, p.hand_y, p.hand_weights, p.lr)
    if st.session_state.get(_AT, (None, 0))[0] != key:
        st.session_state[_AT] = (key, 0)  # new numbers: start from the first step again
    total = len(steps)

    def move(to) -> None:  # a callback: the step changes before the buttons are drawn again
        st.session_state[_AT] = (key, max(0, min(total, to(st.session_state[_AT][1]))))

    shown = st.session_state[_AT][1]
    back, forward, everything, again = st.columns(4)
    back.button(t("grd.hand.back"), key="grd.hand.back", icon=":material/arrow_back:", disabled=shown == 0,
                on_click=move, args=(lambda n: n - 1,))
    forward.button(t("grd.hand.next"), key="grd.hand.next", icon=":material/arrow_forward:", type="primary",
                   disabled=shown == total, on_click=move, args=(lambda n: n + 1,))
    everything.button(t("grd.hand.all"), key="grd.hand.all", icon=":material/fast_forward:",
                      on_click=move, args=(lambda n: total,))
    again.button(t("grd.hand.again"), key="grd.hand.again", icon=":material/replay:",
                 on_click=move, args=(lambda n: 0,))
    done = steps[:shown]
    phase = done[-1].phase if done else "start"
    st.markdown(t("grd.hand.progress", shown=shown, total=total, phase=t(f"grd.hand.phase.{phase}")))
    if done:  # the step just taken, written out (a code span: the formula is shown as it is)
        st.markdown(f"{literal(f'{done[-1].node} = {done[-1].formula}', limit=200)} = **{done[-1].value:.6g}**")

    weights = dict(zip(PARAMS, p.hand_weights))
    values = {s.node: s.value for s in done if s.phase == "forward"}
    values.update({"x1": p.hand_x[0], "x2": p.hand_x[1]})
    grads = {s.node[4:]: s.value for s in done if s.phase == "backward"}
    st.graphviz_chart(_graph(values, grads, weights))

    if done:
        import pandas as pd

        autograd = result["autograd"]
        rows = [{t("grd.hand.col.phase"): t(f"grd.hand.phase.{s.phase}"), t("grd.hand.col.node"): s.node,
                 t("grd.hand.col.formula"): s.formula, t("grd.hand.col.value"): f"{s.value:.10g}",
                 t("grd.hand.col.autograd"): f"{autograd[s.node[4:]]:.10g}"
                 if s.phase == "backward" and s.node[4:] in autograd else ""}
                for s in done]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if shown == total:
        hand = hand_gradients(steps)
        worst = max(abs(hand[k] - v) for k, v in result["autograd"].items())
        st.success(t("grd.hand.agree", worst=f"{worst:.1e}"))
    st.markdown(t("grd.hand.explain"))
