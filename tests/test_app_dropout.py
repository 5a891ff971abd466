"""The Dropout page under AppTest: each section in both languages, the numbers the exported script
prints, rates at their ends, stepping through the masks, and the trainings in the run history."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import open_page
from nnkit.experiments.base import parse
from nnkit.experiments.dropout import DropoutParams, export_code
from ui.locales import en, zh

FAST = {"epochs": "30"}
SECTIONS = {"compare_rates": 7, "train_eval": 3, "ensemble": 5, "masks": 2}  # charts, the runs overlay included


def chart_specs(at) -> list[str]:
    return [c.proto.spec for c in at.get("vega_lite_chart")]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_section_draws_in_both_languages(section, lang):
    at = open_page("dropout", lang, {"section": section, **FAST})
    assert not at.exception, at.exception
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    assert at.title[0].value == strings["drp.title"]
    assert at.header[0].value == strings[f"drp.{section}"]
    assert len(chart_specs(at)) == SECTIONS[section]
    assert any(strings[f"drp.{section}.intro"][:30] in m.value for m in at.markdown)


def test_the_comparison_table_shows_what_the_exported_script_prints(tmp_path):
    at = open_page("dropout", "en", {"rates": "0, 0.5", **FAST})
    table = at.dataframe[0].value
    assert list(table["Dropout rate p"]) == ["0", "0.5"]
    p, _ = parse(DropoutParams, {"rates": "0, 0.5", **FAST})
    script = tmp_path / "exported.py"
    script.write_text(export_code(p, "en"), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = re.findall(r"^rate \S+: train loss = (\S+), validation loss = (\S+), validation accuracy = (\S+), "
                         r"best validation loss = (\S+)$", done.stdout, re.M)
    assert len(printed) == 2
    for row, (train, val, acc, best) in zip(table.to_dict("records"), printed):
        assert row["Training loss"] == pytest.approx(float(train), abs=1e-5)
        assert row["Validation loss"] == pytest.approx(float(val), abs=1e-5)
        assert row["Best validation loss"] == pytest.approx(float(best), abs=1e-5)
        assert row["Validation accuracy"] == pytest.approx(float(acc), abs=1e-5)


def test_each_rate_of_a_comparison_is_a_run_and_a_deleted_run_stays_deleted():
    at = open_page("dropout", "en", {"rates": "0, 0.2, 0.5", **FAST})
    assert any(e.label == en.STRINGS["runs.title"].format(count=3) for e in at.expander)
    at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith("dropout.runs.pick"))).set_value("#1").run()
    at.button(key="dropout.runs.delete").click().run()
    assert not at.exception, at.exception
    assert any(e.label == en.STRINGS["runs.title"].format(count=2) for e in at.expander)
    at.slider(key="dropout.noise").set_value(0.2).run()  # a new comparison: three more runs
    assert any(e.label == en.STRINGS["runs.title"].format(count=5) for e in at.expander)


def test_train_vs_eval_shows_twenty_passes_and_the_forgotten_eval():
    at = open_page("dropout", "en", {"section": "train_eval", **FAST})
    shown = metrics(at)
    assert shown["Test accuracy, eval mode"].endswith("%")
    low, high = shown["With dropout on: lowest to highest"].split(" – ")
    assert float(low[:-1]) < float(high[:-1])  # twenty scorings with dropout on do not agree
    import pyarrow as pa

    strip = next(c for c in at.get("vega_lite_chart") if "forward pass" in c.proto.spec)
    tables = [pa.ipc.open_stream(d.data.data).read_all().to_pydict() for d in strip.proto.datasets]
    passes = [table["y"] for table in tables if "x" in table]
    assert [len(ys) for ys in passes] == [20] and len(set(passes[0])) == 20  # twenty different outputs
    table = at.dataframe[0].value
    assert len(table) == 8 and "PyTorch: average of h·m/(1-p)" in table.columns
    assert float(shown["PyTorch: largest |average - test|"]) < 0.05
    # at p = 0.5, scaling by the drop probability is the course's rule (p = 1 - p): the mistake hides
    assert shown["Scaled by p: largest |average - test|"] == shown["Course: largest |average - test|"]


def test_scaling_by_the_drop_probability_is_wrong_away_from_one_half():
    shown = metrics(open_page("dropout", "en", {"section": "train_eval", "rate": "0.2", **FAST}))
    assert float(shown["PyTorch: largest |average - test|"]) < 0.05
    assert float(shown["Course: largest |average - test|"]) < 0.05
    assert float(shown["Scaled by p: largest |average - test|"]) > 0.05


def test_the_two_conventions_side_by_side_speak_chinese():
    # the two code boxes were English on the Chinese page ("# the course", "# train: h * m")
    at = open_page("dropout", "zh", {"section": "train_eval", "rate": "0.2", **FAST})
    boxes = [c.value for c in at.code if "p_keep = 0.8" in c.value or "nn.Dropout(p=0.2)" in c.value]
    assert len(boxes) == 2, [c.value for c in at.code]
    assert boxes[0] == "# PyTorch\nnn.Dropout(p=0.2)  # 训练: h * m / (1 - p)\nmodel.eval()  # 测试: h"
    assert boxes[1] == "# 课程\np_keep = 0.8  # 训练: h * m\n# 测试: h * p_keep"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_rate_zero_says_why_nothing_changes(lang):
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    at = open_page("dropout", lang, {"section": "train_eval", "rate": "0", **FAST})
    assert not at.exception, at.exception
    assert any(i.value == strings["drp.rate_zero"] for i in at.info)
    at = open_page("dropout", lang, {"section": "masks", "layer_rates": "0, 0"})
    assert any(i.value == strings["drp.masks.none"] for i in at.info)


@pytest.mark.parametrize("query, name", [({"rate": "1"}, "rate"), ({"rates": "0, 1"}, "rates"),
                                         ({"layer_rates": "0.5, 2"}, "layer_rates")])
def test_a_rate_of_one_or_more_in_a_link_is_refused_in_the_learners_language(query, name):
    at = open_page("dropout", "zh", {"section": "masks" if name == "layer_rates" else "train_eval", **FAST, **query})
    assert not at.exception, at.exception
    warning = at.warning[0].value
    assert zh.STRINGS["url.notice"] in warning and f"{name}:" in warning and "超出了范围 [0, 0.9]" in warning


def test_a_bad_list_of_rates_typed_in_the_box_is_explained_and_the_page_keeps_working():
    at = open_page("dropout", "en", {"section": "masks"})
    at.text_input(key="dropout.layer_rates").set_value("0.5, x").run()
    assert not at.exception, at.exception
    assert any("is not a number" in e.value for e in at.error)
    assert len(chart_specs(at)) == 2  # the default rates are drawn meanwhile


def shown_pass(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Pass "))


def network_data(at) -> bytes:
    """What the network chart sends to the browser: its units, kept or dropped, and its edges."""
    chart = next(c for c in at.get("vega_lite_chart") if '"detail"' in c.proto.spec)
    return b"".join(d.data.data for d in chart.proto.datasets)


def test_stepping_through_the_masks():
    at = open_page("dropout", "en", {"section": "masks", "passes": "5"})
    assert shown_pass(at).startswith("Pass 1:")
    first = network_data(at)
    at.button(key="drp_next").click().run()
    assert shown_pass(at).startswith("Pass 2:")
    assert network_data(at) != first  # other units dropped
    at.slider(key="drp_pass").set_value(5).run()
    at.button(key="drp_next").click().run()
    assert shown_pass(at).startswith("Pass 1:")  # after the last pass comes the first again
    assert any(m.value.startswith("**4,096**") for m in at.markdown)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_courses_preset_rates_are_one_click_away(lang):
    at = open_page("dropout", lang, {"section": "masks", "passes": "5"})
    assert at.button(key="drp_preset_0.5_0.5").disabled  # the default: already there
    at.button(key="drp_preset_0.5_0.3").click().run()
    assert not at.exception, at.exception
    assert at.text_input(key="dropout.layer_rates").value == "0.5, 0.3"
    assert at.button(key="drp_preset_0.5_0.3").disabled and not at.button(key="drp_preset_0.5_0.5").disabled
    hidden = (en.STRINGS if lang == "en" else zh.STRINGS)["drp.masks.hidden"]
    names = network_data(at)
    assert hidden.format(n=2, rate="0.3").encode() in names and hidden.format(n=1, rate="0.5").encode() in names


DIGITS_FAST = {"subset": "50", "digit_epochs": "10", "rates": "0, 0.5"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_digits_comparison_in_both_languages_has_its_numbers_and_says_why_there_are_no_regions(lang):
    from nnkit.experiments.dropout import run, summary

    strings = en.STRINGS if lang == "en" else zh.STRINGS
    at = open_page("dropout", lang, {"section": "compare_rates", **DIGITS_FAST})
    at.selectbox(key="dropout.dataset").set_value("digits").run()  # the learner picks the digits
    assert not at.exception, at.exception
    sliders = {s.key for s in at.slider}
    assert {"dropout.subset", "dropout.digit_epochs"} <= sliders and not {"dropout.n_points", "dropout.noise"} & sliders
    table = at.dataframe[0].value
    p, _ = parse(DropoutParams, {"dataset": "digits", **DIGITS_FAST})
    s = summary(run(p))
    assert list(table[strings["drp.table.val_loss"]]) == pytest.approx(s["val_loss"], abs=1e-6)
    assert list(table[strings["drp.table.gap"]]) == pytest.approx(s["gap"], abs=1e-6)
    assert list(table[strings["drp.table.best_val_acc"]]) == pytest.approx(s["best_val_acc"], abs=1e-6)
    assert len(chart_specs(at)) == 4  # three loss charts and the runs overlay: no region maps
    assert any(c.value == strings["drp.regions.digits"] for c in at.caption)
    assert any(m.value == strings["drp.compare_rates.digits"] for m in at.markdown)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_digits_in_a_section_that_draws_the_plane_are_refused_and_the_page_keeps_working(lang):
    at = open_page("dropout", lang, {"section": "train_eval", "dataset": "digits", **FAST})
    assert not at.exception, at.exception
    message = at.error[0].value
    assert "digits" in message and "moons" in message
    assert ("不在" in message) == (lang == "zh")
