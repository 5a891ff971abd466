"""Widgets derived from an experiment's parameter dataclass, each bound to the URL.

A page calls `bind_all(Params)` once at the top, places `widget(Params, name)` where it wants each
control, then reads the typed values with `read(Params)`. Labels and help come from the
translations (`param.<name>` and `param.<name>.help`), choice labels from `choice.<value>`.

Each page owns its settings: a widget's key is "<page>.<name>" (`key(Params, name)`), so the
`epochs` of one page never clamps or overwrites the `epochs` of another; the address bar carries
the plain name, since it only ever describes one page. The seed is the one setting every
experiment shares: it lives in the sidebar under the key "seed".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import streamlit as st

from nnkit.experiments.base import ParamError, Spec, coerce, parse, specs, to_text
from ui import urlstate
from ui.i18n import current, has, t
from ui.text import literal


def _to_widget(spec: Spec, value: Any) -> Any:
    """A parameter value in the form its widget holds it."""
    if spec.kind == "multi":
        return list(value)
    if spec.kind == "floats":
        return to_text(spec, value)
    return value


def scope(params_cls: type) -> str:
    """The page that owns these settings: the experiment's module name ("activations", ...)."""
    return params_cls.__module__.rsplit(".", 1)[-1]


def key(params_cls: type, name: str) -> str:
    """The widget key of setting `name`: unique in the app, so pages never share a widget's state."""
    return f"{scope(params_cls)}.{name}"


def bind_all(params_cls: type) -> None:
    """Seed every widget of `params_cls` from the URL (or its default) and bind it to the URL."""
    for name, (default, spec) in specs(params_cls).items():
        if not spec.ui:
            continue

        def from_url(raw: list[str], name=name, spec=spec) -> Any:
            value = coerce(name, spec, raw if spec.kind == "multi" else raw[-1])
            return _to_widget(spec, value)

        urlstate.bind(key(params_cls, name), _to_widget(spec, default), from_url,
                      lambda v, spec=spec: _to_url(spec, v), url_name=name)


def request(params_cls: type, values: dict[str, Any]) -> None:
    """Put these settings (by name, as typed values) into the page's widgets on the next run."""
    table = specs(params_cls)
    wanted = {key(params_cls, name): _to_widget(table[name][1], value) for name, value in values.items()
              if name in table and table[name][1].ui}
    if "seed" in table and "seed" in values:
        wanted["seed"] = values["seed"]  # the sidebar's shared seed
    urlstate.request(wanted)


def _to_url(spec: Spec, value: Any) -> str | list[str]:
    """A widget's value as the URL carries it (a list repeats the parameter)."""
    if spec.kind == "multi":
        return list(value)
    if spec.kind == "floats":
        return str(value)  # the text as typed; a bad one is reported when the link is opened
    return to_text(spec, value)




def number_format(spec: Spec) -> str:
    """The printf format a float widget shows its value in. Streamlit's default, "%0.2f", showed
    β₂ = 0.999 as "1.00": a slider shows as many decimals as its step and ends need (0.9990,
    0.9999), a typed number spanning decades (a learning rate) its shortest exact form (1e-08, 0.05)."""
    if spec.log:
        return "%g"
    return f"%.{max(_decimals(v) for v in (spec.step, spec.lo, spec.hi) if v is not None)}f"


def _decimals(value: float) -> int:
    """How many decimals `value` needs when written out: 0.001 -> 3, 0.9999 -> 4, 10.0 -> 0."""
    return min(12, max(0, -Decimal(repr(float(value))).normalize().as_tuple().exponent))


def describe(err: ValueError) -> str:
    """A bad value's problem in the learner's language (param.error.<code>), Markdown-safe: what
    came from the link is shown as literal text."""
    if isinstance(err, ParamError) and has(f"param.error.{err.code}"):
        outside = ("value", "name") if err.code == "unknown_name" else ("value",)  # what the link carried
        details = {k: literal(v) if k in outside else v for k, v in err.details.items()}
        return t(f"param.error.{err.code}", **details)
    return literal(str(err), limit=300)


def choice_label(value: str, lang: str | None = None) -> str:
    return t(f"choice.{value}", lang=lang) if has(f"choice.{value}") else value


def text_key(params_cls: type, name: str) -> str:
    """`param.<texts>.<name>` where an experiment words a shared name its own way, else `param.<name>`."""
    scoped = f"param.{getattr(params_cls, 'texts', '')}.{name}"
    return scoped if has(scoped) else f"param.{name}"


def widget(params_cls: type, name: str, container=None) -> None:
    """Draw the widget for one parameter, keyed and labelled by its name."""
    box = container or st
    _, spec = specs(params_cls)[name]
    text = text_key(params_cls, name)
    common = {"label": t(text), "help": t(f"{text}.help"), "key": key(params_cls, name)}
    urlstate.drawn(common["key"])
    lang = current()  # fixed now: a format_func may be called outside this run

    def label(value: str) -> str:
        return choice_label(value, lang)

    if spec.kind == "choice":
        box.selectbox(options=spec.choices, format_func=label, **common)
    elif spec.kind == "multi":
        box.multiselect(options=spec.choices, format_func=label, max_selections=spec.max_len, **common)
    elif spec.kind == "floats":
        box.text_input(**common)
        try:
            coerce(name, spec, st.session_state[key(params_cls, name)])
        except ParamError as err:
            box.error(t("params.invalid", error=describe(err)))
    elif spec.kind == "bool":
        box.toggle(**common)
    elif spec.log:
        box.number_input(min_value=float(spec.lo), max_value=float(spec.hi), step=float(spec.lo) * 10,
                         format=number_format(spec), **common)
    elif spec.kind == "int":
        box.slider(min_value=int(spec.lo), max_value=int(spec.hi), step=int(spec.step or 1), **common)
    else:
        box.slider(min_value=float(spec.lo), max_value=float(spec.hi), step=float(spec.step), format=number_format(spec),
                   **common)


def widgets(params_cls: type, names: list[str], columns: int = 4) -> None:
    """Widgets for `names`, laid out left to right in rows of `columns`."""
    cols = st.columns(columns)
    for i, name in enumerate(names):
        widget(params_cls, name, cols[i % columns])


def read(params_cls: type) -> Any:
    """The typed parameters from the widgets (and the shared seed); a bad value gives its default."""
    raw = {name: st.session_state[key(params_cls, name)] for name, (_, spec) in specs(params_cls).items()
           if spec.ui and key(params_cls, name) in st.session_state}
    if "seed" in specs(params_cls):
        raw["seed"] = st.session_state.get("seed", 0)
    params, _ = parse(params_cls, raw, strict=False)
    return params
