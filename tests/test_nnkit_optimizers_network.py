"""The Optimizers page's network section: every optimizer trains the same network on the same batches,
Adam then SGD is Adam's run continued by SGD, the progress counts its epochs, Stop keeps what was
trained, the run records, the CLI, and the exported script that prints the page's numbers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace

import pytest
import torch

from nnkit.experiments import optimizers_network as N
from nnkit.experiments.optimizers import EXPERIMENT, OptimizersParams, epochs_total, records, run, summary
from nnkit.experiments.optimizers_network_export import COMMENTS
from nnkit.train import StopTraining, fit

SMALL = replace(OptimizersParams(), section="network", subset=100, net_epochs=6, switch_epoch=3, net_batch_size=16)


def _curve(result: dict, name: str, key: str = "val_loss") -> list[float]:
    return [row[key] for row in result["trained"][name].history]


def test_adam_then_sgd_is_adam_for_k_epochs_then_sgd_on_the_same_weights():
    p = replace(SMALL, net_optimizers=("adam", "momentum", "adam_sgd"), net_lr_adam_sgd=0.03)
    result = run(p)
    adam, switched = _curve(result, "adam"), _curve(result, "adam_sgd")
    assert switched[:3] == adam[:3]  # the same start, the same batches, the same Adam
    assert switched[3] != adam[3] and switched[3] != _curve(result, "momentum")[3]
    # what SGD does after the switch, done by hand from Adam's network after 3 epochs
    data = N.digit_split(p)
    alone = N.train_network(data, replace(p, net_epochs=3), "adam")
    optimizer = torch.optim.SGD(alone.model.parameters(), lr=0.03, momentum=0.9)
    done = fit(alone.model, torch.nn.CrossEntropyLoss(), optimizer, data.part("train"), epochs=3, batch_size=16,
               val=data.part("val"), shuffle_seed=p.seed, score_train=True, start_epoch=3)
    assert [e["val_loss"] for e in done.epochs] == pytest.approx(switched[3:], rel=1e-6)


def test_a_switch_after_the_last_epoch_is_adam_alone():
    p = replace(SMALL, net_optimizers=("adam", "adam_sgd"), switch_epoch=50)
    result = run(p)
    assert _curve(result, "adam_sgd") == _curve(result, "adam") and result["switch"] == 6


def test_the_progress_counts_every_epoch_event_and_stop_keeps_what_was_trained():
    p = replace(SMALL, net_optimizers=("sgd", "adam", "adam_sgd"))
    events = []
    run(p, events.append)
    assert sum(e["event"] == "epoch" for e in events) == epochs_total(p) == 18

    seen = []

    def stop_at_eight(event):
        if event["event"] == "epoch":
            seen.append(event)
            if len(seen) == 8:
                raise StopTraining

    result = run(p, stop_at_eight)
    assert result["stopped"] and list(result["trained"]) == ["sgd", "adam"]  # adam_sgd never started
    assert len(result["trained"]["sgd"].history) == 6 and len(result["trained"]["adam"].history) == 2  # its 2nd epoch was trained
    made = records(p, result)
    assert [r.outcome for r in made] == ["completed", "stopped"] and len(made[1].history) == 2


def test_each_network_is_a_run_record_with_its_own_learning_rates():
    p = replace(SMALL, net_optimizers=("momentum", "adam_sgd"))
    result = run(p)
    made = records(p, result)
    assert [r.settings["net_optimizers"] for r in made] == [["momentum"], ["adam_sgd"]]
    assert "net_lr_momentum" in made[0].settings and "net_lr_adam" not in made[0].settings
    assert "switch_epoch" not in made[0].settings
    assert {"net_lr_adam", "net_lr_adam_sgd", "switch_epoch"} <= set(made[1].settings)
    assert "net_lr_momentum" not in made[1].settings
    assert made[1].x == "epoch" and [row["epoch"] for row in made[1].history] == [1, 2, 3, 4, 5, 6]
    assert made[1].summary["val_acc"] == pytest.approx(summary(result)["optimizers"]["adam_sgd"]["val_acc"])
    seconds = [row["seconds"] for row in made[1].history]
    assert all(b > a for a, b in zip(seconds, seconds[1:]))  # wall seconds add up


def test_the_summary_ranks_by_validation_accuracy_and_counts_one_image_as_the_same():
    p = replace(SMALL, net_optimizers=("sgd", "adam", "nesterov"))
    s = summary(run(p))
    accs = {n: v["val_acc"] for n, v in s["optimizers"].items()}
    assert s["advice"]["ranked"] == sorted(accs, key=lambda n: -accs[n])
    assert s["advice"]["adam"] == "adam" and s["advice"]["sgd"] == "nesterov" and s["advice"]["switch"] is None
    assert s["advice"]["same"] == pytest.approx(1 / s["n_val"])
    for v in s["optimizers"].values():  # accuracies are whole validation images
        assert v["val_acc"] * s["n_val"] == pytest.approx(round(v["val_acc"] * s["n_val"]))


def test_a_huge_learning_rate_wrecks_its_network_without_an_exception_and_the_others_still_train():
    p = replace(SMALL, net_optimizers=("sgd", "adam"), net_lr_sgd=10.0)
    s = summary(run(p))
    assert s["optimizers"]["sgd"]["val_acc"] < 0.15 < 0.3 < s["optimizers"]["adam"]["val_acc"]  # chance is 10%
    assert s["advice"]["ranked"] == ["adam", "sgd"]


def test_the_defaults_train_every_optimizer_past_ninety_percent():
    s = summary(run(replace(OptimizersParams(), section="network")))
    assert set(s["optimizers"]) == {"sgd", "momentum", "adam", "adam_sgd"}
    assert all(v["val_acc"] > 0.9 and v["reached_epoch"] is not None for v in s["optimizers"].values())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_exported_script_prints_the_pages_numbers(lang, tmp_path):
    p = replace(SMALL, net_optimizers=tuple(N.NAMES), seed=2)
    want = summary(run(p))["optimizers"]
    path = tmp_path / "network.py"
    path.write_text(EXPERIMENT.export_code(p, lang), encoding="utf-8")
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True).stdout
    for name, numbers in want.items():
        line = re.search(rf"^{name}: train loss (\S+), validation loss (\S+), validation accuracy (\S+)$", out, re.M)
        assert float(line[1]) == pytest.approx(numbers["train_loss"], rel=1e-5)
        assert float(line[2]) == pytest.approx(numbers["val_loss"], rel=1e-5)
        assert float(line[3]) == pytest.approx(numbers["val_acc"], abs=1e-6)


def test_comment_tables_have_the_same_keys_in_both_languages():
    assert set(COMMENTS["en"]) == set(COMMENTS["zh"])


def test_cli_gives_each_optimizers_final_validation_loss_and_accuracy():
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "optimizers", "--set", "section=network",
                           "--set", "net_optimizers=sgd,adam", "--set", "net_epochs=5", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)["optimizers"]
    assert set(got) == {"sgd", "adam"}
    p = replace(OptimizersParams(), section="network", net_optimizers=("sgd", "adam"), net_epochs=5)
    want = summary(run(p))["optimizers"]
    for name in got:
        assert got[name]["val_loss"] == pytest.approx(want[name]["val_loss"], rel=1e-5)
        assert got[name]["val_acc"] == pytest.approx(want[name]["val_acc"])
