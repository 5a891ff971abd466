"""The Regression page under AppTest: each task, divergence, the zero_grad switch, CSV uploads, extremes."""

from __future__ import annotations

import pytest

from conftest import open_page
from nnkit.datasets.tabular import MAX_BYTES
from nnkit.experiments.base import specs
from nnkit.experiments.regression import RegressionParams
from ui.locales import en, zh
from ui.own_data import EXAMPLE


def charts(at) -> int:
    return len(at.get("vega_lite_chart"))


def chart_bytes(chart) -> bytes:
    """A chart's spec and its data (Streamlit ships a spec's datasets separately, as Arrow)."""
    return chart.proto.spec.encode() + b"".join(ds.data.data for ds in chart.proto.datasets)


@pytest.mark.parametrize("task, n_charts", [("linear", 4), ("multiple", 3), ("polynomial", 2)])  # with the runs overlay
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_task_draws(task, n_charts, lang):
    at = open_page("regression", lang, {"task": task})
    assert not at.exception, at.exception
    assert charts(at) == n_charts
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    assert at.header[0].value == strings[f"reg.{task}" if task != "multiple" else "reg.multiple"]


def test_linear_shows_both_ways_agree_with_the_closed_form():
    at = open_page("regression", "en", {"iterations": "2000"})
    table = at.dataframe[0].value
    w = dict(zip(table[""], table["w"]))
    assert w["by hand"] == pytest.approx(w["least squares (closed form)"], abs=1e-6)
    assert w["nn.Linear"] == pytest.approx(w["by hand"], abs=1e-12)
    gap = next(m.value for m in at.metric if m.label == en.STRINGS["reg.agree"])
    assert float(gap) < 1e-10


def test_scrubbing_moves_the_line_not_the_training():
    at = open_page("regression")
    before = at.dataframe[0].value.copy()
    at.slider(key="reg_step").set_value(3).run()
    assert not at.exception
    assert at.dataframe[0].value.equals(before)
    assert any(b"after 3 steps" in chart_bytes(c) for c in at.get("vega_lite_chart"))


def test_forgetting_zero_grad_warns_and_changes_the_result():
    at = open_page("regression")
    w_zeroed = at.dataframe[0].value["w"][1]
    at.toggle(key="regression.zero_grad").set_value(False).run()
    assert not at.exception
    assert any("zero_grad()" in w.value for w in at.warning)
    assert abs(at.dataframe[0].value["w"][1] - w_zeroed) > 1e-3
    assert at.query_params["zero_grad"] == "false"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_too_high_a_learning_rate_says_diverged_without_a_crash(lang):
    at = open_page("regression", lang, {"lr": "10"})
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 2 and all("10.0" in e for e in errors)
    assert ("diverged" if lang == "en" else "发散") in errors[0]


def test_multiple_opens_on_settings_that_train():
    at = open_page("regression", "en", {"task": "multiple"})
    assert not at.exception and not at.error
    assert any("Largest stable learning rate" in c.value for c in at.caption)


def test_multiple_raw_diverges_where_standardized_converges():
    at = open_page("regression", "en", {"task": "multiple", "spread": "10"})
    assert [e.value for e in at.error] == [en.STRINGS["reg.diverged"].format(who="raw features", lr=0.1)]
    at.number_input(key="regression.lr").set_value(0.0001).run()
    assert not at.error


