"""Experiment parameters as one dataclass: defaults, ranges and help keys in one place.

A parameter is a dataclass field made with `param(...)`. From its `Spec` everything else is
derived: the page's widgets, the values a URL or the CLI may carry (`coerce`), and the export.
Help texts live with the other translations; a spec only names its help key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable

from nnkit.errors import CodedError


def fmt(number: float) -> str:
    """A number as a person writes it, exactly: 2147483647, not 2.14748e+09; 0.0001, not 1e-04.

    `repr` of a float is the shortest text that reads back to the same float, so fmt round-trips.
    """
    return str(int(number)) if float(number).is_integer() and abs(number) < 1e16 else repr(float(number))


def bounds(spec: "Spec") -> str:
    """The allowed range as text; an open end is an infinity."""
    low = "-inf" if spec.lo is None else fmt(spec.lo)
    high = "inf" if spec.hi is None else fmt(spec.hi)
    return f"[{low}, {high}]"


class ParamError(CodedError):
    """A parameter value that is unknown, of the wrong type or out of range (param.error.<code>)."""

    codes = ("not_int", "not_number", "not_finite", "outside", "not_bool", "not_choice", "count", "unknown_name")


@dataclass(frozen=True)
class Spec:
    kind: str  # "int", "float", "bool", "choice", "multi", "floats"
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    log: bool = False  # a float spanning decades (a learning rate): typed, not slid
    min_len: int = 1  # for "multi" and "floats"
    max_len: int = 10
    unique: bool = False  # "floats": a repeated value is dropped (a list of choices, not one value per slot)
    ui: bool = True  # False: set elsewhere (the seed lives in the shared sidebar)


def param(default: Any, kind: str, **spec: Any) -> Any:
    """A dataclass field carrying its Spec in the metadata."""
    return field(default=default, metadata={"spec": Spec(kind=kind, **spec)})


def specs(params_cls: type) -> dict[str, tuple[Any, Spec]]:
    """{name: (default, spec)} in declaration order."""
    return {f.name: (f.default, f.metadata["spec"]) for f in fields(params_cls)}


def _number(name: str, spec: Spec, raw: Any) -> float | int:
    try:
        if spec.kind == "int":
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            value = int(raw) if not isinstance(raw, str) else int(raw.strip())
        else:
            value = float(raw)
    except (TypeError, ValueError):
        raise ParamError("not_int" if spec.kind == "int" else "not_number",
                         f"{name}: {raw!r} is not {'an integer' if spec.kind == 'int' else 'a number'}",
                         name=name, value=repr(raw))
    if isinstance(value, float) and not math.isfinite(value):
        raise ParamError("not_finite", f"{name}: {raw!r} is not a finite number", name=name, value=repr(raw))
    if (spec.lo is not None and value < spec.lo) or (spec.hi is not None and value > spec.hi):
        raise ParamError("outside", f"{name}: {raw!r} is outside {bounds(spec)}", name=name, value=repr(raw),
                         range=bounds(spec))
    return value


_BOOLS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def _items(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return [str(part).strip() for part in raw if str(part).strip()]  # "?functions=" is an empty list


def coerce(name: str, spec: Spec, raw: Any) -> Any:
    """Turn `raw` (a string from a URL or the CLI, or a value) into a valid value, or raise."""
    if spec.kind in ("int", "float"):
        return _number(name, spec, raw)
    if spec.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text not in _BOOLS:
            raise ParamError("not_bool", f"{name}: {raw!r} is not true or false", name=name, value=repr(raw))
        return _BOOLS[text]
    if spec.kind == "choice":
        value = str(raw).strip()
        if value not in spec.choices:
            raise ParamError("not_choice", f"{name}: {value!r} is not one of {', '.join(spec.choices)}",
                             name=name, value=repr(value), choices=", ".join(spec.choices))
        return value
    items = _items(raw)
    if not spec.min_len <= len(items) <= spec.max_len:
        raise ParamError("count", f"{name}: needs {spec.min_len} to {spec.max_len} values, got {len(items)}",
                         name=name, low=spec.min_len, high=spec.max_len, got=len(items))
    if spec.kind == "multi":
        unknown = [i for i in items if i not in spec.choices]
        if unknown:
            raise ParamError("not_choice", f"{name}: {unknown[0]!r} is not one of {', '.join(spec.choices)}",
                             name=name, value=repr(unknown[0]), choices=", ".join(spec.choices))
        return tuple(dict.fromkeys(items))  # keep order, drop repeats
    if spec.kind == "floats":
        element = Spec("float", lo=spec.lo, hi=spec.hi)
        values = tuple(float(_number(name, element, i)) for i in items)
        return tuple(dict.fromkeys(values)) if spec.unique else values  # keep order, drop repeats
    raise ValueError(f"{name}: unknown kind {spec.kind}")  # a programming error, not a user's


def to_text(spec: Spec, value: Any) -> str | list[str]:
    """The value as a URL or CLI writes it (the inverse of `coerce`)."""
    if spec.kind == "multi":
        return list(value)
    if spec.kind == "floats":
        return ", ".join(fmt(v) for v in value)
    if spec.kind == "float":
        return fmt(value)
    if spec.kind == "bool":
        return "true" if value else "false"
    return str(value)


def parse(params_cls: type, raw: dict[str, Any], *, strict: bool = True) -> tuple[Any, dict[str, str]]:
    """Build params from raw values. Strict: the first bad or unknown name raises ParamError.

    Lenient (URLs): a bad value falls back to its default and is reported in the returned
    {name: message} dict, so a mangled link still opens.
    """
    table = specs(params_cls)
    values, errors = {}, {}
    for name, value in raw.items():
        if name not in table:
            if strict:
                raise ParamError("unknown_name", f"unknown parameter {name!r}; known: {', '.join(table)}",
                                 name=name, known=", ".join(table))
            continue
        try:
            values[name] = coerce(name, table[name][1], value)
        except ParamError as err:
            if strict:
                raise
            errors[name] = str(err)
    return replace(params_cls(), **values), errors


@dataclass(frozen=True)
class Guided:
    """A "try this" experiment: the settings to load and the effect the learner should then see.

    `settings` override the parameters' defaults (the seed too, which defaults to 0), so a guided
    experiment always shows the same thing. Its texts are `guided.<experiment>.<id>.title` and
    `guided.<experiment>.<id>.look` (one sentence: what to look for) in both languages.
    `promise(summary)` is True when the summary of a run with these settings shows the effect;
    tests/test_guided.py runs every guided experiment, so a promise that stops holding fails CI.
    """

    id: str
    settings: dict
    promise: Callable[[dict], bool]

    def params(self, params_cls: type) -> Any:
        """The experiment's parameters for this guided experiment (bad settings raise ParamError)."""
        return parse(params_cls, self.settings, strict=True)[0]


