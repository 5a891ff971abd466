"""The Overfitting page under AppTest: each section in both languages, the settings at their ends,
the numbers the CLI prints for the same link, and the trainings in the run history."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import open_page
from nnkit.experiments.base import specs
from nnkit.experiments.overfitting import SETTINGS, OverfittingParams
from nnkit.experiments.overfitting_capacity import WIDTHS
from ui.locales import en, zh

FAST = {"capacity": {"epochs": "20"}, "approximation": {"approx_epochs": "40"}, "data_size": {"epochs": "10"}}


def chart_specs(at) -> list[str]:
    return [c.proto.spec for c in at.get("vega_lite_chart")]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("section, n_charts", [("capacity", 5), ("approximation", 3), ("data_size", 4)])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_section_draws_in_both_languages(section, n_charts, lang):
    at = open_page("overfitting", lang, {"section": section, **FAST[section]})
    assert not at.exception, at.exception
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    assert at.header[0].value == strings[f"ovf.{section}"]
    assert len(chart_specs(at)) == n_charts  # with the runs overlay
    assert any(strings[f"ovf.{section}.explain"][:30] in m.value for m in at.markdown)
    # the gap between the training and the validation curve is shaded on every section
    assert any('"mark": {"type": "area"' in spec or '"type": "area"' in spec for spec in chart_specs(at))


def test_capacity_draws_the_split_the_sweeps_and_scores_the_test_set_once():
    at = open_page("overfitting", "en", FAST["capacity"])
    shown = metrics(at)
    assert shown["Chosen network"].startswith("[") and shown["Test loss"] and shown["Test accuracy"].endswith("%")
    split = next(m.value for m in at.markdown if m.value.startswith("**The split.**"))
    assert "50 training points" in split and "50 validation points" in split and "50 test points" in split
    assert any(m.value == en.STRINGS["ovf.test.why"] for m in at.info)
    depth_note = next(m.value for m in at.markdown if "more depth helps generalization" in m.value)
    assert "at width 16" in depth_note
    # every network of both sweeps can show its curves
    options = at.selectbox(key="ovf_curves_of").options
    assert options[:len(WIDTHS)] == [f"[{w}]" for w in WIDTHS] and "[16, 16, 16, 16]" in options


def test_the_page_shows_what_the_cli_prints_for_the_same_settings():
    at = open_page("overfitting", "en", {"epochs": "30", "noise": "0.4", "seed": "3"})
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "overfitting", "--set", "epochs=30",
                           "--set", "noise=0.4", "--set", "seed=3", "--json"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)
    shown = metrics(at)
    assert shown["Chosen network"] == str(cli["chosen"]["hidden"])
    assert shown["Test loss"] == f"{cli['test']['loss']:.4f}" and shown["Validation loss"] == f"{cli['chosen']['val_loss']:.4f}"


def test_approximation_draws_one_piece_per_unit():
    at = open_page("overfitting", "en", {"section": "approximation", "units": "5", **FAST["approximation"]})
    assert metrics(at)[en.STRINGS["ovf.params"]] == str(3 * 5 + 1)
    assert any(c.value == en.STRINGS["ovf.pieces"].format(units=5, bias=c.value.rsplit(" ", 1)[-1][:-1])
               for c in at.caption)


def test_each_training_goes_into_the_run_history():
    at = open_page("overfitting", "en", FAST["capacity"])
    assert any(e.label == en.STRINGS["runs.title"].format(count=1) for e in at.expander)
    at.slider(key="overfitting.noise").set_value(0.1).run()
    assert not at.exception, at.exception
    assert any(e.label == en.STRINGS["runs.title"].format(count=2) for e in at.expander)
    assert len(chart_specs(at)) == 5


def _ends(section: str) -> list[tuple[str, str]]:
    table = specs(OverfittingParams)
    out = []
    for name in SETTINGS[section]:
        _, spec = table[name]
        if spec.kind in ("int", "float") and not spec.log:
            out += [(name, "lo"), (name, "hi")]
    return out


@pytest.mark.parametrize("section, name, end", [(s, n, e) for s in FAST for n, e in _ends(s)])  # the others: own files
def test_every_slider_at_its_ends(section, name, end):
    spec = specs(OverfittingParams)[name][1]
    value = spec.lo if end == "lo" else spec.hi
    query = {"section": section, **FAST[section], name: str(value)}
    if section != "approximation":
        query["epochs"] = "10" if name != "epochs" else query.get("epochs", "10")
    if name in ("epochs", "approx_epochs") and end == "hi":
        query["batch_size" if section != "approximation" else "units"] = "512" if section != "approximation" else "1"
    at = open_page("overfitting", "en", query)
    assert not at.exception, at.exception
    assert not at.warning, at.warning[0].value  # nothing in the link was refused
    assert at.header[0].value == en.STRINGS[f"ovf.{section}"]
