"""Guided experiments ("try this"): what to change first on a page, and what to look for then.

Each is defined with its experiment in nnkit (`Experiment.guided`: settings and the promise a test
checks); this draws them as cards with a button that loads the settings and a link a teacher can
hand out. While the page shows a guided experiment's settings, a line above the results repeats
what to look for.
"""

from __future__ import annotations

from dataclasses import asdict
from urllib.parse import urlencode

import streamlit as st

from nnkit.experiments.base import Experiment, Guided, specs, to_text
from ui import params
from ui.i18n import t


def link(experiment: Experiment, g: Guided) -> str:
    """The address of this page with the guided experiment's settings (and nothing else)."""
    table = specs(experiment.params_cls)
    p = g.params(experiment.params_cls)
    query = urlencode({name: to_text(table[name][1], getattr(p, name)) for name in g.settings}, doseq=True)
    return f"{st.context.url or ''}?{query}"


def _text(experiment: Experiment, g: Guided, part: str) -> str:
    return t(f"guided.{experiment.name}.{g.id}.{part}")


def section(experiment: Experiment, current) -> None:
    """The page's guided experiments, and the reminder of the one whose settings are showing."""
    if not experiment.guided:
        return
    page = params.scope(experiment.params_cls)
    with st.expander(t("guided.heading", count=len(experiment.guided)), icon=":material/science:",
                     expanded=st.session_state.get(f"{page}.guided") is None):
        st.caption(t("guided.help"))
        columns = st.columns(3)
        for i, g in enumerate(experiment.guided):
            with columns[i % 3].container(border=True):
                st.markdown(f"**{_text(experiment, g, 'title')}**")
                st.caption(_text(experiment, g, "look"))
                left, right = st.columns([3, 2], vertical_alignment="center")
                if left.button(t("guided.load"), key=f"{page}.guided.{g.id}", icon=":material/play_arrow:"):
                    params.request(experiment.params_cls, asdict(g.params(experiment.params_cls)))
                    st.session_state[f"{page}.guided"] = g.id
                    st.rerun()
                right.markdown(f"[{t('guided.link')}]({link(experiment, g)})", help=t("guided.link.help"))
    showing = active(experiment, current)
    if showing is not None:
        st.info(t("guided.showing", title=_text(experiment, showing, "title"), look=_text(experiment, showing, "look")),
                icon=":material/science:")


def active(experiment: Experiment, current) -> Guided | None:
    """The guided experiment the page shows now: every setting as it loads them (the seed too), so
    that what it says to look for is what the page shows. The one loaded last wins a tie."""
    loaded = st.session_state.get(f"{params.scope(experiment.params_cls)}.guided")
    for g in sorted(experiment.guided, key=lambda g: g.id != loaded):
        if current == g.params(experiment.params_cls):
            return g
    return None
