"""The validation sections in nnkit: K-fold model selection (every non-test point validates exactly
once, the one-standard-error rule, the refit scored on the test set once), data augmentation (the
same training but for the transforms), Stop, the progress count, and the exported scripts, which
print the numbers the page shows."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from nnkit.experiments import overfitting as E
from nnkit.experiments import overfitting_validation as V
from nnkit.experiments.classification import ClassificationParams, split
from nnkit.kfold import CrossValidation, occam
from nnkit.train import StopTraining

FAST_CV = replace(E.OverfittingParams(), section="validation", epochs=15, folds=3)
FAST_AUG = replace(E.OverfittingParams(), section="augmentation", aug_epochs=4, subset=40)


@pytest.fixture(scope="module")
def cv_result():
    return E.run(FAST_CV)


@pytest.fixture(scope="module")
def aug_result():
    return E.run(FAST_AUG)


def test_every_non_test_point_validates_exactly_once_and_test_points_never(cv_result):
    data, folds = cv_result["data"], cv_result["folds"]
    validated = sorted(i for _, val in folds for i in val.tolist())
    pool = sorted(data.index["train"].tolist() + data.index["val"].tolist())
    assert validated == pool and len(validated) == 100  # 150 points, 50 kept for the test
    assert set(validated).isdisjoint(data.index["test"].tolist())
    for train, val in folds:
        assert sorted(train.tolist() + val.tolist()) == pool  # the rest of the pool trains
    # stratified: each fold holds the classes in the pool's proportions (50 / 50 here, give or take one)
    assert all(abs(int(data.y[val].sum()) - len(val) / 2) <= 1 for _, val in folds)


def test_each_fold_network_was_validated_on_its_own_fold(cv_result):
    data = cv_result["data"]
    for width_nets in cv_result["nets"]:
        for net, (_, val) in zip(width_nets, cv_result["folds"]):
            x, y = data.x[val], data.y[val]
            with torch.no_grad():
                loss = float(torch.nn.functional.cross_entropy(net.model(x), y))
            assert loss == pytest.approx(net.val_loss, abs=1e-6)


@pytest.mark.parametrize("means, errors, chosen", [
    ([0.50, 0.40, 0.38, 0.45], [0.05, 0.02, 0.03, 0.04], 1),  # 0.40 <= 0.38 + 0.03: the smaller wins
    ([0.50, 0.42, 0.38, 0.45], [0.05, 0.02, 0.03, 0.04], 2),  # 0.42 > 0.41: the best itself
    ([0.30, 0.20, 0.10, 0.25], [0.01, 0.01, 0.30, 0.01], 0),  # a noisy best: the smallest is within its noise
    ([0.20, 0.30, 0.40, 0.50], [0.01, 0.01, 0.01, 0.01], 0),  # the smallest is the best
    ([math.nan, 0.40, 0.38, math.nan], [math.nan, 0.02, 0.03, math.nan], 1),  # a diverged model never wins
    ([0.30, 0.40, 0.20], [0.01, 0.01, 0.10], 0),  # the first within the bar, not the closest
])
def test_occam_picks_the_smallest_within_one_standard_error_of_the_best(means, errors, chosen):
    assert occam(means, errors) == chosen


def test_the_standard_error_is_the_sample_standard_deviation_over_root_k():
    scores = [0.2, 0.5, 0.3, 0.9]
    cv = CrossValidation([], scores, float(np.mean(scores)), float(np.std(scores)))
    assert cv.standard_error == pytest.approx(np.std(scores, ddof=1) / math.sqrt(4), rel=1e-12)


def test_the_page_chooses_by_the_rule_and_scores_the_refit_once(cv_result):
    s = E.summary(cv_result)
    assert s["widths"] == list(V.CANDIDATES) and s["folds"] == 3 and s["fold_sizes"] == [34, 33, 33]
    assert s["mean"] == pytest.approx([float(np.mean(v)) for v in s["val_loss"]])
    assert s["chosen_width"] == V.CANDIDATES[occam(s["mean"], s["standard_error"])]
    assert s["best_width"] == V.CANDIDATES[int(np.argmin(s["mean"]))]
    refit = cv_result["refit"]
    assert refit.hidden == [s["chosen_width"]] and len(refit.history) == FAST_CV.epochs
    assert "val_loss" not in refit.history[-1]  # trained on every non-test point: nothing left to validate on
    data = cv_result["data"]
    with torch.no_grad():
        out = refit.model(data.part("test")[0])
    assert s["test"]["loss"] == pytest.approx(float(torch.nn.functional.cross_entropy(out, data.part("test")[1])), abs=1e-6)


@pytest.mark.parametrize("p", [FAST_CV, FAST_AUG], ids=["validation", "augmentation"])
def test_the_progress_count_is_exact(p):
    events = []
    E.run(p, lambda e: events.append(e) if e["event"] == "epoch" else None)
    assert len(events) == E.epochs_total(p)


@pytest.mark.parametrize("p, after", [(FAST_CV, 20), (FAST_AUG, 6)], ids=["validation", "augmentation"])
def test_stop_keeps_what_was_trained_and_scores_no_test(p, after):
    seen = []

    def stop(event):
        if event["event"] == "epoch":
            seen.append(event)
            if len(seen) == after:
                raise StopTraining

    result = E.run(p, stop)
    assert result["stopped"] and "test" not in result
    shown = E.PARTS[p.section].shown(result)
    assert shown.history and E.record(p, result).outcome == "stopped"
    E.summary(result)  # a stopped run still summarises


def test_augmentation_without_transforms_trains_exactly_like_the_plain_network():
    result = E.run(replace(FAST_AUG, degrees=0, shift=0, scale=0.0))
    plain, augmented = (result["nets"][n].history for n in V.VARIANTS)
    assert [e["val_loss"] for e in plain] == [e["val_loss"] for e in augmented]
    assert result["tests"]["plain"] == result["tests"]["augmented"]


def test_augmentation_uses_the_classification_pages_validation_images_and_a_seeded_subset(aug_result):
    parts = V.digit_parts(FAST_AUG)
    from nnkit.datasets.images import load

    data = load("digits")
    train, val = split(data, ClassificationParams(val_fraction=V.VAL_FRACTION, seed=FAST_AUG.seed))
    assert torch.equal(parts["val"][0], data.train_x[val]) and len(parts["test"][1]) == len(data.test_y)
    assert len(parts["train"][1]) == 40 and set(parts["train"][1].tolist()) > {0, 1, 2}
    assert set(map(tuple, parts["train"][0].flatten(1).tolist())).isdisjoint(map(tuple, data.train_x[val].flatten(1).tolist()))
    originals, versions = aug_result["preview"]
    assert originals.shape == (6, 8, 8) and versions.shape == (6, 5, 8, 8)
    assert torch.equal(originals, parts["train"][0][:6])
    assert not torch.equal(versions[:, 0], originals)  # the copies differ from the originals
    # the augmented network trained on other images than the plain one: its training numbers differ
    s = E.summary(aug_result)
    assert s["plain"]["train_loss"] != s["augmented"]["train_loss"]
    assert s["test"] == {"loss": s["augmented"]["test_loss"], "acc": s["augmented"]["test_acc"]}


# --- the exported scripts ----------------------------------------------------------------------

def run_script(code: str, tmp_path) -> str:
    script = tmp_path / "exported.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_validation_script_prints_the_pages_numbers(cv_result, lang, tmp_path):
    s = E.summary(cv_result)
    out = run_script(E.export_code(FAST_CV, lang), tmp_path)
    folds = {(int(w), int(k)): float(v) for w, k, v in
             re.findall(r"^width (\d+), fold (\d+): validation loss = (\S+)$", out, re.M)}
    assert folds == pytest.approx({(w, k + 1): v for w, row in zip(s["widths"], s["val_loss"])
                                   for k, v in enumerate(row)}, abs=1e-5)
    means = re.findall(r"^width \d+: mean = (\S+), standard error = (\S+)$", out, re.M)
    assert [float(m) for m, _ in means] == pytest.approx(s["mean"], abs=1e-5)
    assert [float(e) for _, e in means] == pytest.approx(s["standard_error"], abs=1e-5)
    best, chosen, loss, acc = re.search(r"^best width (\d+), chosen width (\d+): test loss = (\S+), "
                                        r"test accuracy = (\S+)$", out, re.M).groups()
    assert (int(best), int(chosen)) == (s["best_width"], s["chosen_width"])
    assert (float(loss), float(acc)) == pytest.approx((s["test"]["loss"], s["test"]["acc"]), abs=1e-5)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_augmentation_script_prints_the_pages_numbers(aug_result, lang, tmp_path):
    s = E.summary(aug_result)
    out = run_script(E.export_code(FAST_AUG, lang), tmp_path)
    found = {name: [float(v) for v in values] for name, *values in re.findall(
        r"^(\w+): train loss = (\S+), validation loss = (\S+), validation accuracy = (\S+), "
        r"test loss = (\S+), test accuracy = (\S+)$", out, re.M)}
    for name in V.VARIANTS:
        want = [s[name][k] for k in ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc")]
        assert found[name] == pytest.approx(want, abs=1e-5), name
