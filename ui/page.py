"""What every page shares around its experiment: the header with URL notices, the share link, the
"Show the PyTorch code" section, and a per-session memo for cheap results tied to the session."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from ui import params, urlstate
from ui.i18n import current, t
from ui.text import literal


def _through_router() -> None:
    """Make sure this page runs inside app.py's navigation, with its sidebar and URL sync.

    Streamlit keeps a legacy mode for apps with a `pages/` folder: until `st.navigation` has run
    once in the process (a deep link opened first on a fresh server, and every AppTest run) it
    executes the page file alone. Leave that mode and rerun, so app.py routes the same request.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def header(page: str, params_cls: type | None = None) -> None:
    """Title and intro of `page`; binds its settings to the URL and reports bad values in it."""
    _through_router()
    st.title(t(f"{page}.title"))
    st.markdown(t(f"{page}.intro"))
    if params_cls is not None:
        params.bind_all(params_cls)
    url_notices()


def url_notices() -> None:
    """What was wrong with the address this page was opened with: bad values (their defaults are
    used), names this page does not know (dropped from the address), or an address too long to be
    one of ours (ignored whole). Everything the link carried is shown as literal text."""
    if not urlstate.url_ok():
        st.warning(t("url.too_long", length=f"{urlstate.query_length():,}", limit=f"{urlstate.MAX_QUERY_CHARS:,}"),
                   icon="⚠️")
        return
    problems = [params.describe(err) for _, err in urlstate.notices()]
    problems += [t("param.error.unknown_name", name=literal(name)) for name in urlstate.unknown_names()]
    if problems:
        st.warning(t("url.notice") + "\n\n" + "\n".join(f"- {p}" for p in problems), icon="⚠️")


def share_link() -> None:
    """The address that reproduces the current settings, in a box with a copy button."""
    query = urlencode(urlstate.current_query(), doseq=True)
    base = st.context.url or ""
    with st.expander(t("share.title"), icon=":material/link:"):
        st.caption(t("share.help"))
        st.code(f"{base}?{query}" if query else base or "/", language=None)


def code_section(experiment, p) -> None:
    """The self-contained PyTorch script for the current settings, shown and downloadable."""
    code = experiment.export_code(p, current())
    with st.expander(t("code.title"), icon=":material/code:"):
        st.caption(t("code.intro"))
        st.download_button(t("code.download"), code, file_name=f"nn_playground_{experiment.name}.py",
                           mime="text/x-python", key=f"download_{experiment.name}")
        st.code(code, language="python", line_numbers=True)


def remembered(name: str, key, compute):
    """compute()'s result, kept in this session while `key` (the settings it depends on) stays the
    same: a rerun caused by an unrelated widget then costs nothing."""
    slot = st.session_state.get(f"_result_{name}")
    if slot is None or slot[0] != key:
        slot = (key, compute())
        st.session_state[f"_result_{name}"] = slot
    return slot[1]
