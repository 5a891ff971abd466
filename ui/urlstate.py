"""Settings bound to the address bar, so that copying the URL shares the exact experiment.

Each bound setting is a widget key. On the first run that shows it, its value is read from the
URL (or its default; when the visitor comes back to a page in the same session, the value they
left there); a value that does not parse or is out of range falls back to the default
and leaves a notice for the page to show. At the end of every run `sync` writes each value that
differs from its default back into the URL. Doing this ourselves (rather than relying on
`bind="query-params"` alone) lets a bad link say what was wrong instead of being silently clamped.
"""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

_BOUND = "_url_bound"  # {widget key: (URL name, default, to_url)} for the widgets bound during this run
_NOTICES = "_url_notices"  # [(URL name, error)] for bad values met in the URL during this run
_KEPT = "_url_kept"  # {widget key: last value}: survives page switches, which drop widgets and the query
_DRAWN = "_url_drawn"  # {widget keys drawn during this run}
_DRAWN_BEFORE = "_url_drawn_before"  # the same for the previous run
_REQUESTED = "_url_requested"  # {key: value} to put into widgets at the start of the next run
# Links this app makes are a few hundred characters; a far longer address is ignored whole, with a
# notice, rather than parsed and echoed (100,000 characters once left the page blank).
MAX_QUERY_CHARS = 4000


def request(values: dict[str, Any]) -> None:
    """Set these settings at the start of the next run, before any widget exists (then st.rerun())."""
    st.session_state[_REQUESTED] = dict(values)


def begin_run() -> None:
    """Forget the previous run's bindings and apply requested values (app.py calls this first)."""
    st.session_state[_BOUND] = {}
    st.session_state[_NOTICES] = []
    st.session_state[_DRAWN_BEFORE] = st.session_state.get(_DRAWN, set())
    st.session_state[_DRAWN] = set()
    for key, value in st.session_state.pop(_REQUESTED, {}).items():
        st.session_state[key] = value
        st.session_state.setdefault(_KEPT, {})[key] = value


def bind(key: str, default: Any, from_url: Callable[[list[str]], Any],
         to_url: Callable[[Any], str | list[str]], url_name: str | None = None) -> None:
    """Seed st.session_state[key] from the URL if the widget is new, and bind it to the URL.

    `key` is the widget's key, unique in the whole app (a page's settings are keyed
    "<page>.<name>", so two pages never share a widget's state); `url_name` is the parameter's
    name in the address bar, which only needs to be unique on its page (default: the key).
    """
    url_name = url_name or key
    kept = st.session_state.setdefault(_KEPT, {})
    # Only a widget drawn in the previous run holds what the learner just did. Any other value under
    # the key is stale (Streamlit keeps the value a key was seeded with after its widget goes away),
    # so the value comes from what the learner left (kept), else the link, else the default.
    if key in kept and key not in st.session_state.get(_DRAWN_BEFORE, ()):
        st.session_state[key] = kept[key]
    elif key not in st.session_state:
        raw = st.query_params.get_all(url_name) if url_ok() else []
        value = kept.get(key, default)
        if raw and key not in kept:
            try:
                value = from_url(raw)
            except ValueError as err:
                st.session_state[_NOTICES].append((url_name, err))
        st.session_state[key] = value
    kept[key] = st.session_state[key]
    st.session_state[_BOUND][key] = (url_name, default, to_url)


def drawn(key: str) -> None:
    """Say that the widget of `key` is on screen in this run (ui.params and the sidebar call it)."""
    st.session_state[_DRAWN].add(key)


def url_ok() -> bool:
    """False when the address is too long to be a link this app made: it is then ignored whole."""
    return query_length() <= MAX_QUERY_CHARS


def query_length() -> int:
    return sum(len(k) + len(v) + 2 for k in st.query_params for v in st.query_params.get_all(k))


def unknown_names() -> list[str]:
    """Parameters in the address that no setting bound so far in this run reads."""
    known = {url_name for url_name, _, _ in st.session_state.get(_BOUND, {}).values()}
    return [name for name in st.query_params if name not in known]


def notices() -> list[tuple[str, ValueError]]:
    return list(st.session_state.get(_NOTICES, []))


def current_query() -> dict[str, str | list[str]]:
    """The query parameters that describe the current settings (defaults left out)."""
    query = {}
    for key, (url_name, default, to_url) in st.session_state.get(_BOUND, {}).items():
        value = st.session_state.get(key, default)
        if value != default:
            query[url_name] = to_url(value)
    return query


def sync() -> None:
    """Write the bound settings into the URL (app.py calls this last)."""
    query = current_query()
    wanted = {k: v if isinstance(v, list) else [v] for k, v in query.items()}
    if {k: st.query_params.get_all(k) for k in st.query_params} != wanted:
        st.query_params.from_dict(query)
