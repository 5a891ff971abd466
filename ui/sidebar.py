"""The shared sidebar: language, seed and the device in use. Drawn by app.py, never by a page."""

from __future__ import annotations

import streamlit as st

from ui import urlstate
from ui.i18n import DEFAULT, LANGUAGES, t

SEED_MAX = 2**31 - 1


def _parse_lang(raw: list[str]) -> str:
    if raw[-1] not in LANGUAGES:
        raise ValueError(f"lang: {raw[-1]!r} is not one of {', '.join(LANGUAGES)}")
    return raw[-1]


def _parse_seed(raw: list[str]) -> int:
    try:
        seed = int(raw[-1])
    except ValueError:
        raise ValueError(f"seed: {raw[-1]!r} is not an integer") from None
    if not 0 <= seed <= SEED_MAX:
        raise ValueError(f"seed: {seed} is outside [0, {SEED_MAX}]")
    return seed


def controls() -> None:
    """Language and seed, first thing in each run: every text below depends on the language."""
    urlstate.bind("lang", DEFAULT, _parse_lang, str)
    urlstate.bind("seed", 0, _parse_seed, str)
    with st.sidebar:
        st.radio(t("sidebar.language"), options=list(LANGUAGES), format_func=LANGUAGES.__getitem__,
                 key="lang", horizontal=True)
        st.number_input(t("sidebar.seed"), min_value=0, max_value=SEED_MAX, step=1, key="seed",
                        help=t("sidebar.seed.help"))


@st.cache_resource(show_spinner=False)
def _device():
    """Once per server process: the device, and torch's threads (see nnkit.device.configure_threads)."""
    from nnkit.device import configure_threads, pick_device  # imports torch: only after the page is drawn

    configure_threads()
    return pick_device()


def device(slot) -> None:
    """Fill `slot` (an st.empty in the sidebar) with the device line."""
    choice = _device()
    with slot.container():
        st.caption(t("sidebar.device", device=choice.name))
        if choice.requested:
            st.caption(choice.reason)
