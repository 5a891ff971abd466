"""Early stopping: when it stops, what min_delta means, and that restore() brings back exactly the
best epoch's weights."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from nnkit.models import mlp
from nnkit.optim import make_optimizer
from nnkit.stopping import EarlyStopping
from nnkit.train import StopTraining, fit


def _feed(stopper: EarlyStopping, losses: list[float]) -> int | None:
    """Give the stopper one epoch event per loss; the epoch it stopped at, or None."""
    for epoch, loss in enumerate(losses):
        stopper({"event": "step", "epoch": epoch, "loss": 99.0})  # steps are ignored
        try:
            stopper({"event": "epoch", "epoch": epoch, "val_loss": loss})
        except StopTraining:
            return epoch
    return None


@pytest.mark.parametrize("patience, stops_at", [(1, 3), (2, 4), (3, 5), (4, None)])
def test_it_stops_after_patience_epochs_without_improvement(patience, stops_at):
    losses = [1.0, 0.8, 0.6, 0.7, 0.65, 0.61, 0.5, 0.55, 0.52, 0.51]
    # best so far:  0    1    2   (2)   (2)   (2)   6   (6)   (6)   (6)
    stopper = EarlyStopping(nn.Linear(1, 1), patience=patience)
    assert _feed(stopper, losses) == stops_at
    assert stopper.stopped_epoch == stops_at
    assert stopper.best_epoch == {1: 2, 2: 2, 3: 2}.get(patience, 6)


def test_min_delta_counts_only_improvements_larger_than_it():
    losses = [1.0, 0.95, 0.91, 0.88, 0.86]  # each epoch better, by 0.05, 0.04, 0.03, 0.02
    assert _feed(EarlyStopping(nn.Linear(1, 1), patience=1, min_delta=0.0), losses) is None
    stopper = EarlyStopping(nn.Linear(1, 1), patience=2, min_delta=0.035)
    # 0.95 < 1.0-0.035: better; 0.91 < 0.915: better; 0.88 not < 0.875, 0.86 is < 0.875: better
    assert _feed(stopper, losses) is None and stopper.best_epoch == 4 and stopper.best == 0.86
    stopper = EarlyStopping(nn.Linear(1, 1), patience=2, min_delta=0.1)
    # neither 0.95 nor 0.91 is below 1.0-0.1: two epochs without improvement, stop at epoch 2
    assert _feed(stopper, losses) == 2 and stopper.best_epoch == 0
    stopper = EarlyStopping(nn.Linear(1, 1), patience=3, min_delta=0.1)
    assert _feed(stopper, losses) is None and stopper.best_epoch == 3  # 0.88 is below 0.9
    equal = EarlyStopping(nn.Linear(1, 1), patience=1)
    assert _feed(equal, [0.5, 0.5]) == 1  # no change is no improvement


def test_restore_brings_back_exactly_the_best_epochs_weights():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 5, generator=g)
    y = x[:, :1] + 0.5 * torch.randn(60, 1, generator=g)
    x_val, y_val = torch.randn(20, 5, generator=g), torch.randn(20, 1, generator=g)  # unrelated: val gets worse
    torch.manual_seed(0)
    model = mlp(5, [64], 1)
    stopper = EarlyStopping(model, patience=3)
    copies: dict[int, dict] = {}

    def listen(event):
        if event["event"] == "epoch":
            copies[event["epoch"]] = copy.deepcopy(model.state_dict())  # the weights at this epoch's end
        stopper(event)

    result = fit(model, nn.MSELoss(), make_optimizer("adam", model.parameters(), 0.01), (x, y), epochs=200,
                 val=(x_val, y_val), callback=listen)
    assert result.outcome == "stopped" and len(result.epochs) == stopper.stopped_epoch + 1
    best = min(range(len(result.epochs)), key=lambda e: result.epochs[e]["val_loss"])
    assert stopper.best_epoch == best and stopper.stopped_epoch == best + 3
    last = model.state_dict()
    assert not all(torch.equal(last[k], copies[best][k]) for k in last)  # training moved on after the best
    assert stopper.restore()
    restored = model.state_dict()
    assert all(torch.equal(restored[k], copies[best][k]) for k in copies[best])


def test_bad_settings_and_a_missing_validation_set_are_refused():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(nn.Linear(1, 1), patience=0)
    with pytest.raises(ValueError, match="min_delta"):
        EarlyStopping(nn.Linear(1, 1), min_delta=-0.1)
    stopper = EarlyStopping(nn.Linear(1, 1))
    assert not stopper.restore()  # nothing saved yet
    with pytest.raises(ValueError, match="give fit a `val` set"):
        stopper({"event": "epoch", "epoch": 0, "train_loss": 1.0})
