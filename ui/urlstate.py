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

_BOUND = "_url_bound"  # {key: (default, to_url)} for the widgets bound during this run
_NOTICES = "_url_notices"  # [(key, error)] for bad values met in the URL during this run
_KEPT = "_url_kept"  # {key: last value}: survives page switches, which drop widgets and the query
_REQUESTED = "_url_requested"  # {key: value} to put into widgets at the start of the next run


def request(values: dict[str, Any]) -> None:
    """Set these settings at the start of the next run, before any widget exists (then st.rerun())."""
    st.session_state[_REQUESTED] = dict(values)


def begin_run() -> None:
    """Forget the previous run's bindings and apply requested values (app.py calls this first)."""
    st.session_state[_BOUND] = {}
    st.session_state[_NOTICES] = []
    for key, value in st.session_state.pop(_REQUESTED, {}).items():
        st.session_state[key] = value
        st.session_state.setdefault(_KEPT, {})[key] = value


def bind(key: str, default: Any, from_url: Callable[[list[str]], Any],
         to_url: Callable[[Any], str | list[str]]) -> None:
    """Seed st.session_state[key] from the URL if the widget is new, and bind it to the URL."""
    kept = st.session_state.setdefault(_KEPT, {})
    if key not in st.session_state:
        raw = st.query_params.get_all(key)
        value = kept.get(key, default)
        if raw and key not in kept:
            try:
                value = from_url(raw)
            except ValueError as err:
                st.session_state[_NOTICES].append((key, err))
        st.session_state[key] = value
    kept[key] = st.session_state[key]
    st.session_state[_BOUND][key] = (default, to_url)


def notices() -> list[tuple[str, ValueError]]:
    return list(st.session_state.get(_NOTICES, []))


def current_query() -> dict[str, str | list[str]]:
    """The query parameters that describe the current settings (defaults left out)."""
    query = {}
    for key, (default, to_url) in st.session_state.get(_BOUND, {}).items():
        value = st.session_state.get(key, default)
        if value != default:
            query[key] = to_url(value)
    return query


def sync() -> None:
    """Write the bound settings into the URL (app.py calls this last)."""
    query = current_query()
    wanted = {k: v if isinstance(v, list) else [v] for k, v in query.items()}
    if {k: st.query_params.get_all(k) for k in st.query_params} != wanted:
        st.query_params.from_dict(query)
