"""The Schedulers page's training section: the same MLP (64 pixels -> 64 ReLU units -> 10 digits) on the
bundled 8x8 digits, trained once per chosen schedule from the same initial weights and the same batches,
the validation set scored after every epoch. Each schedule spans the run: CosineAnnealingLR's T_max is
the run's epochs, StepLR steps every third of it, MultiStepLR at half and three quarters, warm restarts
cycle from a third of it; the warm-up lasts `train_warmup` batches; OneCycle spans every batch;
ReduceLROnPlateau watches the real validation loss. "fixed" is no scheduler: the baseline.

Warm-up, measured (Adam at lr 0.3, batch 32, 10 epochs, seeds 0 / 1 / 2; validation accuracy, highest
batch loss): CosineAnnealingLR alone 0.446 / 0.265 / 0.589, 29.2 / 27.0 / 31.5 (the first steps blow the
loss up from 2.3 and the network never recovers); the same cosine after a one-epoch (36-batch) linear
warm-up from 1% of the rate 0.930 / 0.941 / 0.920, 2.4 / 2.6 / 3.5. In a per-batch cosine the same
(0.10-0.53 without, 0.93-0.98 with, seeds 0-4); at lr 0.2 warm-up still helps (0.59-0.93 -> 0.95-0.98),
at 0.5 both fail (0.10-0.39 -> 0.44-0.78). SGD with momentum showed no such window here.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

import torch
from torch import nn

from nnkit import schedules
from nnkit.classify import as_tensors
from nnkit.datasets.images import load, validation_split
from nnkit.device import seeded
from nnkit.experiments.base import Guided, ParamError, Section
from nnkit.models import mlp
from nnkit.train import fit

HIDDEN = [64]
VAL_FRACTION = 0.2
TRAIN_CHOICES = ("fixed",) + schedules.NAMES  # "fixed": no scheduler, the constant rate
OPTIMIZERS = ("sgd", "adam")
MOMENTUM = 0.9  # SGD's


def digits(seed: int) -> tuple[tuple, tuple]:
    """(train, val): the digits' training images split 80/20 (stratified, by the seed, as the
    Classification page splits them), as flat float pixels in [0, 1]."""
    data = load("digits")
    train, val = validation_split(data.train_y, VAL_FRACTION, seed)
    parts = [as_tensors(data.train_x[i], data.train_y[i], "cpu") for i in (train, val)]
    return tuple((x.flatten(1), y) for x, y in parts)


def network(seed: int) -> nn.Sequential:
    with seeded(seed):
        return mlp(64, HIDDEN, 10, "relu")


def optimizer_of(name: str, model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """torch.optim's own SGD (momentum 0.9) or Adam, unfused: the exported script builds the same."""
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    return torch.optim.Adam(model.parameters(), lr=lr)


def batches_per_epoch(n: int, batch_size: int) -> int:
    return math.ceil(n / batch_size)


