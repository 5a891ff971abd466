"""`fit`: the one training loop of NN Playground.

Every page trains through this loop. Progress leaves through one plain callback that receives
dict events, keras-style:

    {"event": "step",  "epoch": 0, "step": 12, "loss": 0.41, "lr": 0.01, "acc": 0.88}  (acc: classes only)
    {"event": "epoch", "epoch": 0, "train_loss": 0.52, "train_acc": 0.81,
     "val_loss": 0.49, "val_acc": 0.83, "lr": 0.01, "seconds": 0.2}

An epoch's train_loss and train_acc are, by default, the average over its steps: measured on each
batch just before its step, while the weights were still changing, so after the first epochs they
trail the validation numbers, which are measured at the end. With `score_train=True` the training
set is scored again at the end of the epoch in eval mode, exactly as `val` is, so the two can be put
side by side; the running averages are then kept as "running_loss" and "running_acc".

With `penalty` (a function model -> tensor, e.g. nnkit.regularize.norm_penalty), each step
minimises loss + penalty, but the reported "loss", "train_loss" (and "running_loss") stay the data
loss alone, the number the validation loss is measured in, so the two curves stay comparable and
the generalisation gap is val_loss - train_loss. The penalty's own value is reported beside them:
"penalty" in step events and "train_penalty" (its average over the epoch's steps) in epoch events.
Without `penalty`, those keys are absent.

A `scheduler` (torch.optim.lr_scheduler) is stepped after `optimizer.step()`, as PyTorch wants:
once per epoch by default, or once per batch with `scheduler_step="batch"` (OneCycleLR, per-iteration
warm-up). A `ReduceLROnPlateau` is stepped once per epoch with the validation loss, so it needs `val`.
Every step event's "lr" is the rate that step used; an epoch event's "lr" is the rate of its last step
(for a per-epoch schedule, the rate of the whole epoch), and `FitResult.step_lrs` keeps them all.

`before_step(model)` runs once per step between `loss.backward()` and `optimizer.step()`, the one
place where gradients exist and can still change (clipping them, reading their norms: see
nnkit.gradients); a dict it returns joins that step's event.

A listener stops training by raising `StopTraining`; `fit` then returns the partial history.
A loss that becomes NaN or infinite ends the run with outcome "diverged" instead of an exception.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

Callback = Callable[[dict], None]


class StopTraining(Exception):
    """Raised by a listener to stop `fit` early; the history so far is kept."""


@dataclass
class FitResult:
    outcome: str  # "completed", "stopped" or "diverged"
    epochs: list[dict] = field(default_factory=list)  # one "epoch" event per finished epoch
    step_losses: list[float] = field(default_factory=list)
    step_lrs: list[float] = field(default_factory=list)  # the learning rate each step used

    @property
    def final(self) -> dict:
        return self.epochs[-1] if self.epochs else {}


def _is_classification(y: torch.Tensor) -> bool:
    return not torch.is_floating_point(y)


@torch.no_grad()
def evaluate(model: nn.Module, loss_fn: Callable, data: tuple[torch.Tensor, torch.Tensor],
             batch_size: int = 4096) -> dict:
    """Loss (and accuracy for integer targets) of `model` on `data`, in eval mode, no grad."""
    x, y = data
    was_training = model.training
    model.eval()  # dropout off, batch-norm uses running statistics
    total, correct, n = 0.0, 0, len(x)
    for i in range(0, n, batch_size):
        out = model(x[i:i + batch_size])
        yb = y[i:i + batch_size]
        total += float(loss_fn(out, yb)) * len(yb)
        if _is_classification(y):
            correct += int((out.argmax(dim=1) == yb).sum())
    model.train(was_training)
    metrics = {"loss": total / max(n, 1)}
    if _is_classification(y):
        metrics["acc"] = correct / max(n, 1)
    return metrics


SCHEDULER_STEPS = ("epoch", "batch")


def _plateau(scheduler) -> bool:
    return isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)


def fit(model: nn.Module, loss_fn: Callable, optimizer: torch.optim.Optimizer,
        train: tuple[torch.Tensor, torch.Tensor], *, epochs: int, batch_size: int | None = None,
        val: tuple[torch.Tensor, torch.Tensor] | None = None, callback: Callback | None = None,
        scheduler=None, scheduler_step: str = "epoch", generator: torch.Generator | None = None, start_epoch: int = 0,
        zero_grad: bool = True, shuffle_seed: int | None = None, score_train: bool = False,
        penalty: Callable[[nn.Module], torch.Tensor] | None = None,
        before_step: Callable[[nn.Module], dict | None] | None = None) -> FitResult:
    """Train `model` for `epochs` epochs on tensors `train = (x, y)` already on the device.

    Batches are drawn by index from a `randperm` (shuffled each epoch with `generator`);
    `batch_size=None` (or >= len(x)) means full-batch gradient descent, in data order.
    With `shuffle_seed`, epoch e is shuffled by a generator seeded with shuffle_seed + e instead:
    the order then depends on the epoch number alone, so training resumed from a checkpoint at
    epoch N sees exactly the batches an uninterrupted run would have seen.
    `zero_grad=False` lets gradients pile up across steps, the classic bug of a forgotten
    `optimizer.zero_grad()`: the regression page shows what it does.
    `penalty(model)` is added to each step's loss before `backward` (see the module docstring for
    what is reported).
    `scheduler_step` ("epoch" or "batch") says when `scheduler.step()` is called (module docstring).
    """
    if scheduler_step not in SCHEDULER_STEPS:
        raise ValueError(f"scheduler_step is 'epoch' or 'batch', not {scheduler_step!r}")
    if _plateau(scheduler) and (val is None or scheduler_step != "epoch"):
        raise ValueError("ReduceLROnPlateau is stepped once per epoch with the validation loss: pass val")
    per_batch = scheduler is not None and scheduler_step == "batch"
    emit = callback or (lambda event: None)
    x, y = train
    n = len(x)
    full_batch = batch_size is None or batch_size >= n
    classification = _is_classification(y)
    result = FitResult(outcome="completed")
    step = 0
    try:
        for epoch in range(start_epoch, start_epoch + epochs):
            t0 = time.perf_counter()
            model.train()
            if full_batch:
                batches = [None]
            else:
                if shuffle_seed is not None:
                    generator = torch.Generator().manual_seed(shuffle_seed + epoch)
                order = torch.randperm(n, generator=generator).to(x.device)
                batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
            loss_sum, correct, penalty_sum = 0.0, 0, 0.0
            for idx in batches:
                xb, yb = (x, y) if idx is None else (x[idx], y[idx])
                if zero_grad:
                    optimizer.zero_grad()
                out = model(xb)
                loss = loss_fn(out, yb)
                loss_value = loss.item()  # a CPU-GPU sync point, needed to report and to check
                if penalty is not None:
                    extra = penalty(model)
                    penalty_value = extra.item()
                    loss = loss + extra
                if not math.isfinite(loss_value) or (penalty is not None and not math.isfinite(penalty_value)):
                    result.outcome = "diverged"
                    emit({"event": "diverged", "epoch": epoch, "step": step, "loss": loss_value})
                    return result
                loss.backward()
                read = before_step(model) if before_step is not None else None
                optimizer.step()
                lr = optimizer.param_groups[0]["lr"]  # the rate this step used: read before the scheduler moves it
                if per_batch:
                    scheduler.step()
                result.step_losses.append(loss_value)
                result.step_lrs.append(lr)
                loss_sum += loss_value * len(yb)
                event = {"event": "step", "epoch": epoch, "step": step, "loss": loss_value, "lr": lr, **(read or {})}
                if penalty is not None:
                    penalty_sum += penalty_value * len(yb)
                    event["penalty"] = penalty_value
                if classification:
                    hits = (out.detach().argmax(dim=1) == yb).sum()
                    correct = correct + hits  # a tensor: no CPU-GPU sync until the epoch ends
                    if callback is not None:
                        event["acc"] = hits.item() / len(yb)
                emit(event)
                step += 1
            record = {"event": "epoch", "epoch": epoch, "train_loss": loss_sum / n, "lr": lr}
            if classification:
                record["train_acc"] = int(correct) / n
            if penalty is not None:
                record["train_penalty"] = penalty_sum / n
            if score_train:  # one more pass over the training set, in eval mode, as the validation set's
                record["running_loss"] = record["train_loss"]
                if classification:
                    record["running_acc"] = record["train_acc"]
                for key, value in evaluate(model, loss_fn, train).items():
                    record[f"train_{key}"] = value
            if val is not None:
                for key, value in evaluate(model, loss_fn, val).items():
                    record[f"val_{key}"] = value
            if _plateau(scheduler):  # after the epoch's last optimizer.step(), fed what it watches
                scheduler.step(record["val_loss"])
            elif scheduler is not None and not per_batch:
                scheduler.step()
            record["seconds"] = time.perf_counter() - t0
            result.epochs.append(record)
            emit(record)
    except StopTraining:
        result.outcome = "stopped"
    return result
