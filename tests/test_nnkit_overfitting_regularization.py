"""The early-stopping and regularization sections of the Overfitting page: the weights they keep,
the trajectories they compare, the geometry they draw, and the scripts they export."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from nnkit import norm_geometry as G
from nnkit import overfitting as O
from nnkit.experiments import overfitting as H
from nnkit.experiments import overfitting_regularization as R
from nnkit.experiments.overfitting_export import COMMENTS as SHARED_COMMENTS
from nnkit.experiments.overfitting_regularization_export import COMMENTS
from nnkit.optim import make_optimizer
from nnkit.stopping import EarlyStopping
from nnkit.train import StopTraining, fit

NUM = r"(-?\d+\.\d+)"
EARLY = H.OverfittingParams(section="early_stopping", epochs=120, patience=10)


@pytest.fixture(scope="module")
def early():
    return H.run(EARLY)


def _every_epoch(p) -> tuple[list[float], list[dict]]:
    """An identical run without stopping: the validation loss and the weights after every epoch."""
    data = O.toy_split(p.dataset, p.n_points, p.noise, p.seed)
    model = O.network(data, R.WIDE, "relu", p.seed)
    states = []
    trained = O.train_one(data, R.WIDE, model=model, callback=lambda e: e["event"] == "epoch" and states.append(
        {k: v.clone() for k, v in model.state_dict().items()}), **R.training(p))
    return [e["val_loss"] for e in trained.history], states


def test_restored_weights_are_exactly_the_best_validation_epochs_of_a_run_without_stopping(early):
    val, states = _every_epoch(EARLY)
    best = int(np.argmin(val))
    s = H.summary(early)
    assert s["best_epoch"] == best + 1 and s["best_val_loss"] == val[best]
    restored = early["restored"].state_dict()
    assert all(torch.equal(restored[k], states[best][k]) for k in restored)
    assert not all(torch.equal(restored[k], states[-1][k]) for k in restored)  # not the last weights


def test_it_stops_patience_epochs_after_the_best_when_nothing_later_beats_min_delta(early):
    s = H.summary(early)
    assert s["stopped_epoch"] == s["best_epoch"] + EARLY.patience
    val = [e["val_loss"] for e in early["full"].history]
    assert min(val[s["best_epoch"]:s["stopped_epoch"]]) >= s["best_val_loss"] - EARLY.min_delta
    # the full run goes on to the last epoch, and overfits: its final validation loss is worse
    assert s["epochs"] == EARLY.epochs and s["final_val_loss"] > 1.5 * s["best_val_loss"]
    assert s["test"]["loss"] < s["test_stopped"]["loss"]


def test_min_delta_makes_small_improvements_not_count():
    p = H.OverfittingParams(section="early_stopping", epochs=120, patience=10, min_delta=0.05)
    s = H.summary(H.run(p))
    val, _ = _every_epoch(p)
    best = s["best_epoch"] - 1
    # each improvement beat the previous best by more than min_delta; none after it did
    assert min(val[best + 1:s["stopped_epoch"]]) >= val[best] - 0.05
    assert s["best_epoch"] != H.summary(H.run(EARLY))["best_epoch"]  # 44 vs a later, smaller-step best


def test_the_stopped_weights_are_those_of_a_run_that_really_stopped(early):
    p = EARLY
    data = O.toy_split(p.dataset, p.n_points, p.noise, p.seed)
    model = O.network(data, R.WIDE, "relu", p.seed)
    stopper = EarlyStopping(model, p.patience, p.min_delta)
    done = fit(model, nn.CrossEntropyLoss(), make_optimizer("adam", model.parameters(), p.lr), data.part("train"),
               epochs=p.epochs, batch_size=p.batch_size, val=data.part("val"), callback=stopper, shuffle_seed=p.seed)
    assert done.outcome == "stopped" and len(done.epochs) == H.summary(early)["stopped_epoch"]
    kept = early["early"].model.state_dict()
    assert all(torch.equal(kept[k], v) for k, v in model.state_dict().items())
    assert len(early["early"].history) == len(done.epochs)


@pytest.fixture(scope="module")
def regularization():
    return H.summary(H.run(H.OverfittingParams(section="regularization", p_norm=1.0, lam=0.003)))


def test_l2_in_the_loss_equals_sgd_weight_decay_and_adam_differs_from_adamw(regularization):
    decay = regularization["decay"]
    assert decay["sgd"]["max_diff"] < 1e-6  # measured 6e-8 over the 100 epochs
    assert decay["sgd"]["penalty_val_loss"] == pytest.approx(decay["sgd"]["decay_val_loss"], abs=1e-6)
    assert decay["adam"]["max_diff"] > 0.5  # measured 1.2
    assert abs(decay["adam"]["penalty_val_loss"] - decay["adam"]["decay_val_loss"]) > 0.05  # 0.194 vs 0.287


def test_the_l1_share_of_near_zero_weights_grows_with_lam(regularization):
    sweep = regularization["sweep"]
    assert sweep["lams"] == [0.0001, 0.001, 0.003, 0.01]
    shares = [regularization["none"]["near_zero"]] + sweep["near_zero"]
    assert all(a < b for a, b in zip(shares, shares[1:]))
    assert shares[0] < 0.1 and regularization["penalized"]["near_zero"] > 0.9
    assert regularization["penalized"]["val_loss"] < 0.5 * regularization["none"]["val_loss"]


def test_the_l1_optimum_has_an_exact_zero_above_the_threshold_and_the_l2_optimum_none():
    geo = R.geometry(H.OverfittingParams(section="regularization"))
    x, y = G.problem(0)
    threshold = geo["threshold"]
    assert 0 < threshold < 1.5
    for lam in R.GEO_LAMS:
        l1, l2 = G.lasso(x, y, lam), G.ridge(x, y, lam)
        assert (l1 == 0).any() == (lam >= threshold)
        assert not (l2 == 0).any()
    assert geo["optima"]["l1"][1] == 0.0 and geo["budgets"]["l1"] == pytest.approx(abs(geo["optima"]["l1"][0]))


@pytest.mark.parametrize("section", ["early_stopping", "regularization"])
def test_epochs_count_the_events_and_stop_keeps_what_was_trained(section):
    p = H.OverfittingParams(section=section, epochs=20)
    seen = []
    H.run(p, lambda e: e["event"] == "epoch" and seen.append(e))
    assert len(seen) == H.epochs_total(p)

    def stop_half_way(event):
        if event["event"] == "epoch" and len(seen) >= H.epochs_total(p) // 2:
            raise StopTraining
        seen.append(event) if event["event"] == "epoch" else None

    seen.clear()
    result = H.run(p, stop_half_way)
    assert result["stopped"] and "test" not in result
    record = H.record(p, result)
    assert record is not None and record.outcome == "stopped"


def test_the_comments_exist_in_both_languages():
    assert set(COMMENTS["en"]) == set(COMMENTS["zh"])
    assert set(SHARED_COMMENTS["en"]) == set(SHARED_COMMENTS["zh"])


def _script(p, lang, tmp_path) -> str:
    script = tmp_path / "exported.py"
    script.write_text(H.export_code(p, lang), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_early_stopping_script_prints_the_pages_numbers(early, tmp_path):
    s, out = H.summary(early), _script(EARLY, "zh", tmp_path)
    best, best_val = re.search(rf"^best epoch = (\d+), validation loss = {NUM}$", out, re.M).groups()
    stop, stop_val = re.search(rf"^stopped epoch = (\d+), validation loss = {NUM}$", out, re.M).groups()
    assert (int(best), int(stop)) == (s["best_epoch"], s["stopped_epoch"])
    assert (float(best_val), float(stop_val)) == pytest.approx((s["best_val_loss"], s["stopped_val_loss"]), abs=1e-5)
    for name, key in (("stopped", "test_stopped"), ("restored", "test")):
        loss, acc = re.search(rf"^{name} weights: test loss = {NUM}, test accuracy = {NUM}$", out, re.M).groups()
        assert (float(loss), float(acc)) == pytest.approx((s[key]["loss"], s[key]["acc"]), abs=1e-5)
    final = re.search(rf"^all {EARLY.epochs} epochs: validation loss = {NUM}$", out, re.M).group(1)
    assert float(final) == pytest.approx(s["final_val_loss"], abs=1e-5)


def test_the_regularization_script_prints_the_pages_numbers(tmp_path):
    p = H.OverfittingParams(section="regularization", epochs=60, p_norm=1.5, lam=0.02, weight_decay=0.1, geo_lam=0.2)
    s, out = H.summary(H.run(p)), _script(p, "en", tmp_path)
    rows = re.findall(rf"^(.*): train loss = {NUM}, validation loss = {NUM}, near zero = {NUM}$", out, re.M)
    expected = [("no penalty", s["none"]["train_loss"], s["none"]["val_loss"], s["none"]["near_zero"])] + [
        (f"lam = {lam!r}", *v) for lam, *v in zip(s["sweep"]["lams"], s["sweep"]["train_loss"], s["sweep"]["val_loss"],
                                                 s["sweep"]["near_zero"])]
    assert [r[0] for r in rows] == [e[0] for e in expected]
    assert [float(v) for r in rows for v in r[1:]] == pytest.approx([v for e in expected for v in e[1:]], abs=1e-5)
    for name in R.PAIRS:
        diff, a, b = re.search(rf"^{name}: max \|difference\| = {NUM}, validation loss = {NUM} \(L2 in the loss\), "
                               rf"{NUM} \(weight_decay\)$", out, re.M).groups()
        d = s["decay"][name]
        assert [float(diff), float(a), float(b)] == pytest.approx(
            [d["max_diff"], d["penalty_val_loss"], d["decay_val_loss"]], abs=1e-5)
    l1 = re.search(rf"^L1 optimum = \({NUM}, {NUM}\), L2 optimum = \({NUM}, {NUM}\)$", out, re.M).groups()
    assert [float(v) for v in l1] == pytest.approx(s["geometry"]["l1"] + s["geometry"]["l2"], abs=1e-5)
    assert re.search(r"^L1 has an exact zero from lam = (\S+)$", out, re.M).group(1) == str(s["geometry"]["threshold"])
