"""The Gradients page under AppTest: each section in both languages, the presets' verdicts, an
overflow shown as such, the fixes side by side with clipping, the run history, the numbers the CLI
prints for the same link and the code the page offers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import open_page, setting
from nnkit.experiments.base import parse
from nnkit.experiments.gradients import GradientsParams, export_code
from ui.gradients.common import sci
from ui.locales import en, zh

FAST = {"depth": "8", "epochs": "20", "n_points": "64"}


def chart_specs(at) -> list[str]:
    return [c.proto.spec for c in at.get("vega_lite_chart")]


@pytest.mark.parametrize("section, n_charts", [("chain", 1), ("health", 5), ("fixes", 5)])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_section_draws_in_both_languages(section, n_charts, lang):
    query = {"section": section, **FAST, **({"clip": "norm"} if section == "fixes" else {})}
    at = open_page("gradients", lang, query)
    assert not at.exception, at.exception
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    assert at.title[0].value == strings["grd.title"]
    assert at.header[0].value == strings[f"grd.{section}"]
    assert any(strings[f"grd.{section}.explain"][:30] in m.value for m in at.markdown)
    assert len(chart_specs(at)) == n_charts  # the trained sections add the run history's overlay
    if section != "chain":
        assert any('"type": "log"' in spec for spec in chart_specs(at))  # norms span decades


def test_the_vanishing_preset_says_so_with_the_norms_the_cli_prints():
    query = {"section": "health", "activation": "sigmoid", "depth": "12", "epochs": "10", "n_points": "64"}
    at = open_page("gradients", "en", query)
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "gradients", "--json"] +
                          [f"--set={k}={v}" for k, v in query.items()], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)
    assert cli["verdict"] == "vanishing"
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("Vanishing") and sci(cli["norms"][0]) in warning and sci(cli["norms"][-1]) in warning


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_overflow_is_reported_as_such_and_nothing_crashes(lang):
    at = open_page("gradients", lang, {"section": "health", "activation": "relu", "init": "large", "depth": "50",
                                       "epochs": "10"})
    assert not at.exception, at.exception
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    errors = [e.value for e in at.error]
    assert any(e.startswith(strings["grd.verdict.overflow"][:8]) for e in errors)
    assert strings["grd.diverged"].format(step=1) in errors


def test_fixes_side_by_side_each_network_a_run_and_a_switch_changes_the_fixed_one():
    at = open_page("gradients", "en", {"section": "fixes", "activation": "relu", "init": "large", "fix_relu": "false",
                                       "fix_init": "false", "clip": "norm", "lr": "0.01", "epochs": "20",
                                       "n_points": "64"})
    assert not at.exception, at.exception
    assert [h.value for h in at.subheader][:2] == [en.STRINGS["grd.role.broken"], en.STRINGS["grd.role.fixed"]]
    assert en.STRINGS["grd.diverged"].format(step=2) in [e.value for e in at.error]  # the broken one only
    assert any(m.value.startswith("**Fixed network: the gradient norm before and after clipping") for m in at.markdown)
    assert any(e.label == en.STRINGS["runs.title"].format(count=2) for e in at.expander)
    setting(at, GradientsParams, "clip").set_value("none").run()
    assert not at.exception, at.exception
    # without clipping the "fixed" network is the broken one: it diverges too, and it is the same run
    assert [e.value for e in at.error].count(en.STRINGS["grd.diverged"].format(step=2)) == 2
    assert any(e.label == en.STRINGS["runs.title"].format(count=2) for e in at.expander)
    setting(at, GradientsParams, "fix_init").set_value(True).run()
    assert not at.exception, at.exception
    # N(0, 1) replaced by Kaiming: the fixed network trains without clipping, a new run beside the others
    assert [e.value for e in at.error].count(en.STRINGS["grd.diverged"].format(step=2)) == 1
    assert any(e.label == en.STRINGS["runs.title"].format(count=3) for e in at.expander)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_offers_the_script_of_its_settings(lang):
    query = {"section": "fixes", "fix_bn": "true", **FAST}
    at = open_page("gradients", lang, query)
    p, _ = parse(GradientsParams, query)
    assert at.code[-1].value.strip() == export_code(p, lang).strip()


def test_a_bad_threshold_in_the_link_is_refused_with_a_notice():
    at = open_page("gradients", "zh", {"section": "fixes", "clip_threshold": "0", **FAST})
    assert not at.exception, at.exception
    assert "clip_threshold" in at.warning[0].value
    assert setting(at, GradientsParams, "clip_threshold").value == GradientsParams().clip_threshold


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_by_hand_steps_forward_and_backward_to_the_update_and_agrees_with_autograd(lang):
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    at = open_page("gradients", lang, {"section": "by_hand", "activation": "tanh"})
    assert not at.exception, at.exception
    assert at.header[0].value == strings["grd.by_hand"]
    assert not at.dataframe  # nothing computed yet
    at.button(key="grd.hand.next").click().run()
    assert at.dataframe[0].value.iloc[0, 1] == "z1"
    for _ in range(5):
        at.button(key="grd.hand.next").click().run()
    table = at.dataframe[0].value
    assert list(table.iloc[:, 1]) == ["z1", "z2", "h1", "h2", "o", "L"]
    at.button(key="grd.hand.next").click().run()  # the first backward step
    progress = strings["grd.hand.progress"].format(shown=7, total=29, phase=strings["grd.hand.phase.backward"])
    assert progress in [m.value for m in at.markdown]
    for _ in range(22):
        at.button(key="grd.hand.next").click().run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert len(table) == 29 and table.iloc[-1, 1] == "c'"
    grads = table[table.iloc[:, 4] != ""]
    assert len(grads) == 9  # every parameter's gradient, with autograd's beside it
    assert all(abs(float(a) - float(b)) < 1e-9 for a, b in zip(grads.iloc[:, 3], grads.iloc[:, 4]))
    assert at.success[0].value.startswith(strings["grd.hand.agree"][:10])
    assert at.button(key="grd.hand.next").disabled
    # the graph names what each gradient is of (a node "z1 → h1" carries ∂L/∂h1, not ∂L/∂z1)
    graph = at.get("graphviz_chart")[0].proto.spec
    assert all(f"∂L/∂{name} = " in graph for name in ("w11", "w22", "v1", "h1", "h2", "o"))


def test_by_hand_refuses_a_bad_weight_list_with_a_message():
    at = open_page("gradients", "en", {"section": "by_hand", "hand_weights": "1, 2, 3"})
    assert not at.exception, at.exception
    assert "hand_weights" in at.warning[0].value
    at.button(key="grd.hand.all").click().run()
    assert len(at.dataframe[0].value) == 29  # the default weights, stepped through to the end


def test_a_network_whose_gradients_are_all_zero_is_vanishing_with_ratio_zero_not_infinite():
    # 50 ReLU layers from N(0, 0.01²): the activations underflow to 0, so every layer's gradient is 0
    at = open_page("gradients", "en", {"section": "health", "activation": "relu", "init": "small", "depth": "50",
                                       "epochs": "10", "n_points": "64"})
    assert not at.exception, at.exception
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("Vanishing") and "∞" not in warning


def test_a_loss_that_barely_moves_is_drawn_flat_on_an_axis_from_zero():
    # 8 sigmoid layers: the loss goes from 0.6944 to 0.6932 and stays; on an axis zoomed to that range it
    # looked like a plunge beside a verdict saying the network barely learns
    at = open_page("gradients", "en", {"section": "health", **FAST})
    assert not at.exception, at.exception
    assert at.warning[0].value.startswith("Vanishing")
    (spec,) = [json.loads(s) for s in chart_specs(at) if '"title": "loss"' in s]
    assert spec["encoding"]["y"]["scale"] == {"zero": True}


def test_a_curve_keeps_its_colour_whatever_its_translated_name():
    """Colours follow the order the code lists the curves in: in Chinese the fixed network (修好的)
    sorted before the broken one (坏掉的) and took its colour."""
    from ui import charts

    rows = [{"step": s, "loss": 1.0 / s, "network": name} for name in ("坏掉的网络", "修好的网络") for s in (1, 2)]
    spec = charts.lines(rows, "step", "loss", "network", "x", "y")
    assert spec["encoding"]["color"]["scale"]["domain"] == ["坏掉的网络", "修好的网络"]
    assert spec["encoding"]["strokeDash"]["scale"]["domain"] == ["坏掉的网络", "修好的网络"]
