"""K-fold cross-validation: every sample validates once, folds are disjoint and seeded, stratified
folds keep the class shares, and cross_validate averages what each fold's training reports."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from nnkit.kfold import cross_validate, kfold_splits
from nnkit.optim import make_optimizer
from nnkit.train import FitResult, fit


@pytest.mark.parametrize("stratified", [False, True])
def test_each_sample_validates_exactly_once_and_folds_are_disjoint(stratified):
    n, k = 103, 5  # not a multiple of k
    labels = torch.arange(n) % 3 if stratified else None
    folds = list(kfold_splits(n, k, seed=7, labels=labels))
    assert len(folds) == k
    validated = torch.cat([val for _, val in folds])
    assert sorted(validated.tolist()) == list(range(n))  # each once, none missing
    for train, val in folds:
        assert set(train.tolist()).isdisjoint(val.tolist())
        assert len(train) + len(val) == n
        assert train.dtype == torch.int64 and len(val) in (20, 21)
    assert folds[0][1].tolist() != list(range(21))  # shuffled, not the first block


def test_the_same_seed_gives_the_same_folds_and_another_seed_others():
    first = [val.tolist() for _, val in kfold_splits(50, 5, seed=3)]
    again = [val.tolist() for _, val in kfold_splits(50, 5, seed=3)]
    other = [val.tolist() for _, val in kfold_splits(50, 5, seed=4)]
    assert first == again and first != other


def test_stratified_folds_keep_each_classs_share():
    labels = torch.tensor([0] * 80 + [1] * 20)  # 20% of class 1
    for _, val in kfold_splits(100, 5, seed=0, labels=labels):
        assert int((labels[val] == 1).sum()) == 4  # 4 of each fold's 20
    plain = [int((labels[val] == 1).sum()) for _, val in kfold_splits(100, 5, seed=0)]
    assert plain != [4] * 5  # without stratifying, shares vary (seed 0)
    with pytest.raises(ValueError, match="3 labels for 4 samples"):
        next(kfold_splits(4, 2, labels=torch.tensor([0, 1, 0])))


def test_cross_validate_trains_each_fold_and_averages_its_final_scores():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(60, 1, generator=g)
    seen = []

    def train_fold(fold, train, val):
        seen.append((fold, val.tolist()))
        torch.manual_seed(fold)
        model = nn.Linear(3, 1)
        return fit(model, nn.MSELoss(), make_optimizer("sgd", model.parameters(), 0.1), (x[train], y[train]),
                   epochs=30, val=(x[val], y[val]))

    cv = cross_validate(train_fold, 60, k=4, seed=1)
    assert [fold for fold, _ in seen] == [0, 1, 2, 3]
    assert [v for _, v in seen] == [val.tolist() for _, val in kfold_splits(60, 4, seed=1)]
    assert cv.scores == [h.final["val_loss"] for h in cv.histories]
    assert cv.mean == pytest.approx(np.mean(cv.scores)) and cv.std == pytest.approx(np.std(cv.scores))
    assert 0.005 < cv.mean < 0.05  # it learned: the noise variance is 0.01
    assert len(set(cv.scores)) == 4  # each fold validated on other samples


def test_a_fold_without_the_metric_counts_as_nan():
    results = [FitResult("completed", epochs=[{"val_acc": 0.8}]), FitResult("diverged")]
    cv = cross_validate(lambda fold, train, val: results[fold], 10, k=2, metric="val_acc")
    assert cv.scores[0] == 0.8 and math.isnan(cv.scores[1]) and math.isnan(cv.mean)