def spanning(p, epochs: int, lr: float, warmup: int):
    """The page's schedule settings with every length taken from this run (module docstring)."""
    third = max(1, epochs // 3)
    return replace(p, lr=lr, t_max=epochs, step_size=third, t_0=third, warmup_steps=warmup,
                   milestones=tuple(dict.fromkeys(float(max(1, epochs * k // 4)) for k in (2, 3))))


def train_schedule(p, name: str, data: tuple, *, optimizer: str, lr: float, epochs: int, batch_size: int,
                   warmup: int, callback: Callable[[dict], None] | None = None):
    """One network from seed `p.seed` trained with schedule `name`: fit's result."""
    train, val = data
    model = network(p.seed)
    opt = optimizer_of(optimizer, model, lr)
    steps = schedules.steps_of(name, epochs, batches_per_epoch(len(train[0]), batch_size))
    scheduler = None if name == "fixed" else schedules.make(name, opt, spanning(p, epochs, lr, warmup), steps)
    when = "batch" if name in schedules.PER_BATCH else "epoch"
    return fit(model, nn.CrossEntropyLoss(), opt, train, epochs=epochs, batch_size=batch_size, val=val,
               callback=callback, scheduler=scheduler, scheduler_step=when, shuffle_seed=p.seed)


def finals(fitted) -> dict:
    """The numbers a schedule's row shows: its final validation scores, its rates, its worst batch."""
    last = fitted.final
    return {"outcome": fitted.outcome, "epochs": len(fitted.epochs),
            "val_loss": last.get("val_loss", math.nan), "val_accuracy": last.get("val_acc", math.nan),
            "train_loss": last.get("train_loss", math.nan),
            "max_batch_loss": max(fitted.step_losses) if fitted.step_losses else math.nan,
            "lr_first": fitted.step_lrs[0] if fitted.step_lrs else math.nan,
            "lr_max": max(fitted.step_lrs, default=math.nan), "lr_last": fitted.step_lrs[-1] if fitted.step_lrs
            else math.nan}


def record_of(p, names: list[str], settings_override: dict, fitted, **numbers):
    """A run record: one row per epoch (losses and the rate it trained with), its final scores and
    `numbers` (the rate and batch size of a run the settings alone do not name)."""
    from nnkit.runs import RunRecord, settings_text

    rows = [{"epoch": e["epoch"], "train_loss": e["train_loss"], "val_loss": e["val_loss"], "lr": e["lr"]}
            for e in fitted.epochs]
    last = fitted.final
    summary = {"val_loss": last["val_loss"], "val_accuracy": last["val_acc"], **numbers} if last else {}
    outcome = "diverged" if fitted.outcome == "diverged" else fitted.outcome
    return RunRecord("schedulers", {**settings_text(p, names), **settings_override}, rows, summary, outcome)


# --- the training section -------------------------------------------------------------------------

RUN = ("train_schedules", "train_optimizer", "train_lr", "train_epochs", "train_batch", "train_warmup")
# the schedules' lengths come from the run (`spanning`); the synthetic loss is the curves section's alone
NOT_READ = {"t_max", "step_size", "t_0", "milestones", "warmup_steps", "loss_noise"}
SHAPES = tuple(dict.fromkeys(n for names in schedules.READS.values() for n in names if n not in NOT_READ))


def reads(p) -> tuple[str, ...]:
    """The run's settings, then the shapes of the chosen schedules (their lengths come from the run)."""
    return RUN + tuple(dict.fromkeys(n for name in p.train_schedules if name != "fixed"
                                     for n in schedules.READS[name] if n not in NOT_READ))


def check(p) -> None:
    total = p.train_epochs * batches_per_epoch(len(digits(p.seed)[0][0]), p.train_batch)
    if "warmup_cosine" in p.train_schedules and p.train_warmup >= total:
        raise ParamError("outside", f"train_warmup: {p.train_warmup} is outside [1, {total - 1}]",
                         name="train_warmup", value=str(p.train_warmup), range=f"[1, {total - 1}]")


def run_training(p, callback: Callable[[dict], None] | None = None) -> dict:
    check(p)
    data = digits(p.seed)
    fitted = {}
    for name in p.train_schedules:
        fitted[name] = train_schedule(p, name, data, optimizer=p.train_optimizer, lr=p.train_lr,
                                      epochs=p.train_epochs, batch_size=p.train_batch, warmup=p.train_warmup,
                                      callback=callback)
        if fitted[name].outcome == "stopped":
            break
    return {"section": "training", "params": p, "fitted": fitted,
            "steps_per_epoch": batches_per_epoch(len(data[0][0]), p.train_batch),
            "stopped": any(f.outcome == "stopped" for f in fitted.values())}


def summary_training(result: dict) -> dict:
    return {"section": "training", "schedules": {name: finals(f) for name, f in result["fitted"].items()}}


def shown_training(result: dict) -> list:
    p = result["params"]
    names = [n for n in reads(p) if n != "train_schedules"]
    return [record_of(p, names, {"train_schedules": [name]}, f) for name, f in result["fitted"].items() if f.epochs]


def _warmup_holds(summary: dict) -> bool:
    # measured (seed 0): cosine alone 0.446 val. accuracy, highest batch loss 29.2; with warm-up 0.930 and 2.44
    s = summary["schedules"]
    return (s["warmup_cosine"]["val_accuracy"] > 0.9 and s["cosine"]["val_accuracy"] < 0.6
            and s["cosine"]["max_batch_loss"] > 5 * s["warmup_cosine"]["max_batch_loss"])


def export_training(p, lang: str = "en") -> str:
    from nnkit.experiments.schedulers_training_export import export_training as export

    return export(p, lang)


TRAINING = Section(
    settings=RUN + SHAPES,
    run=run_training, summary=summary_training, shown=shown_training,
    epochs=lambda p: p.train_epochs * len(p.train_schedules), export=export_training, reads=reads, check=check,
    guided=(Guided("warmup_rescue", {"section": "training", "train_schedules": "cosine,warmup_cosine",
                              "train_optimizer": "adam", "train_lr": 0.3, "train_warmup": 36}, _warmup_holds),))