@dataclass(frozen=True)
class Experiment:
    """One experiment: its parameters, its run function, its summary, its code export and its
    guided experiments."""

    name: str
    params_cls: type
    run: Callable[..., Any]  # run(params, callback=None) -> result
    summary: Callable[[Any], dict]  # result -> JSON-ready dict
    export_code: Callable[..., str]  # (params, lang="en") -> self-contained PyTorch script, comments in lang
    guided: tuple[Guided, ...] = ()
    # (params, run's result) -> nnkit.runs.RunRecord of the training it did, or None when it trained nothing
    record: Callable[[Any, Any], Any] | None = None


EXPORT_LANGUAGES = ("en", "zh")


def comments(table: dict[str, dict[str, str]], lang: str) -> dict[str, str]:
    """An exported script's comments in `lang` ("en" or "zh"; anything else gets English).

    `table` maps each language to the same keys; tests/test_export.py checks that they match."""
    return table.get(lang, table["en"])


@dataclass(frozen=True)
class Section:
    """One part of an experiment whose `section` parameter picks what runs (the Overfitting page's
    capacity sweep, its early stopping, ...). Each part lives in its own module; the experiment's
    run, summary, record and export dispatch to it."""

    settings: tuple[str, ...]  # the parameters it reads, besides section and seed (the page's widgets)
    run: Callable[..., dict]  # (params, callback) -> result; result["stopped"] says whether Stop cut it short
    summary: Callable[[dict], dict]  # result -> JSON-ready numbers
    shown: Callable[[dict], Any]  # result -> the trained network whose epochs a run record keeps
    epochs: Callable[[Any], int]  # params -> how many "epoch" events a run reports (the progress bar)
    export: Callable[..., str]  # (params, lang) -> self-contained PyTorch script
    guided: tuple[Guided, ...] = ()
    reads: Callable[[Any], tuple[str, ...]] | None = None  # params -> the settings it reads with these (default: all)
    check: Callable[[Any], None] | None = None  # params -> raises ParamError for settings it cannot run


class Sections:
    """The dispatch of an experiment made of sections (`section` picks one): each call goes to the
    picked Section, so a hub module only lists its parts."""

    def __init__(self, parts: dict[str, Section]):
        self.parts = parts
        self.settings = {name: part.settings for name, part in parts.items()}  # besides section and seed
        self.guided = tuple(g for part in parts.values() for g in part.guided)

    def applies(self, p) -> tuple[str, ...]:
        """The names `p`'s section reads: its settings (those `p` uses, when the section narrows them),
        with the section and the seed."""
        reads = self.parts[p.section].reads
        return ("section",) + (reads(p) if reads else self.settings[p.section]) + ("seed",)

    def check(self, p) -> None:
        """Raise ParamError for settings the picked section cannot run."""
        if self.parts[p.section].check is not None:
            self.parts[p.section].check(p)

    def epochs(self, p) -> int:
        """How many "epoch" events a run of `p` reports: the page's progress bar counts them."""
        return self.parts[p.section].epochs(p)

    def run(self, p, callback: Callable[[dict], None] | None = None) -> dict:
        return self.parts[p.section].run(p, callback)

    def summary(self, result: dict) -> dict:
        return self.parts[result["section"]].summary(result)

    def export(self, p, lang: str = "en") -> str:
        return self.parts[p.section].export(p, lang)
