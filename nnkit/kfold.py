"""K-fold cross-validation: split the training data K ways, train once per fold, average the scores.

- `kfold_splits(n_samples, k, seed, labels=None)`: yields K (train, validation) index tensors, from
  scikit-learn's KFold, or StratifiedKFold when `labels` are given (each fold then keeps the classes'
  proportions), shuffled by `seed`.
- `cross_validate(train_fold, n_samples, k, seed, labels=None, metric="val_loss")`: runs
  `train_fold(fold, train_idx, val_idx) -> FitResult` once per fold; returns a CrossValidation with
  the K histories, their final `metric`, and the mean and standard deviation of those.
- `occam(means, errors)`: the one-standard-error rule: of candidates ordered from smallest to
  largest, the first whose mean score is within one standard error of the best mean.

The course's three steps: split the data into K parts; each part is the validation set once while
the other K-1 train; the score is the average of the K validation scores, CV = (1/K) sum_k E_k.
Every sample is validated exactly once. The test set stays out of all of it.

scikit-learn is imported inside kfold_splits: its import costs a server 130 MB (see datasets/images.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from nnkit.train import FitResult


@dataclass
class CrossValidation:
    histories: list[FitResult]  # one per fold, in fold order
    scores: list[float]  # each fold's final `metric` (NaN where a fold ended without one, e.g. diverged)
    mean: float
    std: float  # the population standard deviation (ddof=0), as numpy's and scikit-learn's examples report

    @property
    def standard_error(self) -> float:
        """How far the mean itself may be off: the sample standard deviation over sqrt(K), which is
        std / sqrt(K - 1) with the population std above."""
        k = len(self.scores)
        return self.std / math.sqrt(k - 1) if k > 1 else math.nan


def kfold_splits(n_samples: int, k: int = 5, seed: int = 0,
                 labels: torch.Tensor | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """K (train, validation) pairs of int64 index tensors, each in increasing order."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if labels is None:
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
        parts = splitter.split(np.zeros(n_samples))
    else:
        if len(labels) != n_samples:
            raise ValueError(f"{len(labels)} labels for {n_samples} samples")
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        parts = splitter.split(np.zeros(n_samples), labels.cpu().numpy())
    for train, val in parts:
        yield torch.from_numpy(train).long(), torch.from_numpy(val).long()


def cross_validate(train_fold: Callable[[int, torch.Tensor, torch.Tensor], FitResult], n_samples: int,
                   k: int = 5, seed: int = 0, labels: torch.Tensor | None = None,
                   metric: str = "val_loss") -> CrossValidation:
    """Train once per fold with `train_fold(fold, train_idx, val_idx)` and summarise `metric`."""
    histories = [train_fold(fold, train, val)
                 for fold, (train, val) in enumerate(kfold_splits(n_samples, k, seed, labels))]
    scores = [float(h.final.get(metric, math.nan)) for h in histories]
    return CrossValidation(histories, scores, float(np.mean(scores)), float(np.std(scores)))


def occam(means: list[float], errors: list[float]) -> int:
    """Occam's razor as the one-standard-error rule (Breiman et al.; Hastie, Tibshirani and Friedman
    7.10): with candidates ordered from the simplest to the most complex and lower scores better, the
    index of the first one whose mean is at most the best mean plus the best one's standard error.
    Differences smaller than that are within the noise of the folds. NaN means never win."""
    finite = [m if math.isfinite(m) else math.inf for m in means]
    best = int(np.argmin(finite))
    if not math.isfinite(finite[best]):
        return best
    bar = finite[best] + (errors[best] if math.isfinite(errors[best]) else 0.0)
    return next(i for i, m in enumerate(finite) if m <= bar)
