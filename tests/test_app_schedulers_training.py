"""The Schedulers page's training, range-test and batch-size sections under AppTest: each draws in both
languages with its settings at their ends, shows the numbers the CLI prints, keeps its runs, and says
what is wrong with a warm-up longer than the run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import open_page
from nnkit.experiments.base import specs
from nnkit.experiments.schedulers import SETTINGS, SchedulersParams
from ui.locales import en, zh

STRINGS = {"en": en.STRINGS, "zh": zh.STRINGS}
SECTIONS = ("training", "range_test", "batch_size")
OWN = {s: [n for n in SETTINGS[s] if n.startswith(("train_", "rt_", "bs_"))] for s in SECTIONS}


def ends(section: str, end: str) -> dict:
    """Every number setting of the section at one end (the warm-up kept inside the shortest run)."""
    query = {"section": section}
    for name in OWN[section]:
        spec = specs(SchedulersParams)[name][1]
        if spec.kind in ("int", "float"):
            query[name] = str(spec.lo if end == "lo" else spec.hi)
    if section == "training":
        query["train_warmup"] = "1" if end == "lo" else "100"  # 50 epochs of 3 batches: 150 steps
        query["train_schedules"] = ["warmup_cosine", "onecycle", "plateau", "warm_restarts"]
    return query


def cli(query: dict) -> dict:
    sets = [f"--set={k}={','.join(v) if isinstance(v, list) else v}" for k, v in query.items()]
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "schedulers", "--json", *sets], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("lang, end", [("en", "lo"), ("zh", "hi")])
def test_each_section_draws_with_its_settings_at_their_ends(section, lang, end):
    strings = STRINGS[lang]
    at = open_page("schedulers", lang, ends(section, end), timeout=300)
    assert not at.exception, at.exception
    assert not at.warning, at.warning[0].value  # nothing in the link was refused
    assert not at.error, at.error[0].value
    assert at.header[0].value == strings[f"sch.{section}"]
    table = at.table[0].value
    assert len(table) == {"training": 4, "range_test": 3, "batch_size": 3}[section]
    assert strings["sch.col.val_accuracy"] in table.columns
    assert at.get("vega_lite_chart"), "the section's chart"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_training_shows_the_clis_scores_and_keeps_a_run_per_schedule(lang):
    strings = STRINGS[lang]
    query = {"section": "training", "train_schedules": ["fixed", "step"], "train_epochs": "2"}
    at = open_page("schedulers", lang, query)
    assert not at.exception, at.exception
    out = cli(query)["schedules"]
    table = at.table[0].value
    assert list(table[strings["sch.col.schedule"]]) == [strings["choice.fixed"], strings["choice.step"]]
    assert list(table[strings["sch.col.val_accuracy"]]) == [f"{out[n]['val_accuracy']:.4f}" for n in ("fixed", "step")]
    assert list(table[strings["sch.col.val_loss"]]) == [f"{out[n]['val_loss']:.4f}" for n in ("fixed", "step")]
    assert any(e.label == strings["runs.title"].format(count=2) for e in at.expander)
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert len(spec["vconcat"]) == 2  # the batch losses above the learning rate, one step axis


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_warmup_longer_than_the_run_is_said_and_the_page_keeps_working(lang):
    at = open_page("schedulers", lang, {"section": "training", "train_epochs": "1", "train_warmup": "500"})
    assert not at.exception, at.exception
    message = STRINGS[lang]["param.error.outside"]
    assert at.error and "train_warmup" in at.error[0].value and message.split("{")[0].strip() in at.error[0].value


def test_the_range_test_and_the_batch_rule_show_the_clis_numbers():
    at = open_page("schedulers", "en", {"section": "range_test", "rt_epochs": "1"})
    assert not at.exception, at.exception
    out = cli({"section": "range_test", "rt_epochs": "1"})
    assert en.STRINGS["sch.range.blew_up"].format(batches=out["batches"], lr=f"{out['last_lr']:.3g}",
                                                 best=f"{out['min_loss_lr']:.3g}",
                                                 suggested=f"{out['suggested_lr']:.3g}") in [m.value for m in at.markdown]
    assert list(at.table[0].value[en.STRINGS["sch.col.val_accuracy"]]) == [
        f"{out['trained'][n]['val_accuracy']:.4f}" for n in ("suggested", "minimum", "blow_up")]
    at = open_page("schedulers", "en", {"section": "batch_size", "bs_epochs": "2"})
    out = cli({"section": "batch_size", "bs_epochs": "2"})["runs"]
    assert list(at.table[0].value[en.STRINGS["sch.col.val_loss"]]) == [
        f"{out[n]['val_loss']:.4f}" for n in ("base", "unscaled", "scaled")]
