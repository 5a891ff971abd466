"""The Optimizers page's network section under AppTest: both languages, every slider at its ends,
the advice worded from the numbers in the table, a bad link, and the numbers the CLI prints."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import open_page, setting
from nnkit.experiments.base import specs
from nnkit.experiments.optimizers import SETTINGS, OptimizersParams
from ui.locales import en, zh

STRINGS = {"en": en.STRINGS, "zh": zh.STRINGS}
FAST = {"section": "network", "subset": "100", "net_epochs": "5"}


def _advice(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("- **"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_network_section_draws_curves_a_table_and_the_advice_in_both_languages(lang):
    strings = STRINGS[lang]
    at = open_page("optimizers", lang, FAST)
    assert not at.exception, at.exception
    assert at.header[0].value == strings["opt.network"]
    assert len(at.get("vega_lite_chart")) == 6 + 1  # three curves against epoch and seconds, and the runs overlay
    table = at.table[0].value
    names = [strings[f"choice.{n}"] for n in ("sgd", "momentum", "adam", "adam_sgd")]
    assert list(table[strings["opt.net.col.optimizer"]]) == names
    advice = _advice(at)
    for piece in ("adam", "sgd", "switch"):  # each piece of advice, and no "add it" note: all three ran
        assert strings[f"opt.net.advice.{piece}"].split("**")[1] in advice
        assert strings[f"opt.net.advice.{piece}.missing"] not in advice
    # the advice quotes the final accuracies the table shows for Momentum, Adam and Adam → SGD
    for acc in list(table[strings["opt.net.col.val_acc"]])[1:]:
        assert acc in advice


def test_the_advice_says_what_did_not_run():
    at = open_page("optimizers", "en", {**FAST, "net_optimizers": ["adagrad"]})
    assert not at.exception, at.exception
    advice = _advice(at)
    for piece in ("adam", "sgd", "switch"):
        assert en.STRINGS[f"opt.net.advice.{piece}.missing"] in advice
    assert setting(at, OptimizersParams, "net_lr_adagrad").value == OptimizersParams().net_lr_adagrad


def test_the_page_shows_what_the_cli_prints_for_the_same_settings():
    settings = {**FAST, "net_optimizers": "momentum,adam", "seed": "3"}
    at = open_page("optimizers", "en", {**settings, "net_optimizers": ["momentum", "adam"]})
    assert not at.exception, at.exception
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "optimizers", "--json",
                           *[a for k, v in settings.items() for a in ("--set", f"{k}={v}")]],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)["optimizers"]
    table = at.table[0].value
    assert list(table["final validation accuracy"]) == [f"{cli[n]['val_acc']:.1%}" for n in ("momentum", "adam")]
    assert list(table["validation loss"]) == [f"{cli[n]['val_loss']:.4f}" for n in ("momentum", "adam")]


def test_a_switch_past_the_last_epoch_is_said_and_a_bad_optimizer_falls_back_to_the_defaults():
    at = open_page("optimizers", "en", {**FAST, "switch_epoch": "9"})
    assert not at.exception, at.exception
    assert at.info[0].value == en.STRINGS["opt.net.no_switch"].format(epochs=5)
    at = open_page("optimizers", "en", {**FAST, "net_optimizers": ["adam", "lbfgs"]})
    assert not at.exception, at.exception
    assert "net_optimizers:" in at.warning[0].value
    assert len(at.table[0].value) == len(OptimizersParams().net_optimizers)  # the run went ahead with the defaults


def _ends() -> list[tuple[str, str]]:
    out = []
    for name in SETTINGS["network"]:
        spec = specs(OptimizersParams)[name][1]
        if spec.kind in ("int", "float") and not spec.log:
            out += [(name, "lo"), (name, "hi")]
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name, end", _ends())
def test_every_slider_at_its_ends(name, end, lang):
    spec = specs(OptimizersParams)[name][1]
    query = {**FAST, name: str(spec.lo if end == "lo" else spec.hi)}
    if end == "hi" and name in ("subset", "net_epochs"):
        query.update({"net_optimizers": ["adam", "adam_sgd"], "net_batch_size": "128"})
        query["net_epochs" if name == "subset" else "subset"] = "2" if name == "subset" else "50"
    at = open_page("optimizers", lang, query)
    assert not at.exception, at.exception
    assert not at.warning, at.warning[0].value  # nothing in the link was refused
    strings = STRINGS[lang]
    assert at.header[0].value == strings["opt.network"]
    assert at.table and strings["opt.net.advice"] in [m.value.strip("*") for m in at.markdown]
