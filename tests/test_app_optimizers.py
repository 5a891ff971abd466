"""The Optimizers page under AppTest: each section in both languages, a divergence shown as such at
the extreme learning rate, the numbers the CLI prints for the same link, the run history and the
code the page offers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import open_page, setting
from nnkit.experiments.optimizers import OptimizersParams
from ui.locales import en, zh

STRINGS = {"en": en.STRINGS, "zh": zh.STRINGS}


def chart_specs(at) -> list[str]:
    return [c.proto.spec for c in at.get("vega_lite_chart")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_race_draws_in_both_languages_with_every_optimizer(lang):
    strings = STRINGS[lang]
    at = open_page("optimizers", lang, {"optimizers": ["gd", "momentum", "nesterov", "adagrad", "rmsprop",
                                                       "adadelta", "adam", "adamw"], "steps": "100"})
    assert not at.exception, at.exception
    assert at.title[0].value == strings["opt.title"]
    assert at.header[0].value == strings["opt.race"]
    assert len(chart_specs(at)) == 4  # the map, loss, step size, and the run history's overlay
    table = at.dataframe[0].value
    assert len(table) == 8 and set(table[strings["opt.col.outcome"]]) == {strings["opt.outcome.finished"]}
    assert [e.label for e in at.expander if e.label == strings["choice.adamw"]]  # each rule written out
    assert any(strings["runs.title"].format(count=8) == e.label for e in at.expander)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_largest_learning_rate_diverges_with_a_message_and_the_cli_agrees(lang):
    strings = STRINGS[lang]
    query = {"landscape": "rosenbrock", "optimizers": ["gd", "adam"], "lr_gd": "10", "lr_adam": "0.1", "steps": "3000",
             "start": "9.5, -9.5"}
    at = open_page("optimizers", lang, query)
    assert not at.exception, at.exception
    cli = json.loads(subprocess.run([sys.executable, "-m", "nnkit", "run", "optimizers", "--json"] +
                                    [f"--set={k}={','.join(v) if isinstance(v, list) else v}" for k, v in query.items()],
                                    capture_output=True, text=True, check=True).stdout)["optimizers"]
    assert cli["gd"]["outcome"] == "diverged" and cli["adam"]["outcome"] == "finished"
    names = strings["choice.gd"]
    assert strings["opt.diverged"].format(names=names) in [e.value for e in at.error]
    table = at.dataframe[0].value
    assert list(table[strings["opt.col.outcome"]])[0] == strings["opt.outcome.diverged"].format(
        step=cli["gd"]["diverged_at"])
    assert list(table[strings["opt.col.distance"]]) == [f"{cli[n]['distance']:.6g}" for n in ("gd", "adam")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_triad_draws_four_rates(lang):
    at = open_page("optimizers", lang, {"section": "triad", "curvature": "10", "x0": "-10"})
    assert not at.exception, at.exception
    assert at.header[0].value == STRINGS[lang]["opt.triad"]
    assert any(STRINGS[lang]["opt.triad.explain"].format(critical="0.2")[:12] in m.value for m in at.markdown)
    assert len(chart_specs(at)) == 2
    data = b"".join(d.data.data for d in at.get("vega_lite_chart")[0].proto.datasets)  # the x-chart's rows (Arrow)
    for kind, lr in (("too_small", 0.004), ("right", 0.08), ("oscillating", 0.18), ("diverging", 0.21)):
        assert f"{STRINGS[lang][f'opt.triad.kind.{kind}']} (η = {lr:.3g})".encode() in data


def test_a_bad_start_point_is_reported_and_the_page_keeps_working():
    at = open_page("optimizers", "en", {"start": "1, two"})
    assert not at.exception, at.exception
    assert at.dataframe  # the default start point is used
    setting(at, OptimizersParams, "start").set_value("1").run()
    assert not at.exception, at.exception
    assert any("2" in e.value for e in at.error)  # needs two numbers


def test_the_code_shown_is_the_export_for_these_settings():
    from dataclasses import replace

    from nnkit.experiments.optimizers import export_code

    at = open_page("optimizers", "en", {"optimizers": ["nesterov"], "lr_nesterov": "0.002"})
    p = replace(OptimizersParams(), optimizers=("nesterov",), lr_nesterov=0.002)
    assert at.code[-1].value == export_code(p, "en").strip()  # st.code drops the final newline


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_data_section_draws_three_methods_at_the_extremes(lang):
    strings = STRINGS[lang]
    at = open_page("optimizers", lang, {"section": "data", "samples": "2000", "batch_size": "512", "data_lr": "1",
                                        "data_epochs": "1"})
    assert not at.exception, at.exception
    assert at.header[0].value == strings["opt.data"]
    assert len(chart_specs(at)) == 2
    methods = list(at.table[0].value[strings["opt.data.col.method"]])
    assert methods == [strings["opt.data.method.gd"].format(batch=2000), strings["opt.data.method.sgd"].format(batch=1),
                       strings["opt.data.method.minibatch"].format(batch=512)]
    # one sample at lr 1 runs away (said as such); the whole set and batches of 512 take their steps
    assert strings["opt.diverged"].format(names=methods[1]) in [e.value for e in at.error]
    updates = list(at.table[0].value[strings["opt.data.col.updates"]])
    assert updates[0] == 1 and updates[2] == 4 and updates[1] < 2000
    assert list(at.table[0].value[strings["opt.data.col.loss"]])[1] == strings["opt.outcome.diverged"].format(
        step=updates[1] + 1)


def test_each_optimizer_has_one_colour_on_the_map_and_on_the_curves():
    """The map coloured its paths alphabetically and the curves in the order chosen: in Chinese
    Adam's path was blue on the map and red on the curves."""
    from ui.charts import lines
    from ui.optimizers.race import contour
    import numpy as np

    names = ["GD(SGD)", "动量法", "RMSProp", "Adam"]
    paths = tuple((name, [(0.0, 0.0), (0.5, 0.5)]) for name in names)
    xs = ys = np.linspace(-1, 1, 5)
    spec = contour(xs, ys, np.add.outer(ys, xs) ** 2, (-1, 1, -1, 1), paths, (0.0, 0.0), "map")
    trail = next(layer for layer in spec["layer"] if layer["encoding"].get("color", {}).get("field") == "optimizer")
    curves = lines([{"step": 1, "loss": 1.0, "optimizer": n} for n in names], "step", "loss", "optimizer", "x", "y")
    assert trail["encoding"]["color"]["scale"]["domain"] == curves["encoding"]["color"]["scale"]["domain"] == names


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_section_that_trains_nothing_shows_no_empty_run_history_but_keeps_the_runs_of_others(lang):
    strings = STRINGS[lang]
    at = open_page("optimizers", lang, {"section": "loss_functions"})
    assert not at.exception, at.exception
    assert not [e for e in at.expander if e.label.startswith(strings["runs.title"].split("{")[0])]
    at = open_page("optimizers", lang, {"optimizers": ["gd", "adam"], "steps": "50"})
    assert any(e.label == strings["runs.title"].format(count=2) for e in at.expander)
    setting(at, OptimizersParams, "section").set_value("loss_functions").run()
    assert not at.exception, at.exception
    assert at.header[0].value == strings["opt.loss_functions"]
    assert any(e.label == strings["runs.title"].format(count=2) for e in at.expander)  # still there to compare
