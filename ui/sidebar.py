"""The shared sidebar: language, seed and the device in use. Drawn by app.py, never by a page."""

from __future__ import annotations

import streamlit as st

from nnkit.experiments.base import Spec, coerce
from ui import urlstate
from ui.i18n import DEFAULT, LANGUAGES, t

SEED_MAX = 2**31 - 1


LANG_SPEC = Spec("choice", choices=tuple(LANGUAGES))
SEED_SPEC = Spec("int", lo=0, hi=SEED_MAX)  # the range every experiment's seed parameter has


def _parse_lang(raw: list[str]) -> str:
    return coerce("lang", LANG_SPEC, raw[-1])


def _parse_seed(raw: list[str]) -> int:
    return coerce("seed", SEED_SPEC, raw[-1])


def controls() -> None:
    """Language and seed, first thing in each run: every text below depends on the language."""
    urlstate.bind("lang", DEFAULT, _parse_lang, str)
    urlstate.bind("seed", 0, _parse_seed, str)
    urlstate.drawn("lang")
    urlstate.drawn("seed")
    with st.sidebar:
        st.radio(t("sidebar.language"), options=list(LANGUAGES), format_func=LANGUAGES.__getitem__,
                 key="lang", horizontal=True)
        st.number_input(t("sidebar.seed"), min_value=0, max_value=SEED_MAX, step=1, key="seed",
                        help=t("sidebar.seed.help"))


@st.cache_resource(show_spinner=False)
def device_choice():
    """Once per server process: the device, and torch's threads (see nnkit.device.configure_threads)."""
    from nnkit.device import configure_threads, pick_device  # imports torch: only after the page is drawn

    configure_threads()
    return pick_device()


def device(slot) -> None:
    """Fill `slot` (an st.empty in the sidebar) with the device line."""
    choice = device_choice()
    with slot.container():
        st.caption(t("sidebar.device", device=choice.name))
        if choice.requested:
            st.caption(t(f"sidebar.device.{choice.code}", requested=choice.requested, device=choice.name))
