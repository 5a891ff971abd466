"""Early stopping: a listener for fit's callback that stops training when the validation loss stops
improving, and keeps the best weights seen so far.

- `EarlyStopping(model, patience, min_delta)`: call it with fit's events (`callback=stopper`, or from
  a page's own listener); `restore()` puts the best epoch's weights back into the model.

Rules, keras-style: an epoch improves when its val_loss is below best - min_delta; each improvement
becomes the new best (its weights are copied, with copy.deepcopy of the state_dict, so later steps
cannot change the copy); after `patience` epochs in a row without improvement the listener raises
StopTraining, at the end of that epoch. The best epoch is where training should have stopped:
its weights, not the last ones, are the model to keep.
"""

from __future__ import annotations

import copy
import math

from torch import nn

from nnkit.train import StopTraining


class EarlyStopping:
    def __init__(self, model: nn.Module, patience: int = 5, min_delta: float = 0.0, monitor: str = "val_loss"):
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        if min_delta < 0:
            raise ValueError(f"min_delta must not be negative, got {min_delta}")
        self.model, self.patience, self.min_delta, self.monitor = model, patience, min_delta, monitor
        self.best = math.inf  # the lowest loss seen, and where it was seen
        self.best_epoch: int | None = None
        self.best_state: dict | None = None
        self.wait = 0  # epochs since the last improvement
        self.stopped_epoch: int | None = None  # the epoch at whose end training stopped

    def __call__(self, event: dict) -> None:
        if event.get("event") != "epoch":
            return
        if self.monitor not in event:
            raise ValueError(f"early stopping needs {self.monitor!r} in the epoch events: give fit a `val` set")
        value = event[self.monitor]
        if value < self.best - self.min_delta:  # a NaN is never an improvement
            self.best, self.best_epoch, self.wait = value, event["epoch"], 0
            self.best_state = copy.deepcopy(self.model.state_dict())
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = event["epoch"]
            raise StopTraining

    def restore(self) -> bool:
        """Load the best epoch's weights back into the model; False (and nothing changed) when no
        epoch ever improved."""
        if self.best_state is None:
            return False
        self.model.load_state_dict(self.best_state)
        return True
