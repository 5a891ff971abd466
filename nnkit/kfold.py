"""K-fold cross-validation: split the training data K ways, train once per fold, average the scores.

- `kfold_splits(n_samples, k, seed, labels=None)`: yields K (train, validation) index tensors, from
  scikit-learn's KFold, or StratifiedKFold when `labels` are given (each fold then keeps the classes'
  proportions), shuffled by `seed`.
- `cross_validate(train_fold, n_samples, k, seed, labels=None, metric="val_loss")`: runs
  `train_fold(fold, train_idx, val_idx) -> FitResult` once per fold; returns a CrossValidation with
  the K histories, their final `metric`, and the mean and standard deviation of those.

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
