"""nnkit.dropout and the Dropout experiment: masks and scaling against PyTorch's own dropout, the
two conventions in expectation, train vs eval mode, Monte Carlo averaging, rates at their ends,
the MLP builder's dropout, the run records, the CLI and the exported script."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from nnkit import dropout as D
from nnkit.experiments.base import ParamError, parse
from nnkit.experiments.dropout import (SECTIONS, DropoutParams as P, epochs_total, export_code, record, records, run,
                                       summary)
from nnkit.experiments.dropout_inside import KS
from nnkit.models import mlp
from nnkit.runs import settings_of

FAST = {"epochs": 20}


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9])
def test_masks_and_scaling_are_pytorchs_dropout_for_the_same_generator(p):
    x = torch.randn(64, 33)
    torch.manual_seed(11)
    expected = F.dropout(x, p, training=True)
    mask = D.keep_mask(x.shape, p, torch.Generator().manual_seed(11))
    assert torch.allclose(D.inverted(x, mask, p), expected)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    torch.manual_seed(11)
    assert torch.allclose(nn.Dropout(p)(x), expected)  # the module draws the same


def test_a_dropout_network_trains_without_the_shared_seed_lock_and_as_the_global_generator_would():
    """A server's visitors share torch's global generator behind one lock: a dropout training
    draws its masks from a private generator instead, the very masks nn.Dropout would draw."""
    from nnkit import overfitting as O
    from nnkit.device import _SEED_LOCK
    from nnkit.optim import make_optimizer

    data = O.toy_split("moons", 90, 0.3, 0)
    locked = []
    net = O.train_one(data, [16, 16], activation="relu", lr=0.01, epochs=5, batch_size=16, seed=3,
                      dropout=0.5, callback=lambda event: locked.append(_SEED_LOCK.locked()))
    assert locked and not any(locked)
    # the reference: nn.Dropout's own forward on torch's global generator, seeded as the script does
    torch.manual_seed(3)
    model = mlp(2, [16, 16], 2, "relu", dropout=0.5)
    optimizer = make_optimizer("adam", model.parameters(), 0.01)  # train_one's optimizer
    ref = O.fit(model, nn.CrossEntropyLoss(), optimizer, data.part("train"), epochs=5, batch_size=16,
                val=data.part("val"), shuffle_seed=3, score_train=True)
    assert [e["train_loss"] for e in net.history] == [e["train_loss"] for e in ref.epochs]
    assert all(torch.equal(a, b) for a, b in zip(net.model.state_dict().values(), model.state_dict().values()))
    x = torch.randn(5, 2)
    torch.manual_seed(0)
    after = net.model.train()(x)
    torch.manual_seed(0)
    assert torch.equal(after, model.train()(x))  # after training, the layers draw from the global generator again


@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
def test_both_conventions_match_their_test_output_in_expectation(p):
    h = torch.rand(8)  # outputs of a ReLU layer: non-negative
    e = D.expectations(h, p, 1_000_000, torch.Generator().manual_seed(0))
    assert (e["inverted_train"] - e["inverted_eval"]).abs().max() < 1e-2
    assert (e["original_train"] - e["original_eval"]).abs().max() < 1e-2
    assert torch.allclose(e["inverted_eval"], h) and torch.allclose(e["original_eval"], h * (1 - p))
    assert e["kept_share"] == pytest.approx(1 - p, abs=1e-2)
    # scaling by the drop probability at test time (ConvNetJS) is off by |1 - 2p| h, except at 0.5
    off = (e["original_train"] - e["drop_scaled_eval"]).abs().max()
    assert off < 1e-2 if p == 0.5 else off > 0.1


@pytest.mark.parametrize("p", [1.0, 1.5, -0.1])
def test_a_rate_that_makes_no_sense_is_refused_with_its_reason(p):
    with pytest.raises(D.DropoutError, match="at least 0 and below 1") as err:
        D.keep_mask((3,), p)
    assert err.value.code == "rate"
    with pytest.raises(D.DropoutError):
        D.inverted(torch.ones(3), torch.ones(3), p)


def test_rate_zero_keeps_everything():
    assert D.keep_mask((1000,), 0.0).min() == 1
    assert D.thinned_networks(12) == 4096
    assert len(D.mask_passes([6, 6], [0.5, 0.0], 5, 0)) == 5
    assert all(sum(one[1]) == 6 for one in D.mask_passes([6, 6], [0.5, 0.0], 5, 0))


def test_the_page_refuses_rates_outside_its_range():
    for bad in ({"rate": "1"}, {"rates": "0, 1"}, {"layer_rates": "0.95"}, {"rates": "-0.1"}):
        with pytest.raises(ParamError, match="outside"):
            parse(P, bad)


def test_a_rate_listed_twice_is_compared_once_and_each_layer_keeps_its_own_rate():
    # "0.5, 0.5" trained the same network twice: two identical rows, curves and regions under one label
    p, _ = parse(P, {"rates": "0.5, 0, 0.5", "layer_rates": "0.5, 0.5", **{k: str(v) for k, v in FAST.items()}})
    assert p.rates == (0.5, 0.0) and epochs_total(p) == 2 * FAST["epochs"]
    assert p.layer_rates == (0.5, 0.5)  # one rate per layer: a repeat is a layer


def test_mlp_without_dropout_is_the_network_it_always_was():
    torch.manual_seed(3)
    before = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    torch.manual_seed(3)
    now = mlp(2, [5, 4], 3)
    assert [type(m) for m in now] == [type(m) for m in before]
    assert all(torch.equal(a, b) for a, b in zip(now.state_dict().values(), before.state_dict().values()))
    torch.manual_seed(3)
    assert [type(m) for m in mlp(2, [5, 4], 3, dropout=0.0)] == [type(m) for m in before]


def test_mlp_puts_one_dropout_after_each_activation_with_its_own_rate():
    torch.manual_seed(3)
    model = mlp(2, [5, 4, 3], 2, dropout=[0.5, 0.0, 0.3])
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Linear", "ReLU", "Dropout", "Linear"]
    assert [m.p for m in model if isinstance(m, nn.Dropout)] == [0.5, 0.3]
    torch.manual_seed(3)
    plain = mlp(2, [5, 4, 3], 2)
    # dropout layers have no weights: the same seed gives the same initial weights
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), plain.parameters()))
    with pytest.raises(ValueError, match="2 dropout rates for 3 hidden layers"):
        mlp(2, [5, 4, 3], 2, dropout=[0.5, 0.5])


def test_train_mode_varies_eval_mode_is_deterministic_and_modes_are_restored():
    torch.manual_seed(0)
    model = mlp(2, [32], 2, dropout=0.5)
    x = torch.randn(1, 2)
    outs = D.train_mode_outputs(model, x, 20, seed=1)
    assert len({round(float(o[0, 0]), 6) for o in outs}) == 20
    model.eval()
    first = D.eval_output(model, x)
    assert all(torch.equal(first, D.eval_output(model, x)) for _ in range(5))
    assert not model.training  # left as it was
    assert torch.equal(D.train_mode_outputs(model, x, 20, seed=1), outs)  # seeded: the same masks


def test_mc_average_approaches_the_eval_prediction_as_k_grows():
    # dropout right before the output layer: the expected logits are exactly the eval-mode logits
    torch.manual_seed(0)
    model = mlp(2, [64], 2, dropout=0.5)
    x = torch.randn(200, 2)
    logits = D.train_mode_outputs(model, x, 4096, seed=0)
    eval_logits = D.eval_output(model, x)
    errors = [float((logits[:k].mean(0) - eval_logits).abs().mean()) for k in (4, 64, 4096)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.01
    mc = D.mc_average(model, x, [1, 8, 128], seed=0)
    distance = [float((mc["mean"][k] - mc["eval"]).abs().mean()) for k in (1, 8, 128)]
    assert distance[0] > distance[1] > distance[2]
    assert torch.allclose(mc["mean"][1], torch.softmax(logits[0], -1), atol=1e-6)  # the same masks, seeded


def test_forgetting_eval_changes_the_score_from_scoring_to_scoring():
    torch.manual_seed(0)
    model = mlp(2, [64], 2, dropout=0.5)
    x, y = torch.randn(300, 2), torch.randint(0, 2, (300,))
    got = D.forgot_eval(model, (x, y), 10, seed=0)
    assert len(set(got["train_mode"])) > 1
    with torch.no_grad():
        model.eval()
        assert got["eval_mode"] == pytest.approx(float((model(x).argmax(1) == y).float().mean()))


@pytest.mark.parametrize("section", SECTIONS)
def test_each_section_reports_every_epoch_and_repeats_itself(section):
    p = replace(P(section=section), **FAST)
    epochs = []
    a = summary(run(p, lambda e: epochs.append(e) if e["event"] == "epoch" else None))
    assert len(epochs) == epochs_total(p)
    assert json.dumps(a) == json.dumps(summary(run(p)))
    if section != "masks":
        assert json.dumps(a) != json.dumps(summary(run(replace(p, seed=1))))


def test_comparison_trains_one_network_per_rate_and_records_each_as_a_run_of_its_own():
    p = replace(P(rates=(0.0, 0.5)), **FAST)
    result = run(p)
    s = summary(result)
    assert s["rates"] == [0.0, 0.5] and len(s["val_loss"]) == 2
    made = records(p, result)
    assert [r.settings["rates"] for r in made] == ["0", "0.5"] and record(p, result).settings == made[-1].settings
    # a run's settings remake that network alone, with the same numbers
    again = summary(run(P(**settings_of(made[1], P))))
    assert again["val_loss"] == [s["val_loss"][1]] and again["train_loss"] == [s["train_loss"][1]]
    assert records(replace(p, section="masks", epochs=20), run(replace(p, section="masks"))) == []


def test_a_stopped_comparison_keeps_the_networks_it_trained():
    from nnkit.train import StopTraining

    def stop_in_second(event):
        if event["event"] == "epoch" and event["model"] == 1 and event["epoch"] == 4:
            raise StopTraining

    p = replace(P(rates=(0.0, 0.3, 0.5)), **FAST)
    result = run(p, stop_in_second)
    s = summary(result)
    assert s["stopped"] and s["rates"] == [0.0, 0.3]  # the third never started
    made = records(p, result)
    assert [r.outcome for r in made] == ["completed", "stopped"]
    assert [len(r.history) for r in made] == [20, 5]


def test_cli_prints_the_validation_scores_per_rate():
    done = subprocess.run([sys.executable, "-m", "nnkit", "run", "dropout", "--set", "epochs=20", "--set",
                           "rates=0, 0.5", "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)
    s = summary(run(replace(P(rates=(0.0, 0.5)), **FAST)))
    assert cli["rates"] == [0.0, 0.5]
    for key in ("val_loss", "best_val_loss", "val_acc"):
        assert cli[key] == pytest.approx(s[key], abs=1e-9)


def _script(code: str, tmp_path) -> str:
    path = tmp_path / "exported.py"
    path.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _rates(out: str) -> list[tuple[float, ...]]:
    return [tuple(map(float, m)) for m in re.findall(
        r"^rate \S+: train loss = (\S+), validation loss = (\S+), validation accuracy = (\S+), "
        r"best validation loss = (\S+)$", out, re.M)]


@pytest.mark.parametrize("data", [{"batch_size": 16, "epochs": 30},
                                  {"dataset": "digits", "subset": 100, "digit_epochs": 10}], ids=["toy", "digits"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_exported_comparison_prints_the_pages_numbers(lang, data, tmp_path):
    p = P(rates=(0.0, 0.5), **data)
    s = summary(run(p))
    got = _rates(_script(export_code(p, lang), tmp_path))
    assert len(got) == 2
    for i, (train, val, acc, best) in enumerate(got):
        assert (train, val, acc, best) == pytest.approx((s["train_loss"][i], s["val_loss"][i], s["val_acc"][i],
                                                         s["best_val_loss"][i]), abs=2e-6)
    assert ("丢弃概率" in export_code(p, lang)) == (lang == "zh")


def test_exported_train_eval_and_ensemble_repeat_the_masks(tmp_path):
    p = replace(P(section="train_eval", n_points=90, batch_size=90), epochs=30)
    s = summary(run(p))
    out = _script(export_code(p, "en"), tmp_path)
    train = [float(v) for v in re.search(r"^train mode: (.*)$", out, re.M).group(1).split(", ")]
    assert train == pytest.approx(s["train_mode"], abs=2e-6)
    assert float(re.search(r"^eval mode: (\S+)$", out, re.M).group(1)) == pytest.approx(s["eval_mode"], abs=2e-6)
    forgot = [float(v) for v in re.search(r"dropout left on: (.*)$", out, re.M).group(1).split(", ")]
    assert forgot == pytest.approx(s["test_acc_forgot"], abs=2e-6)
    deviation = float(re.search(r"^inverted: max \|E\[train\] - test\| = (\S+)$", out, re.M).group(1))
    assert deviation == pytest.approx(s["deviation"]["inverted"], abs=2e-6)

    p = replace(p, section="ensemble")
    s = summary(run(p))
    out = _script(export_code(p, "en"), tmp_path)
    mc = [float(v) for v in re.findall(r"^K = \d+: validation accuracy = (\S+)$", out, re.M)]
    assert len(mc) == len(KS) and mc == pytest.approx(s["mc_val_acc"], abs=2e-6)


def test_exported_masks_are_the_pages(tmp_path):
    p = P(section="masks", layer_rates=(0.5, 0.3), units=5, passes=4, seed=7)
    result = run(p)
    out = _script(export_code(p, "zh"), tmp_path)
    printed = re.findall(r"^pass \d+: (.*)$", out, re.M)
    assert printed == [" | ".join("".join(map(str, m)) for m in one) for one in result["masks"]]
