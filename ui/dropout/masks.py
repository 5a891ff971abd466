"""View of the masks: the network drawn with the units one training pass drops, stepped through
pass by pass or played, and every pass's mask at a glance."""

from __future__ import annotations

import streamlit as st

from nnkit.experiments.base import fmt
from ui import params
from ui.dropout import draw
from ui.i18n import t

PASS = "drp_pass"  # the pass on screen (1-based): the page's own, not part of the link
PLAY = "drp_play"
PLAY_S = 1.0  # seconds per pass while playing
PRESETS = ((0.5, 0.3), (0.5, 0.5))  # the course's typical rates ("一般设为0.5/0.3"), and one rate throughout


def _next(passes: int) -> None:
    st.session_state[PASS] = st.session_state.get(PASS, 1) % passes + 1


def presets(p) -> None:
    """One click to the typical rates per hidden layer (into the rates box, so the link keeps them)."""
    columns = st.columns([2] + [1] * len(PRESETS), vertical_alignment="center")
    columns[0].caption(t("drp.masks.presets"))
    for column, rates in zip(columns[1:], PRESETS):
        if column.button(" / ".join(map(fmt, rates)), key=f"drp_preset_{'_'.join(map(fmt, rates))}",
                         disabled=tuple(p.layer_rates) == rates):
            params.request(type(p), {"layer_rates": rates})
            st.rerun()


def show_masks(p, result: dict) -> None:
    masks, sizes, rates = result["masks"], result["sizes"], result["rates"]
    presets(p)
    droppable = sum(s for s, r in zip(sizes, rates) if r > 0)
    if droppable == 0:
        st.info(t("drp.masks.none"), icon=":material/info:")
    else:
        st.markdown(t("drp.masks.count", thinned=f"{result['thinned']:,}", units=droppable))
    if st.session_state.get(PASS, 1) > len(masks):
        st.session_state[PASS] = 1
    left, right = st.columns(2, vertical_alignment="center")
    left.button(t("drp.masks.next"), key="drp_next", on_click=_next, args=(len(masks),), icon=":material/skip_next:")
    playing = right.toggle(t("drp.masks.play"), key=PLAY)
    st.fragment(run_every=PLAY_S if playing else None)(_one_pass)(result, playing)
    kept, dropped = t("drp.masks.kept_unit"), t("drp.masks.dropped_unit")
    rows = [{"pass": n + 1, "unit": f"{li + 1}.{ui + 1}", "kept": kept if bit else dropped}
            for n, one in enumerate(masks) for li, layer in enumerate(one) for ui, bit in enumerate(layer)]
    with st.expander(t("drp.masks.all_passes")):
        st.vega_lite_chart(spec=draw.mask_grid(rows, t("drp.masks.unit"), t("drp.masks.pass"), kept, dropped),
                           width="stretch")


def _one_pass(result: dict, playing: bool) -> None:
    """The pass on screen; while playing, it reruns alone every PLAY_S seconds, one pass further."""
    masks, sizes, rates = result["masks"], result["sizes"], result["rates"]
    if playing:
        _next(len(masks))
    if len(masks) > 1:
        st.slider(t("drp.masks.pass"), 1, len(masks), key=PASS)
    n = min(st.session_state.get(PASS, 1), len(masks))
    one = masks[n - 1]
    layers = [{"name": t("drp.masks.input"), "mask": [1, 1]}]
    layers += [{"name": t("drp.masks.hidden", n=i + 1, rate=fmt(rate)), "mask": mask}
               for i, (mask, rate) in enumerate(zip(one, rates))]
    layers.append({"name": t("drp.masks.output"), "mask": [1, 1]})
    st.vega_lite_chart(spec=draw.network(layers, t("drp.masks.kept_unit"), t("drp.masks.dropped_unit")),
                       width="stretch")
    st.caption(t("drp.masks.kept", n=n, kept=sum(map(sum, one)), total=sum(sizes)))
