"""The "your own data" section: upload a CSV, pick columns, fit the same models as the page.

An upload is never part of the link (files do not fit in a URL); the column choices, the degree
and the gradient-descent settings live in the session, next to the columns they fit (the page's own
learning rate and iterations belong to its tasks, and the polynomial task has none). Every problem
with the file is named, and the page around it keeps working.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from nnkit.datasets.tabular import MAX_BYTES, Table, TableError, read_csv
from nnkit.experiments.base import specs
from nnkit.experiments.regression import RegressionParams
from nnkit.regression import fit_columns
from ui import charts
from ui.i18n import t
from ui.shared import USER_DATA_TTL_S, shared
from ui.text import literal, message

EXAMPLE = "size_m2,rooms,age_years,price_k\n" + "\n".join(
    f"{s},{r},{a},{round(1.9 * s + 12 * r - 0.8 * a + 40 + e, 1)}"
    for s, r, a, e in zip(range(40, 160, 4), [1, 2, 3, 2, 3, 4] * 5, [5, 30, 12, 1, 22, 8] * 5,
                          [3.1, -4.2, 0.5, 6.3, -2.2, -5.0, 1.7, 2.9, -0.4, 4.4] * 3))


def _read(data: bytes) -> Table | TableError:
    """The parsed file, or what is wrong with it (kept in the cache as well: the same file, the same answer)."""
    try:
        return read_csv(data)
    except TableError as err:
        return err


def gradient_settings() -> tuple[float, int]:
    """Learning rate and iterations for the fit, with the page's defaults and ranges."""
    table = specs(RegressionParams)
    (lr0, lr_spec), (it0, it_spec) = table["lr"], table["iterations"]
    left, right = st.columns(2)
    lr = left.number_input(t("param.reg.lr"), float(lr_spec.lo), float(lr_spec.hi), float(lr0),
                           step=float(lr_spec.lo) * 10, format="%.4f", key="csv_lr", help=t("param.reg.lr.help"))
    iterations = right.slider(t("param.iterations"), int(it_spec.lo), int(it_spec.hi), int(it0), key="csv_iterations",
                              help=t("param.iterations.help"))
    return lr, iterations


def own_data_section() -> None:
    st.header(t("csv.title"))
    st.markdown(t("csv.intro", limit=MAX_BYTES // 2**20))
    st.download_button(t("csv.example"), EXAMPLE, file_name="houses.csv", mime="text/csv", key="csv_example")
    # No max_upload_size (see ui.classifier.drawing_view): read_csv names the file's size and the limit.
    upload = st.file_uploader(t("csv.upload"), type=["csv", "txt"], key="csv_file")
    if upload is None:
        return
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()  # the file's identity in the shared cache, never its name
    table = shared("csv_read", digest, lambda listen: _read(data), total=1, ttl=USER_DATA_TTL_S)
    if table is None:
        return
    if isinstance(table, TableError):
        st.error(message("csv.error", table))
        return
    names = list(table.columns)
    if len(names) < 2:
        st.error(t("csv.error.one_column", name=literal(names[0])))
        return
    if table.skipped:
        st.info(t("csv.skipped", columns=", ".join(literal(name) for name in table.skipped)))
    # A new file or a new target can leave stale choices behind: drop them before the widgets read them.
    if st.session_state.get("csv_y") not in names:
        st.session_state.pop("csv_y", None)
    left, mid, right = st.columns([2, 1, 1])
    y_name = mid.selectbox(t("csv.y"), names, index=len(names) - 1, key="csv_y")
    if "csv_x" in st.session_state:
        st.session_state["csv_x"] = [n for n in st.session_state["csv_x"] if n in names and n != y_name]
    x_names = left.multiselect(t("csv.x"), [n for n in names if n != y_name], default=[names[0]] if names[0] != y_name
                               else [names[1]], key="csv_x")
    if not x_names:
        st.info(t("csv.pick_x"))
        return
    degree = right.slider(t("param.degree"), 1, 10, 1, key="csv_degree", disabled=len(x_names) > 1,
                          help=t("csv.degree.help"))
    lr, iterations = gradient_settings()
    x = np.column_stack([table.columns[n] for n in x_names])
    y = table.columns[y_name]
    degree = degree if len(x_names) == 1 else 1
    fit = shared("csv_fit", (digest, tuple(x_names), y_name, degree, lr, iterations),
                 lambda listen: fit_columns(x, y, degree, lr, iterations, callback=listen), total=iterations,
                 ttl=USER_DATA_TTL_S)
    if fit is None:
        return
    undetermined(fit, x_names, y_name)
    st.metric("R²", "—" if np.isnan(fit["r2"]) else f"{fit['r2']:.4f}", help=t("csv.r2.help"))
    terms = [f"{x_names[0]}^{k}" if k > 1 else x_names[0] for k in range(1, degree + 1)] if len(x_names) == 1 \
        else x_names
    gd = fit["gd"]
    st.dataframe({t("csv.term"): terms + [t("csv.bias")],
                  t("reg.least_squares"): list(fit["least_squares"]) + [fit["least_squares_bias"]],
                  t("csv.gd"): (list(gd.weights) + [gd.bias]) if gd.outcome != "diverged" else [None] * (len(terms) + 1)},
                 hide_index=True)
    if gd.outcome == "diverged":
        st.error(t("reg.diverged", who=t("csv.gd"), lr=lr))
    if len(x_names) == 1:
        order = np.argsort(x[:, 0])
        points = [{"x": float(a), "y": float(b), "set": t("reg.data")} for a, b in zip(x[:, 0], y)]
        curve = [{"x": float(x[i, 0]), "y": float(fit["predicted"][i]), "curve": t("reg.least_squares")} for i in order]
        st.vega_lite_chart(spec=charts.points_and_curves(points, curve, x_names[0], y_name), width="stretch")
    else:
        points = [{"x": float(a), "y": float(b), "set": t("reg.data")} for a, b in zip(y, fit["predicted"])]
        diagonal = [{"x": float(v), "y": float(v), "curve": "y = ŷ"} for v in (y.min(), y.max())]
        st.vega_lite_chart(spec=charts.points_and_curves(points, diagonal, y_name, t("csv.predicted")), width="stretch")


def undetermined(fit: dict, x_names: list[str], y_name: str) -> None:
    """Name what leaves R² or the weights without a meaning, before the numbers are shown."""
    if np.isnan(fit["r2"]):
        st.warning(t("csv.constant_y", name=literal(y_name)))
    if fit["constant"]:
        st.warning(t("csv.constant_x", columns=", ".join(literal(x_names[j]) for j in fit["constant"])))
    if fit["rank"] < fit["terms"]:
        st.warning(t("csv.dependent", terms=fit["terms"], rank=fit["rank"]))
