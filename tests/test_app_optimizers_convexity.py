"""The Optimizers page's loss_functions section and the race's clipping and start-by-click under
AppTest: each in both languages, every setting at its ends, the page's numbers equal to the CLI's,
and the float widgets showing their values with the decimals they need."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import open_page
from nnkit.experiments.base import specs
from nnkit.experiments.optimizers import OptimizersParams, SETTINGS
from nnkit.landscapes import LANDSCAPES
from ui.locales import en, zh

STRINGS = {"en": en.STRINGS, "zh": zh.STRINGS}
NUMBERS = [n for n in SETTINGS["loss_functions"] if specs(OptimizersParams)[n][1].kind in ("int", "float")]


def cli(query: dict) -> dict:
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "optimizers", "--json"] +
                          [f"--set={k}={v}" for k, v in query.items()], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_section_draws_its_three_parts_and_its_numbers_equal_the_clis(lang):
    strings = STRINGS[lang]
    query = {"section": "loss_functions", "convex_fn": "quartic", "nonconvex_fn": "double_well", "point_a": "-2",
             "point_b": "1.5", "lam": "0.5", "sigma": "0.5", "mle_samples": "100"}
    at = open_page("optimizers", lang, query)
    assert not at.exception, at.exception
    assert at.header[0].value == strings["opt.loss_functions"]
    assert [h.value for h in at.subheader][:3] == [strings["opt.conv.test"], strings["opt.conv.jensen"],
                                                   strings["opt.conv.mle"]]
    assert len(at.get("vega_lite_chart")) == 8  # f and f'' of each loss, Jensen twice, NLL and MSE
    want = cli(query)
    shown = [m.value for m in at.markdown]
    quartic = want["test"]["quartic"]  # convex although f''(0) = 0: the notes' test would call it flat
    assert strings["opt.conv.verdict.convex"].format(low=f"{quartic['min_d2']:.4g}", at="0.00") in shown
    well = want["test"]["double_well"]
    assert strings["opt.conv.verdict.not_convex"].format(
        where="[-0.80, 0.80]", share=f"{100 * well['negative_share']:.0f}", low="-2", at="0.00") in shown
    j = want["jensen"]["double_well"]
    assert strings["opt.conv.jensen.numbers"].format(x="-0.25", value=f"{j['f_x']:.4g}", chord=f"{j['chord']:.4g}",
                                                     gap=f"{j['gap']:.4g}") in shown
    assert strings["opt.conv.jensen.fails"] in shown and strings["opt.conv.jensen.holds"] in shown
    m = want["likelihood"]
    assert m["scale"] == 100 / (2 * 0.25)
    assert any(f"**{m['argmin_nll']:.4f}**" in s and f"**{m['argmin_mse']:.4f}**" in s and f"{m['const']:.4f}" in s
               for s in shown)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("end", ["lo", "hi"])
def test_every_setting_of_the_section_at_its_ends(end, lang):
    table = specs(OptimizersParams)
    query = {"section": "loss_functions", **{n: str(getattr(table[n][1], end)) for n in NUMBERS}}
    query.update(convex_fn="affine" if end == "lo" else "logcosh", nonconvex_fn="sigmoid_mse" if end == "lo" else "wavy")
    at = open_page("optimizers", lang, query)
    assert not at.exception, at.exception
    assert not at.warning, at.warning[0].value  # nothing in the link was refused
    assert at.header[0].value == STRINGS[lang]["opt.loss_functions"]
    assert len(at.get("vega_lite_chart")) == 8
    # a = b: the chord is one point and equals the function (gap 0, the inequality holds)
    want = cli(query)["jensen"]
    assert all(j["gap"] == pytest.approx(0, abs=1e-12) and j["holds"] for j in want.values())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_clipping_on_the_cliff_keeps_every_step_short(lang):
    strings = STRINGS[lang]
    query = {"landscape": "cliff", "start": "2.5, 1.5", "optimizers": "gd", "lr_gd": "0.2"}
    plain = open_page("optimizers", lang, query)
    clipped = open_page("optimizers", lang, {**query, "clip": "true", "max_norm": "1"})
    for at in (plain, clipped):
        assert not at.exception, at.exception
    column = strings["opt.col.largest_step"]
    assert float(plain.dataframe[0].value[column][0]) > 8  # thrown across the plot at the edge
    assert float(clipped.dataframe[0].value[column][0]) <= 0.2
    assert strings["opt.clip.on"].format(max_norm="1") in [c.value for c in clipped.caption]
    assert clipped.slider(key="optimizers.max_norm").value == 1.0
    assert not [c for c in plain.slider if c.key == "optimizers.max_norm"]  # shown only with clipping on


# --- choosing the start point by a click on the map (AppTest cannot click: the event is built here) ---

def event(cell) -> dict:
    from ui.optimizers.race import PICK

    return {"selection": {PICK: cell}}


@pytest.mark.parametrize("given, start", [
    (event([{"x": 0.45, "x2": 0.55, "y": 1.15, "y2": 1.25}]), (0.5, 1.2)),  # the centre of the clicked cell
    (event([{"x": -2.05, "x2": -1.95, "y": -1.05, "y2": -0.95}]), (-2.0, -1.0)),
    (event([{"x": 0.3, "y": -0.7}]), (0.3, -0.7)),  # a point without cell edges is taken as it is
    (event([]), None), (event({}), None), ({"selection": {}}, None), ({}, None), (None, None),  # no click
    (event([{"x": 9.0, "x2": 9.1, "y": 0.0, "y2": 0.1}]), None),  # outside Rosenbrock's box
    (event([{"x": "nan", "x2": "nan", "y": 0.0, "y2": 0.0}]), None), (event([{"x": "a", "y": 1}]), None),
    (event([{"y": 1.0}]), None),
])
def test_a_click_on_the_map_becomes_the_start_point(given, start):
    from ui.optimizers.race import start_from_selection

    assert start_from_selection(given, LANDSCAPES["rosenbrock"].box) == start


def test_the_map_carries_the_click_selection_on_its_heatmap():
    from ui.optimizers.race import PICK

    at = open_page("optimizers", "en")
    assert not at.exception, at.exception
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    params = [p for layer in spec["layer"] for p in layer.get("params", [])] + spec.get("params", [])
    assert [p["select"] for p in params if p["name"] == PICK] == [{"type": "point", "fields": ["x", "x2", "y", "y2"],
                                                                     "on": "click"}]


# --- float widgets show the decimals they need ---

def test_float_widgets_show_their_values_with_the_decimals_they_need():
    """β₂'s slider showed 0.999 as "1.00" (Streamlit's default "%0.2f")."""
    at = open_page("optimizers", "en", {"optimizers": "adam", "beta2": "0.999"})
    beta2 = at.slider(key="optimizers.beta2")
    assert beta2.proto.format % 0.999 == "0.9990" and beta2.proto.format % 0.9999 == "0.9999"
    assert at.slider(key="optimizers.beta1").proto.format % 0.9 == "0.900"
    lr = at.number_input(key="optimizers.lr_adam")
    assert lr.proto.format % 1e-8 == "1e-08" and lr.proto.format % 0.05 == "0.05"  # not 0.0000


@pytest.mark.parametrize("spec, shown", [(dict(lo=0.0, hi=0.9999, step=0.001), "0.9990"),
                                         (dict(lo=0.0, hi=1.0, step=0.05), "0.99"), (dict(lo=-3.0, hi=3.0, step=0.1), "1.0"),
                                         (dict(lo=1.0, hi=10.0, step=1.0), "1"), (dict(lo=1e-8, hi=1.0, log=True), "0.999")])
def test_the_format_follows_the_step_and_the_ends(spec, shown):
    from nnkit.experiments.base import Spec
    from ui.params import number_format

    value = {"0.9990": 0.999, "0.99": 0.99, "1.0": 1.0, "1": 1.0, "0.999": 0.999}[shown]
    assert number_format(Spec("float", **spec)) % value == shown