def test_csv_upload_good_file_fits():
    at = open_page("regression")
    at.file_uploader(key="csv_file").set_value(("houses.csv", EXAMPLE.encode(), "text/csv")).run()
    assert not at.exception and not at.error
    r2 = float(next(m.value for m in at.metric if m.label == "R²"))
    assert r2 > 0.9
    at.multiselect(key="csv_x").set_value(["size_m2", "rooms", "age_years"]).run()
    assert not at.exception
    fitted = at.dataframe[-1].value
    weights = dict(zip(fitted["term"], fitted["least squares (closed form)"]))
    assert weights["size_m2"] == pytest.approx(1.9, abs=0.1) and weights["rooms"] == pytest.approx(12, abs=3)
    # gradient descent on standardized columns, mapped back to the original units, bias included
    # (the features here have large means, so a wrong mapping of the bias shows)
    at.slider(key="csv_iterations").set_value(2000).run()
    fitted = at.dataframe[-1].value
    assert list(fitted["gradient descent (standardized)"]) == pytest.approx(
        list(fitted["least squares (closed form)"]), rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("content, code", [
    (b"", "empty"),
    (b"a,b\nx,y\nz,w\nq,r\n", "no_numeric"),
    (b"a,b\n1,2\n3,\n5,6\n7,8\n", "missing"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_text"),
    (b"a,b\n" + b"1,2\n" * (MAX_BYTES // 4 + 10), "too_big"),
    (b"just one line", "not_csv"),
])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_csv_upload_bad_files_say_what_is_wrong(content, code, lang):
    at = open_page("regression", lang)
    at.file_uploader(key="csv_file").set_value(("data.csv", content, "text/csv")).run()
    assert not at.exception
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    message = strings[f"csv.error.{code}"].split("{")[0]
    assert any(e.value.startswith(message) for e in at.error), [e.value for e in at.error]
    assert len(at.get("vega_lite_chart")) == 4  # the page above keeps working (3 charts and the runs overlay)
    if code == "too_big":  # the size and the limit, with thousands separators
        assert at.error[0].value == strings["csv.error.too_big"].format(size=len(content), limit=MAX_BYTES)
        assert f"{len(content):,}" in at.error[0].value and "1,048,576" in at.error[0].value


@pytest.mark.parametrize("content, expected", [
    (b"x,y\n1,2\n1e309,3\n4,5\n", {"en": "Column `x`, row 3: `1e309` is infinite", "zh": "`x` 列第 3 行:`1e309`"}),
    (b"x;y\n1,5;2\n2,5;3\n3;4\n", {"en": "Column `x` writes its numbers with a comma (`1,5`)",
                                    "zh": "`x` 列的数字用逗号表示小数(`1,5`)"}),
])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_csv_numbers_the_page_cannot_read_are_named(content, expected, lang):
    """Not "only one numeric column": the column, the row and the value, in the page's language."""
    at = open_page("regression", lang)
    at.file_uploader(key="csv_file").set_value(("data.csv", content, "text/csv")).run()
    assert not at.exception
    assert [e.value[: len(expected[lang])] for e in at.error] == [expected[lang]]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_csv_fits_that_cannot_be_told_apart_say_why(lang):
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    at = open_page("regression", lang)
    constant = b"x,c,y\n" + b"".join(b"%d,5,%d\n" % (i, 3 * i + (i % 3)) for i in range(10))
    at.file_uploader(key="csv_file").set_value(("c.csv", constant, "text/csv")).run()
    at.multiselect(key="csv_x").set_value(["c"]).run()
    assert not at.exception
    assert [w.value for w in at.warning] == [strings["csv.constant_x"].format(columns="`c`")]
    assert next(m.value for m in at.metric if m.label == "R²") == "0.0000"
    at.multiselect(key="csv_x").set_value(["x"]).run()
    assert not at.warning  # x varies: nothing to say
    doubled = b"a,b,y\n" + b"".join(b"%d,%d,%d\n" % (i, 2 * i, i * i) for i in range(10))
    at.file_uploader(key="csv_file").set_value(("d.csv", doubled, "text/csv")).run()
    at.multiselect(key="csv_x").set_value(["a", "b"]).run()
    assert [w.value for w in at.warning] == [strings["csv.dependent"].format(terms=2, rank=1)]
    flat = b"x,y\n" + b"".join(b"%d,7\n" % i for i in range(10))
    at.file_uploader(key="csv_file").set_value(("f.csv", flat, "text/csv")).run()
    at.multiselect(key="csv_x").set_value(["x"]).run()
    assert [w.value for w in at.warning] == [strings["csv.constant_y"].format(name="`y`")]
    assert next(m.value for m in at.metric if m.label == "R²") == "—"


@pytest.mark.parametrize("end", ["lo", "hi"])
@pytest.mark.parametrize("task", ["linear", "multiple", "polynomial"])
def test_every_slider_at_its_ends(end, task):
    query = {"task": task}
    for name, (_, spec) in specs(RegressionParams).items():
        if spec.kind in ("int", "float") and spec.ui:
            value = spec.lo if end == "lo" else spec.hi
            query[name] = str(int(value) if spec.kind == "int" else value)
    at = open_page("regression", "en", query, timeout=300)
    assert not at.exception, at.exception
    assert not at.warning or "zero_grad" in at.warning[0].value


def test_names_from_an_uploaded_csv_are_shown_as_text():
    from ui.text import literal

    hostile = "[log in](https://evil.example)"
    content = f"x,y,{hostile}\n" + "\n".join(f"{i},{2 * i + 1},word{i}" for i in range(12))
    at = open_page("regression")
    at.file_uploader(key="csv_file").set_value(("data.csv", content.encode(), "text/csv")).run()
    assert not at.exception, at.exception
    skipped = [i.value for i in at.info if "evil.example" in i.value]
    assert skipped and literal(hostile) in skipped[0] and "](" not in skipped[0].replace(literal(hostile), "")


def test_a_csv_is_parsed_and_fitted_once_for_every_rerun_and_every_visitor():
    from ui import shared as jobs
    from ui.own_data import EXAMPLE

    content = (EXAMPLE + "\n160,5,3,400.5\n").encode()  # a file no other test uploads
    before = jobs.results().computed.copy()
    for _ in range(2):  # two visitors with the same file
        at = open_page("regression")
        at.file_uploader(key="csv_file").set_value(("mine.csv", content, "text/csv")).run()
        at.slider(key="csv_iterations").set_value(300).run()
        at.run()  # an unrelated rerun
        assert not at.exception
    # one parse, one fit with the default iterations, one with 300: for both visitors and every rerun
    assert jobs.results().computed["csv_read"] - before["csv_read"] == 1
    assert jobs.results().computed["csv_fit"] - before["csv_fit"] == 2
    entry = jobs.results().entries[("csv_read", __import__("hashlib").sha256(content).hexdigest())]
    assert entry.expires is not None  # a visitor's own data expires


def _sweep_notes(at) -> dict[str, int]:
    """The sweep chart's labels: {text: degree}, from the data sent to the browser."""
    import json

    import pyarrow as pa

    found = {}
    for chart in at.get("vega_lite_chart"):
        if "mse" not in chart.proto.spec:
            continue
        for dataset in chart.proto.datasets:
            table = pa.ipc.open_stream(dataset.data.data).read_all().to_pydict()
            if "note" in table:
                found |= dict(zip(table["note"], table["degree"]))
        assert json.loads(chart.proto.spec)
    return found


def test_polynomial_task_shows_no_learning_rate_and_labels_what_the_numbers_say():
    at = open_page("regression", "en", {"task": "polynomial"})
    assert not at.exception
    keys = {w.key for w in (*at.slider, *at.number_input)}
    assert "regression.lr" not in keys and "regression.iterations" not in keys  # closed form: nothing to set
    assert "regression.degree" in keys
    # defaults: U-shaped, lowest at degree 3, both ends clearly worse
    assert _sweep_notes(at) == {"underfitting": 1, "overfitting": 15, "lowest validation error": 3}
    assert "lowest at degree 3" in at.markdown[-1].value or any("lowest at degree 3" in m.value for m in at.markdown)
    # 100 points of the noisy cubic: degree 15 beats degree 1, and neither end is clearly worse
    at = open_page("regression", "en", {"task": "polynomial", "n_points": "100", "noise": "0.3", "truth": "cubic"})
    assert _sweep_notes(at) == {"lowest validation error": 6}


def test_csv_section_has_its_own_learning_rate_in_every_task():
    at = open_page("regression", "en", {"task": "polynomial"})
    at.file_uploader(key="csv_file").set_value(("houses.csv", EXAMPLE.encode(), "text/csv")).run()
    assert not at.exception and not at.error
    assert at.number_input(key="csv_lr").value == RegressionParams().lr
    at.number_input(key="csv_lr").set_value(10.0).run()
    assert [e.value for e in at.error] == [en.STRINGS["reg.diverged"].format(who="gradient descent (standardized)",
                                                                               lr=10.0)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_linear_intro_says_whether_gradients_are_zeroed(lang):
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    at = open_page("regression", lang)
    intro = next(m.value for m in at.markdown if "nn.Linear" in m.value and "no_grad" in m.value)
    assert strings["reg.zeroing.on"] in intro and strings["reg.zeroing.off"] not in intro
    at = open_page("regression", lang, {"zero_grad": "false"})
    intro = next(m.value for m in at.markdown if "nn.Linear" in m.value and "no_grad" in m.value)
    assert strings["reg.zeroing.off"] in intro and strings["reg.zeroing.on"] not in intro


@pytest.mark.parametrize("task", ["linear", "multiple"])
def test_the_most_iterations_draw_without_error(task):
    """2 x 5,000 steps are thinned for the chart (Altair refuses over 5,000 rows)."""
    at = open_page("regression", "en", {"task": task, "iterations": "5000", "lr": "0.01"})
    assert not at.exception, at.exception
    assert charts(at) >= 3
