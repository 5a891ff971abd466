"""Run records: one training a learner ran, kept so that runs can be compared, saved and reloaded.

A `RunRecord` holds what made the run (its settings, as the URL and the CLI write them), what it
did over time (its history: one row per epoch or step) and how it ended (its outcome and final
numbers). It travels as JSON both ways: `python -m nnkit run NAME --save-run FILE` writes one, a
page can load one back, and `to_csv` lays several side by side in one table.

A record read from a file is checked field by field: it is plain JSON (no pickle), of bounded
size, and every value has the type this module writes. Its settings are checked against the
experiment's parameters by whoever uses them (`settings_of`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from nnkit.errors import CodedError
from nnkit.experiments.base import ParamError, parse, specs, to_text

FORMAT = "nnkit-run"
VERSION = 1
MAX_BYTES = 8 * 1024 * 1024  # a run file larger than this is not one of ours
MAX_ROWS = 100_000  # history rows in a run file
KEPT_ROWS = 500  # history rows a record keeps: longer histories are thinned evenly, the last row kept
MAX_NAME = 60  # characters in a setting's or a metric's name


class RunFileError(CodedError):
    """A run file that cannot be read back (run.error.<code>)."""

    codes = ("too_big", "not_json", "not_run", "version", "field", "experiment", "settings")
    outside = ("field", "experiment", "settings")


Number = float | int | None  # None: not a number (a diverged run's NaN or inf)


@dataclass
class RunRecord:
    experiment: str  # the experiment's name: "activations", "regression", ...
    settings: dict[str, Any]  # {name: value as to_text writes it}: only the settings the run depends on
    history: list[dict[str, Number]] = field(default_factory=list)  # rows: {x: ..., metric: ...}
    summary: dict[str, Number] = field(default_factory=dict)  # final numbers (numbers only)
    outcome: str = "completed"  # "completed", "stopped" or "diverged"
    x: str = "epoch"  # the history's horizontal axis: "epoch" or "step"
    tags: list[str] = field(default_factory=list)  # "resumed", "loaded", ...
    created: str = ""  # ISO 8601 UTC

    def __post_init__(self) -> None:
        if not self.created:
            self.created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.history = [{k: _number(v) for k, v in row.items()} for row in thin(self.history)]
        self.summary = {k: _number(v) for k, v in self.summary.items()}

    @property
    def metrics(self) -> list[str]:
        """The history's metric names, in order of appearance (the x axis excluded)."""
        names = {}
        for row in self.history:
            names.update(dict.fromkeys(k for k in row if k != self.x))
        return list(names)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": VERSION, **asdict(self)}, ensure_ascii=False,
                          allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> "RunRecord":
        """A record from JSON text; raises RunFileError on anything that is not a run we wrote."""
        data = _load(text)
        if isinstance(data, list):
            raise RunFileError("not_run", "several runs: read them with read_bundle")
        return _record(data)


