"""Over- and underfitting, measured: a three-way split, capacity sweeps, k-unit approximation of a
1-D curve, and learning curves.

Every network here is `nnkit.models.mlp` trained by `nnkit.train.fit` with Adam; the validation
set is scored after every epoch (it steers every choice), the test set once, at the very end, by
whoever picked a model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from nnkit.datasets.toy2d import make_toy2d
from nnkit.device import seeded
from nnkit.dropout import masks_from
from nnkit.models import mlp
from nnkit.optim import make_optimizer
from nnkit.regularize import decay_groups
from nnkit.train import evaluate, fit

SETS = ("train", "val", "test")


@dataclass
class Split:
    """The points of one data set, and which of them went to training, validation and test."""

    x: torch.Tensor  # (n, d) float32
    y: torch.Tensor  # (n,) int64 labels or (n, 1) float32 targets
    index: dict[str, torch.Tensor]  # set name -> indices into x and y

    def part(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[self.index[name]], self.y[self.index[name]]


def split(x: torch.Tensor, y: torch.Tensor, sizes: dict[str, int], seed: int) -> Split:
    """Shuffle the points with a generator seeded by `seed`, then cut them in `sizes` order."""
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    index, start = {}, 0
    for name, size in sizes.items():
        index[name], start = order[start:start + size], start + size
    return Split(x, y, index)


def toy_split(dataset: str, n_points: int, noise: float, seed: int) -> Split:
    """A toy 2-D set cut into three equal thirds (the remainder goes to training)."""
    x, y = make_toy2d(dataset, n_points, noise, seed)
    third = n_points // 3
    return split(torch.from_numpy(x), torch.from_numpy(y), {"train": n_points - 2 * third, "val": third,
                                                              "test": third}, seed)


def target(x: torch.Tensor) -> torch.Tensor:
    """The 1-D curve the approximation section fits: two waves over [-2, 2]."""
    return torch.sin(3 * x)


def curve_split(n_points: int, seed: int) -> Split:
    """The target curve sampled at random points in [-2, 2], halved into training and validation."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n_points, 1, generator=g) * 4 - 2)
    n_val = n_points // 2
    return split(x, target(x), {"train": n_points - n_val, "val": n_val}, seed)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@dataclass
class Trained:
    """One network trained with the validation set scored after each epoch."""

    hidden: list[int]
    params: int
    outcome: str
    history: list[dict]  # fit's epoch events: train_loss, val_loss (and accuracies)
    model: nn.Module

    @property
    def train_loss(self) -> float:
        return self.history[-1]["train_loss"] if self.history else math.nan

    @property
    def val_loss(self) -> float:
        return self.history[-1]["val_loss"] if self.history else math.nan


def _build(data: Split, hidden: list[int], activation: str, dropout: float) -> nn.Sequential:
    outputs = 1 if torch.is_floating_point(data.y) else int(data.y.max()) + 1  # one logit per class label
    return mlp(data.x.shape[1], hidden, outputs, activation, dropout=dropout)


def network(data: Split, hidden: list[int], activation: str, seed: int, dropout: float = 0.0) -> nn.Sequential:
    """The MLP every section trains (with `dropout` after each hidden layer), from weights seeded by
    `seed`: one output per target value, one logit per class for labels (two for the toy sets)."""
    with seeded(seed):
        return _build(data, hidden, activation, dropout)


def train_one(data: Split, hidden: list[int], *, activation: str, lr: float, epochs: int, batch_size: int,
              seed: int, callback: Callable[[dict], None] | None = None, train=None, model: nn.Module | None = None,
              optimizer: str = "adam", weight_decay: float = 0.0,
              penalty: Callable[[nn.Module], torch.Tensor] | None = None, dropout: float = 0.0) -> Trained:
    """An MLP with these hidden sizes (`model`, or `network(...)` from `seed`, with `dropout`), trained
    on `train` (default: the split's training part) by `optimizer` (Adam unless told; with
    `weight_decay`, on the weights only: nnkit.regularize.decay_groups) and `penalty` added to the
    loss; MSE for float targets, cross-entropy for labels."""
    train = train if train is not None else data.part("train")
    loss_fn = nn.MSELoss() if torch.is_floating_point(data.y) else nn.CrossEntropyLoss()
    val = data.part("val") if "val" in data.index else None  # none: the final refit on every non-test point

    def trained(model: nn.Module):
        groups = decay_groups(model, weight_decay) if weight_decay else model.parameters()
        return fit(model, loss_fn, make_optimizer(optimizer, groups, lr), train, epochs=epochs, batch_size=batch_size,
                   val=val, callback=callback, shuffle_seed=seed, score_train=True, penalty=penalty)

    if model is None and dropout:
        # dropout draws its masks from torch's global generator, where a script seeded as this one
        # continues after building the weights: a private generator takes over that state, so the
        # training draws the script's masks without holding the lock every visitor shares
        with seeded(seed):
            model = _build(data, hidden, activation, dropout)
            masks = torch.Generator()
            masks.set_state(torch.get_rng_state())
        with masks_from(model, masks):
            result = trained(model)
    else:
        model = model if model is not None else network(data, hidden, activation, seed)
        result = trained(model)
    return Trained(hidden, n_params(model), result.outcome, result.epochs, model)


def score(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor]) -> dict:
    """Loss (and accuracy) on one set, with no gradients, as the course's test() does."""
    loss_fn = nn.MSELoss() if torch.is_floating_point(data[1]) else nn.CrossEntropyLoss()
    return evaluate(model, loss_fn, data)


def sweep(data: Split, shapes: list[list[int]], callback: Callable[[dict], None] | None = None,
          **training) -> list[Trained]:
    """Train one network per hidden-size list, all from the same seed; stops after a stopped one."""
    trained = []
    for i, hidden in enumerate(shapes):
        tag = (lambda e, i=i: callback({**e, "model": i})) if callback else None
        trained.append(train_one(data, hidden, callback=tag, **training))
        if trained[-1].outcome == "stopped":
            break
    return trained


def best(trained: list[Trained]) -> int:
    """The index of the lowest final validation loss (a diverged network's NaN never wins)."""
    losses = [t.val_loss if math.isfinite(t.val_loss) else math.inf for t in trained]
    return int(np.argmin(losses))


def pieces(model: nn.Sequential, x: torch.Tensor) -> np.ndarray:
    """Each hidden unit's contribution to the output of a one-hidden-layer net: (units, len(x)).

    The output is their sum plus the output bias: out(x) = b + sum_i w_i f(a_i x + c_i)."""
    with torch.no_grad():
        hidden = model[1](model[0](x))  # (n, units)
        return (hidden * model[2].weight[0]).T.numpy()


def learning_curve(data: Split, sizes: list[int], hidden: list[int],
                   callback: Callable[[dict], None] | None = None, **training) -> list[Trained]:
    """The same network trained on the first `size` training points, for each size."""
    x, y = data.part("train")
    trained = []
    for size in sizes:
        trained.append(train_one(data, hidden, callback=callback, train=(x[:size], y[:size]), **training))
        if trained[-1].outcome == "stopped":
            break
    return trained
