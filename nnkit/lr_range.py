"""The learning-rate range test (Leslie Smith, arXiv 1506.01186; fastai's `lr_find`).

Train from the initial weights while the learning rate grows by the same factor every batch, from
a tiny `start_lr` to a huge `end_lr`; record the loss of every batch and its smoothed value; stop
once the smoothed loss blows up. The curve of loss against rate shows where training starts to
work (the loss begins to fall), where it works best (the steepest fall) and where it breaks.

The rate is raised by torch's own `ExponentialLR` stepped once per batch by `fit`, the one training
loop. Smoothing is fastai's: an exponential moving average with bias correction,
    avg_i = beta * avg_(i-1) + (1 - beta) * loss_i,   smoothed_i = avg_i / (1 - beta^(i+1)).
Blow-up is fastai's rule too: a smoothed loss above `blowup` times the lowest so far (or a loss that
is not a number).
Suggested rate, fastai's "minimum / 10" rule: the rate at which the smoothed loss was lowest, divided
by ten. At the minimum the rate is already about to be too large (the loss turns up just after), and
the steepest part of the fall lies roughly a decade lower.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from nnkit.train import StopTraining, fit


@dataclass
class RangeTest:
    lrs: list[float] = field(default_factory=list)  # the rate of each batch
    losses: list[float] = field(default_factory=list)  # its loss, measured before its step
    smoothed: list[float] = field(default_factory=list)
    blew_up: bool = False  # stopped by the blow-up rule (or a loss that is not a number)
    stopped: bool = False  # a listener stopped it (StopTraining from `callback`) before either rule did
    suggested_lr: float = math.nan

    @property
    def best_index(self) -> int:
        return min(range(len(self.smoothed)), key=self.smoothed.__getitem__)


def growth(start_lr: float, end_lr: float, steps: int) -> float:
    """The factor per batch that takes the rate from start_lr (batch 0) to end_lr (batch steps - 1)."""
    return (end_lr / start_lr) ** (1 / max(steps - 1, 1))


def range_test(model: nn.Module, loss_fn: Callable, optimizer: torch.optim.Optimizer, train: tuple, *,
               start_lr: float = 1e-5, end_lr: float = 10.0, steps: int = 100, batch_size: int = 32,
               beta: float = 0.98, blowup: float = 4.0, shuffle_seed: int = 0,
               callback: Callable[[dict], None] | None = None) -> RangeTest:
    """Run the test on `model` (trained in place: build a fresh one for real training afterwards).

    `optimizer`'s rate is set to start_lr first. At most `steps` batches, over as many epochs as they
    take; `callback` receives fit's events (an "epoch" event per pass over the data)."""
    for group in optimizer.param_groups:
        group["lr"] = start_lr
        group.pop("initial_lr", None)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, growth(start_lr, end_lr, steps))
    test, average, done = RangeTest(), 0.0, False

    def listen(event: dict) -> None:
        nonlocal average, done
        if callback is not None:
            callback(event)
        if event["event"] != "step":
            return
        average = beta * average + (1 - beta) * event["loss"]
        test.lrs.append(event["lr"])
        test.losses.append(event["loss"])
        test.smoothed.append(average / (1 - beta ** len(test.losses)))
        if test.smoothed[-1] > blowup * min(test.smoothed) or not math.isfinite(test.smoothed[-1]):
            test.blew_up = done = True
            raise StopTraining
        if len(test.losses) == steps:
            done = True
            raise StopTraining

    per_epoch = math.ceil(len(train[0]) / batch_size)
    result = fit(model, loss_fn, optimizer, train, epochs=math.ceil(steps / per_epoch), batch_size=batch_size,
                 callback=listen, scheduler=scheduler, scheduler_step="batch", shuffle_seed=shuffle_seed)
    test.blew_up = test.blew_up or result.outcome == "diverged"
    test.stopped = result.outcome == "stopped" and not done
    if test.smoothed:
        test.suggested_lr = test.lrs[test.best_index] / 10
    return test