def _load(text: str | bytes) -> Any:
    """Parsed JSON of bounded size (NaN and Infinity, which other writers emit, read as None)."""
    if len(text) > MAX_BYTES:
        raise RunFileError("too_big", f"a run file is at most {MAX_BYTES // 2**20} MiB", limit=MAX_BYTES // 2**20)
    try:
        return json.loads(text, parse_constant=lambda name: None)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise RunFileError("not_json", f"not JSON: {err}")


def _record(data: Any) -> RunRecord:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RunFileError("not_run", "not an NN Playground run file")
    if data.get("version") != VERSION:
        raise RunFileError("version", f"run file version {data.get('version')!r}; this version reads {VERSION}",
                           version=str(data.get("version"))[:20])
    return RunRecord(**{f.name: _checked(f.name, data.get(f.name)) for f in fields(RunRecord)})


def thin(rows: list, limit: int = KEPT_ROWS) -> list:
    """At most `limit` rows, evenly spaced, first and last kept: a 5,000-step run keeps its shape in a
    tenth of the memory (a session keeps up to 20 runs a page). Thinning twice changes nothing."""
    n = len(rows)
    if n <= limit:
        return rows
    stride = -(-(n - 1) // (limit - 1))  # ceil
    return [rows[i] for i in range(0, n - 1, stride)] + [rows[-1]]


def _number(value: Any) -> Number:
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    if isinstance(value, int):
        return value  # an epoch or step number stays whole
    value = float(value)
    return value if math.isfinite(value) else None


OUTCOMES = ("completed", "stopped", "diverged")
AXES = ("epoch", "step")
LARGEST = 1e300  # a number a file may carry: formatting or plotting anything larger overflows
_NAME = re.compile(r"[A-Za-z0-9_]{1,%d}" % MAX_NAME)  # settings, metrics, tags: identifiers, never text to render


def _name_ok(name: Any) -> bool:
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                             and abs(value) <= LARGEST)


def _checked(name: str, value: Any) -> Any:
    """One field of a record read from a file, of the type this module writes, or RunFileError."""
    def bad() -> RunFileError:
        return RunFileError("field", f"the run file's {name!r} is damaged", field=name)

    if name in ("experiment", "created"):
        if not isinstance(value, str) or len(value) > MAX_NAME:
            raise bad()
    elif name in ("outcome", "x"):
        if value not in (OUTCOMES if name == "outcome" else AXES):
            raise bad()
    elif name == "settings":
        if not isinstance(value, dict) or not value or \
                not all(_name_ok(k) and isinstance(v, (str, list)) for k, v in value.items()):
            raise bad()
        if any(isinstance(v, list) and not all(isinstance(i, str) for i in v) for v in value.values()):
            raise bad()
    elif name == "history":
        if not isinstance(value, list) or not 0 < len(value) <= MAX_ROWS:
            raise bad()
        if not all(isinstance(row, dict) and all(_name_ok(k) and _is_number(v) for k, v in row.items())
                   for row in value):
            raise bad()
    elif name == "summary":
        if not isinstance(value, dict) or not all(_name_ok(k) and _is_number(v) for k, v in value.items()):
            raise bad()
    elif name == "tags":
        if not isinstance(value, list) or not all(_name_ok(v) for v in value):
            raise bad()
    return value


def settings_text(params: Any, names: list[str] | None = None) -> dict[str, Any]:
    """`params` (an experiment's parameter dataclass) as a record's settings: `names` only, or all."""
    table = specs(type(params))
    return {name: to_text(table[name][1], getattr(params, name)) for name in (names or table)}


def settings_of(record: RunRecord, params_cls: type) -> dict[str, Any]:
    """The record's settings as typed values of `params_cls`; RunFileError for an unknown name or
    a value out of range (a file from another version, or edited)."""
    try:
        params, _ = parse(params_cls, record.settings, strict=True)
    except ParamError as err:
        raise RunFileError("settings", f"the run's settings do not fit this page: {err}", settings=str(err))
    return {name: getattr(params, name) for name in record.settings}


def differing(records: list[RunRecord]) -> list[str]:
    """The setting names whose values are not the same in every record, in first-seen order."""
    names = dict.fromkeys(name for r in records for name in r.settings)
    return [name for name in names if len({json.dumps(r.settings.get(name)) for r in records}) > 1]


def to_csv(records: list[RunRecord], labels: list[str] | None = None) -> str:
    """Every record's history as one long table: a row per history row, with the run's label, its
    outcome and its settings repeated, so that a spreadsheet or pandas can group and compare."""
    labels = labels or [str(i + 1) for i in range(len(records))]
    setting_names = list(dict.fromkeys(n for r in records for n in r.settings))
    axes = list(dict.fromkeys(r.x for r in records))
    metric_names = list(dict.fromkeys(m for r in records for m in r.metrics))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_cell(c) for c in ("run", "experiment", "outcome", *setting_names, *axes, *metric_names)])
    for label, r in zip(labels, records):
        head = [_cell(label), _cell(r.experiment), _cell(r.outcome)]
        head += [_cell(r.settings.get(n, "")) for n in setting_names]
        for row in r.history:
            writer.writerow(head + [_cell(row.get(a, "")) for a in axes] + [_cell(row.get(m, "")) for m in metric_names])
    return out.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(value)
    if value is None:
        return ""
    text = value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    # a cell a spreadsheet would run as a formula starts with a quote instead
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _numeric(text) else text


def _numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def bundle(records: list[RunRecord]) -> str:
    """Several records as one JSON document (a list of records)."""
    return "[" + ",\n".join(r.to_json() for r in records) + "]"


def read_bundle(text: str | bytes) -> list[RunRecord]:
    """One record or a list of them (what `bundle` writes), each checked like `from_json`."""
    data = _load(text)
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > 1000:
        raise RunFileError("not_run", "not an NN Playground run file")
    return [_record(item) for item in items]
