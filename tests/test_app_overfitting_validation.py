"""The Overfitting page's validation and augmentation sections under AppTest: both languages, every
setting at its ends, and the numbers the CLI prints for the same link."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import open_page
from nnkit.experiments.base import specs
from nnkit.experiments.overfitting import SETTINGS, OverfittingParams
from ui.locales import en, zh

FAST = {"validation": {"epochs": "20", "folds": "2"}, "augmentation": {"aug_epochs": "5"}}


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart_specs(at) -> list[str]:
    return [c.proto.spec for c in at.get("vega_lite_chart")]


@pytest.mark.parametrize("section, n_charts", [("validation", 5), ("augmentation", 4)])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_section_draws_in_both_languages(section, n_charts, lang):
    at = open_page("overfitting", lang, {"section": section, **FAST[section]})
    assert not at.exception, at.exception
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    assert at.header[0].value == strings[f"ovf.{section}"]
    assert len(chart_specs(at)) == n_charts  # with the runs overlay
    assert any(strings[f"ovf.{section}.explain"][:30] in m.value for m in at.markdown)
    assert any('"type": "area"' in spec for spec in chart_specs(at))  # the gap shaded
    assert strings["ovf.test_acc"] in metrics(at)


def test_validation_draws_the_folds_states_the_rule_and_scores_the_test_set_once():
    at = open_page("overfitting", "en", {"section": "validation", "epochs": "20", "folds": "3"})
    assert not at.exception, at.exception
    shown = metrics(at)
    chosen, best = int(shown["Chosen (units)"]), int(shown["Lowest mean (units)"])
    assert chosen <= best  # Occam never picks a larger network than the best
    folds = next(m.value for m in at.markdown if m.value.startswith("**The folds.**"))
    assert "100 non-test points are cut into 3 folds of 34, 33, 33 points" in folds and "50 test points" in folds
    rule = next(m.value for m in at.markdown if m.value.startswith("**The rule"))
    assert f"**{chosen} units**" in rule and f"lowest mean is {best} units'" in rule
    # the folds drawn: three folds and the test set in the scatter's legend
    scatter = next(c for c in at.get("vega_lite_chart") if '"#d9d9d9"' in c.proto.spec)
    assert '"domain": ["fold 1", "fold 2", "fold 3", "test"]' in scatter.proto.spec  # the legend, in order
    points = scatter.proto.datasets[0].data.data  # Arrow bytes: the strings stand in them as they are
    assert all(f"fold {k}".encode() in points for k in (1, 2, 3)) and b"fold 4" not in points and b"test" in points
    assert any(m.value.startswith(f"The chosen network ({chosen} units) was then trained again on all 100")
               for m in at.info)


def test_augmentation_previews_real_digits_and_compares_the_two_trainings():
    at = open_page("overfitting", "en", {"section": "augmentation", "aug_epochs": "5", "subset": "60"})
    assert not at.exception, at.exception
    assert len(at.get("image")) == 6 * 6  # six digits, each with five augmented copies
    assert any(c.value.startswith("Real handwritten digits from scikit-learn: 60 training images") for c in at.caption)
    assert [m.label for m in at.metric] == ["Validation accuracy", "Test accuracy"] * 2
    verdict = next(m.value for m in at.markdown if m.value.startswith("**Here augmentation"))
    assert all(m.value in verdict for m in at.metric)  # the verdict quotes the numbers shown


@pytest.mark.parametrize("section", list(FAST))
def test_the_page_shows_what_the_cli_prints_for_the_same_settings(section):
    settings = {**FAST[section], "seed": "3"}
    at = open_page("overfitting", "en", {"section": section, **settings})
    args = [a for k, v in {"section": section, **settings}.items() for a in ("--set", f"{k}={v}")]
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "overfitting", *args, "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)
    shown = metrics(at)
    if section == "validation":
        assert shown["Chosen (units)"] == str(cli["chosen_width"]) and shown["Lowest mean (units)"] == str(cli["best_width"])
        assert shown["Test loss"] == f"{cli['test']['loss']:.4f}" and shown["Test accuracy"] == f"{cli['test']['acc']:.1%}"
    else:
        values = [m.value for m in at.metric]
        assert values == [f"{cli[n][k]:.1%}" for n in ("plain", "augmented") for k in ("val_acc", "test_acc")]


def _ends(section: str) -> list[tuple[str, str]]:
    out = []
    for name in SETTINGS[section]:
        spec = specs(OverfittingParams)[name][1]
        if spec.kind in ("int", "float") and not spec.log:
            out += [(name, "lo"), (name, "hi")]
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("section, name, end", [(s, n, e) for s in FAST for n, e in _ends(s)])
def test_every_slider_at_its_ends(section, name, end, lang):
    spec = specs(OverfittingParams)[name][1]
    query = {"section": section, **FAST[section], name: str(spec.lo if end == "lo" else spec.hi)}
    if section == "validation" and name != "batch_size":
        query["batch_size"] = "512"  # one step per epoch keeps the long ends quick
        if name == "epochs":
            query["n_points"] = "30"
    if section == "augmentation" and name == "aug_epochs" and end == "hi":
        query["subset"] = "20"
    at = open_page("overfitting", lang, query)
    assert not at.exception, at.exception
    assert not at.warning, at.warning[0].value  # nothing in the link was refused
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    assert at.header[0].value == strings[f"ovf.{section}"]
    if (name, end) != ("epochs", "hi"):  # 9 x 2,000 epochs: the server's training cap may end it first
        assert strings["ovf.test_acc"] in metrics(at)  # the run finished and scored the test set


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("section, bad", [("validation", {"folds": "1"}), ("validation", {"folds": "ten"}),
                                          ("augmentation", {"subset": "7", "shift": "-1", "degrees": "2.5"})])
def test_a_bad_value_in_the_link_falls_back_to_its_default_with_a_notice(section, bad, lang):
    at = open_page("overfitting", lang, {"section": section, **FAST[section], **bad})
    assert not at.exception, at.exception
    notice = at.warning[0].value
    assert all(f"{name}:" in notice for name in bad)
    strings = en.STRINGS if lang == "en" else zh.STRINGS
    assert strings["ovf.test_acc"] in metrics(at)  # the run went ahead with the defaults
    if section == "validation":
        assert at.slider(key="overfitting.folds").value == OverfittingParams().folds


def test_ten_folds_of_the_smallest_data_set_still_choose_and_score():
    at = open_page("overfitting", "en", {"section": "validation", "n_points": "30", "folds": "10", "epochs": "10"})
    assert not at.exception, at.exception
    folds = next(m.value for m in at.markdown if m.value.startswith("**The folds.**"))
    assert "20 non-test points are cut into 10 folds of 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 points" in folds
    assert "Test accuracy" in metrics(at)


def test_the_kfold_chart_keeps_the_candidates_order_and_the_chosen_colour():
    from ui import charts

    means = [{"model": m, "mean": v, "low": v - 0.1, "high": v + 0.1, "chosen": c}
             for m, v, c in (("2 units", 0.5, "chosen"), ("128 units", 0.4, "other"))]
    spec = json.dumps(charts.cv_scores(means, [{"model": "2 units", "loss": 0.45}], 0.5, ("chosen", "other"),
                                       "x", "loss", "Occam's line"))
    assert '"sort": ["2 units", "128 units"]' in spec  # not alphabetical: 128 would come first
    assert '"domain": ["chosen", "other"], "range": ["#e41a1c", "#377eb8"]' in spec  # the chosen one red in any language
    assert '"bar": 0.5' in spec and '"strokeDash": [5, 4]' in spec
