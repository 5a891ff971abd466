"""Reading a learner's own CSV file: numbers only, every problem named, nothing executed.

The file is parsed with Python's csv module (never eval, never pickle). A column counts as numeric
when every non-empty cell parses as a float; other columns are set aside and listed. Numbers that a
float64 cannot hold (1e309) and numbers written with decimal commas (3,14) are named as such, not
taken for text.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field

import numpy as np

from nnkit.errors import CodedError

MAX_BYTES = 1024 * 1024  # 1 MB: plenty for a regression exercise, small enough to parse at once
MAX_ROWS = 20_000
MIN_ROWS = 3
MISSING = {"", "na", "nan", "null", "none", "-", "?"}
ERROR_CODES = ("too_big", "empty", "not_text", "not_csv", "too_many_rows", "ragged", "no_numeric", "missing",
               "not_finite", "decimal_comma")
# 3,14 or 1.234,5: a number as many European spreadsheets write it, with a comma before the decimals
DECIMAL_COMMA = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d*),\d+")


class TableError(CodedError):
    """A file that cannot be used; `code` selects the translated message, `details` fill it in."""

    codes = ERROR_CODES
    outside = ("column", "value", "example", "skipped", "where")


@dataclass
class Table:
    columns: dict[str, np.ndarray]  # numeric columns only, float64, in file order
    skipped: list[str] = field(default_factory=list)  # non-numeric columns that were set aside

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values())))


def _number(cell: str) -> float | None:
    """The cell's value; None when it is missing; ValueError for text. 1e309 and "inf" give inf."""
    text = cell.strip()
    if text.lower() in MISSING:
        return None
    return float(text)


def _decimal_comma(cells: list[str]) -> str | None:
    """The first cell written with a decimal comma, when every other cell is a number or missing."""
    example = None
    for cell in cells:
        text = cell.strip()
        if DECIMAL_COMMA.fullmatch(text):
            example = example or text
            continue
        try:
            _number(text)
        except ValueError:
            return None
    return example


def read_csv(data: bytes, max_bytes: int = MAX_BYTES) -> Table:
    """Parse CSV bytes into numeric columns or raise TableError saying what is wrong."""
    if len(data) > max_bytes:
        raise TableError("too_big", f"the file has {len(data):,} bytes; the limit is {max_bytes:,}",
                         size=len(data), limit=max_bytes)
    if not data.strip():
        raise TableError("empty", "the file is empty")
    if b"\x00" in data[:4096]:
        raise TableError("not_text", "this is a binary file, not a CSV text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError("not_text", "the file is not UTF-8 text") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    # (line number in the file, cells) for each non-blank line: messages name the lines a person sees
    try:
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error:  # a cell over the csv module's field limit, a stray NUL, ...
        raise TableError("not_csv", "the file cannot be read as CSV", min_rows=MIN_ROWS) from None
    if not rows:
        raise TableError("not_csv", f"a CSV needs a header and at least {MIN_ROWS} rows of 2 or more columns",
                         min_rows=MIN_ROWS)
    (_, header), body = rows[0], rows[1:]
    if len(header) < 2 or len(body) < MIN_ROWS:
        raise TableError("not_csv", f"a CSV needs a header and at least {MIN_ROWS} rows of 2 or more columns",
                         min_rows=MIN_ROWS)
    if len(body) > MAX_ROWS:
        raise TableError("too_many_rows", f"the file has {len(body):,} rows; the limit is {MAX_ROWS:,}",
                         rows=len(body), limit=MAX_ROWS)
    ragged = [line for line, row in body if len(row) != len(header)]
    if ragged:
        raise TableError("ragged", f"row {ragged[0]} has a different number of cells than the header",
                         row=ragged[0])
    names: list[str] = []
    for i, name in enumerate(header):  # empty names get a number, repeated names a suffix: no column is lost
        base = name = name.strip() or f"column {i + 1}"
        copy = 1
        while name in names:
            copy += 1
            name = f"{base} ({copy})"
        names.append(name)
    columns, skipped, missing = {}, [], {}
    for j, name in enumerate(names):
        try:
            values = [_number(row[j]) for _, row in body]
        except ValueError:
            example = _decimal_comma([row[j] for _, row in body])
            if example is not None:
                raise TableError("decimal_comma", f"column {name!r} writes its numbers with a comma ({example}); "
                                 "write them with a decimal point and no thousands separator", column=name,
                                 example=example)
            skipped.append(name)
            continue
        beyond = [(line, row[j].strip()) for (line, row), v in zip(body, values) if v is not None and math.isinf(v)]
        if beyond:
            line, cell = beyond[0]
            raise TableError("not_finite", f"column {name!r}, row {line}: {cell} is infinite or beyond the largest "
                             "number a float64 holds (about 1.8e308)", column=name, row=line, value=cell)
        gaps = [line for (line, _), v in zip(body, values) if v is None]
        if gaps:
            missing[name] = gaps
        columns[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if not columns:
        raise TableError("no_numeric", "no column holds only numbers", skipped=", ".join(skipped))
    if missing:
        where = "; ".join(f"{name} (row {', '.join(map(str, rows_[:3]))}{'...' if len(rows_) > 3 else ''})"
                          for name, rows_ in missing.items())
        raise TableError("missing", f"missing values in {where}", where=where)
    return Table(columns, skipped)
