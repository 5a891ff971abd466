"""The Schedulers page's training, range-test and batch-size sections: what they train, the numbers
they report, the CLI, Stop, the run records, and the exported scripts (their numbers equal the page's)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace

import pytest
import torch
from torch import nn

from nnkit import schedules
from nnkit.experiments import schedulers as S
from nnkit.experiments.base import ParamError
from nnkit.experiments.schedulers_training import digits, network, spanning
from nnkit.train import StopTraining
from test_export import run_script

P = S.SchedulersParams


def small(section: str, **changes) -> P:
    """Short runs of each section (the defaults are timed in bench/)."""
    quick = {"training": {"train_epochs": 2}, "range_test": {"rt_epochs": 1, "rt_steps": 40},
             "batch_size": {"bs_epochs": 2}}[section]
    return replace(P(section=section), **{**quick, **changes})


def test_each_schedule_trains_the_same_network_on_the_same_batches_and_the_rates_are_torchs():
    p = small("training", train_schedules=("fixed", "step", "onecycle", "plateau"), train_optimizer="sgd",
              train_lr=0.05, train_epochs=3)
    result = S.run(p)
    fitted = result["fitted"]
    per = result["steps_per_epoch"]
    assert per == 36 and len(digits(0)[0][0]) == 1151
    assert fitted["fixed"].step_lrs == [0.05] * 3 * per
    assert fitted["step"].step_lrs == [0.05] * per + [0.025] * per + [0.0125] * per  # step_size: a third of 3
    onecycle = schedules.curve("onecycle", spanning(p, 3, 0.05, 1), 3 * per)
    assert fitted["onecycle"].step_lrs == onecycle  # the curves section's own curve, stepped by fit
    # the same initial weights and batches: the first batch's loss is the same for every schedule
    assert len({f.step_losses[0] for f in fitted.values()}) == 1
    summary = S.summary(result)["schedules"]
    assert set(summary) == {"fixed", "step", "onecycle", "plateau"}
    assert all(0.8 < s["val_accuracy"] <= 1 for s in summary.values()), summary


def test_the_warmup_preset_blows_up_without_warmup_and_trains_with_it():
    guided = next(g for g in S.GUIDED if g.id == "warmup_rescue")
    summary = S.summary(S.run(guided.params(P)))
    s = summary["schedules"]
    assert s["cosine"]["max_batch_loss"] > 20 and s["cosine"]["val_accuracy"] < 0.6
    assert s["warmup_cosine"]["max_batch_loss"] < 4 and s["warmup_cosine"]["val_accuracy"] > 0.9
    assert guided.promise(summary)


def test_a_warmup_longer_than_the_run_is_refused():
    with pytest.raises(ParamError) as err:
        S.check(small("training", train_warmup=72))  # 2 epochs of 36 batches
    assert err.value.code == "outside" and err.value.details["range"] == "[1, 71]"
    S.check(small("training", train_warmup=72, train_schedules=("cosine",)))  # no warm-up chosen: fine


def test_stop_keeps_what_was_trained_and_the_records_name_each_schedule():
    seen = []

    def stop_at_third_epoch(event):
        seen.append(event["event"])
        if seen.count("epoch") == 3:
            raise StopTraining

    p = small("training")
    result = S.run(p, stop_at_third_epoch)
    assert result["stopped"] and list(result["fitted"]) == ["fixed", "cosine"]
    records = S.records(p, result)
    assert [r.settings["train_schedules"] for r in records] == [["fixed"], ["cosine"]]
    assert records[1].outcome == "stopped" and len(records[1].history) == 1
    assert set(records[0].history[0]) == {"epoch", "train_loss", "val_loss", "lr"}
    assert S.epochs_total(p) == 6


def test_the_range_test_points_to_rates_and_trains_each():
    result = S.run(P(section="range_test", rt_epochs=2))
    summary = S.summary(result)
    assert summary["blew_up"] and summary["batches"] == 91
    assert summary["suggested_lr"] == pytest.approx(summary["min_loss_lr"] / 10, rel=1e-12)
    trained = summary["trained"]
    assert [trained[n]["lr"] for n in ("suggested", "minimum", "blow_up")] == [
        summary["suggested_lr"], summary["min_loss_lr"], summary["last_lr"]]
    assert trained["suggested"]["val_accuracy"] > 0.9 > trained["minimum"]["val_accuracy"]
    assert trained["blow_up"]["val_accuracy"] < 0.2
    records = S.records(result["params"], result)
    assert [r.summary["lr"] for r in records] == [trained[n]["lr"] for n in ("suggested", "minimum", "blow_up")]


def test_the_linear_scaling_rule_on_the_digits():
    result = S.run(P(section="batch_size"))
    assert [(r.summary["batch_size"], r.summary["lr"]) for r in S.records(result["params"], result)] == [
        (32, 0.01), (128, 0.01), (128, 0.04)]
    summary = S.summary(result)["runs"]
    assert [(r["batch_size"], r["lr"], r["steps"]) for r in summary.values()] == [(32, 0.01, 360), (128, 0.01, 90),
                                                                                 (128, 0.04, 90)]
    # measured: 0.243, 1.545, 0.256
    assert abs(summary["scaled"]["val_loss"] - summary["base"]["val_loss"]) < 0.05
    assert summary["unscaled"]["val_loss"] > 4 * summary["base"]["val_loss"]


def test_the_cli_gives_each_schedules_final_scores():
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "schedulers", "--set", "section=training",
                           "--set", "train_epochs=2", "--json"], capture_output=True, text=True, check=True)
    out = json.loads(done.stdout)
    page = S.summary(S.run(small("training")))
    assert out["schedules"].keys() == page["schedules"].keys() == {"fixed", "cosine", "warmup_cosine"}
    for name, numbers in page["schedules"].items():
        assert out["schedules"][name]["val_accuracy"] == pytest.approx(numbers["val_accuracy"], abs=1e-9)
        assert out["schedules"][name]["val_loss"] == pytest.approx(numbers["val_loss"], abs=1e-6)


NUMBER = r"(-?[\d.]+(?:e-?\d+)?)"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_exported_training_script_prints_the_pages_numbers(tmp_path, lang):
    p = small("training", train_schedules=("fixed", "warmup_cosine", "plateau", "multistep"), train_warmup=20)
    page = S.summary(S.run(p))["schedules"]
    out = run_script(S.export_code(p, lang), tmp_path)
    for name, loss, acc, lr in re.findall(rf"^(\w+): val_loss {NUMBER} val_accuracy {NUMBER} lr_last {NUMBER}$",
                                          out, re.M):
        assert float(loss) == pytest.approx(page[name]["val_loss"], abs=1e-5)
        assert float(acc) == pytest.approx(page[name]["val_accuracy"], abs=1e-5)
        assert float(lr) == pytest.approx(page[name]["lr_last"], rel=1e-5)
        page.pop(name)
    assert page == {}, out


def test_the_exported_range_test_and_batch_scripts_print_the_pages_numbers(tmp_path):
    p = small("range_test", rt_rates=("suggested", "blow_up"))  # the minimum's rate left out
    page = S.summary(S.run(p))
    assert list(page["trained"]) == ["suggested", "blow_up"] and S.epochs_total(p) == 1 + 2 * p.rt_epochs
    out = run_script(S.export_code(p), tmp_path)
    batches, best, at, suggested = re.search(
        rf"range test: (\d+) batches, lowest smoothed loss {NUMBER} at {NUMBER}, suggested {NUMBER}", out).groups()
    assert int(batches) == page["batches"] and float(best) == pytest.approx(page["min_smoothed_loss"], abs=1e-5)
    assert float(suggested) == pytest.approx(page["suggested_lr"], rel=1e-6)
    for name, lr, loss, acc in re.findall(rf"^(\w+): lr {NUMBER} val_loss {NUMBER} val_accuracy {NUMBER}$", out, re.M):
        assert float(loss) == pytest.approx(page["trained"][name]["val_loss"], abs=1e-5)
        assert float(acc) == pytest.approx(page["trained"][name]["val_accuracy"], abs=1e-5)
        page["trained"].pop(name)
    assert page["trained"] == {}, out
    p = small("batch_size", bs_factor=3, bs_runs=("scaled", "base"))
    page = S.summary(S.run(p))["runs"]
    assert list(page) == ["base", "scaled"] and [r["batch_size"] for r in page.values()] == [32, 96]
    out = run_script(S.export_code(p), tmp_path)
    for name, steps, loss, acc in re.findall(rf"^(\w+): batch \d+ lr \S+ steps (\d+) val_loss {NUMBER} "
                                             rf"val_accuracy {NUMBER}$", out, re.M):
        assert int(steps) == page[name]["steps"]
        assert float(loss) == pytest.approx(page[name]["val_loss"], abs=1e-5)
        assert float(acc) == pytest.approx(page[name]["val_accuracy"], abs=1e-5)
        page.pop(name)
    assert page == {}, out


def test_the_network_is_the_classification_pages_mlp_shape():
    model = network(0)
    assert [type(m) for m in model] == [nn.Linear, nn.ReLU, nn.Linear] and model[0].in_features == 64
    assert torch.equal(network(0)[0].weight, model[0].weight)


def test_the_scripts_comments_exist_in_both_languages():
    from nnkit.experiments.schedulers_training_export import COMMENTS

    assert COMMENTS["en"].keys() == COMMENTS["zh"].keys() and all(v.strip() for c in COMMENTS.values() for v in c.values())
    for section in ("training", "range_test"):
        script = S.export_code(P(section=section), "zh")
        assert COMMENTS["zh"]["after"] in script and COMMENTS["en"]["after"] not in script
