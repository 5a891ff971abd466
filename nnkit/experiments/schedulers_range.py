"""The Schedulers page's range test and batch-size sections, on the training section's digits and MLP.

"range_test": the LR range test (nnkit.lr_range) from a fresh network, then three networks from the same
initial weights trained at the rates it points to: the suggestion (a tenth of the rate at the smoothed
loss's minimum), the minimum's rate itself, and the rate where it blew up. Measured (SGD with momentum
0.9, batch 32, 1e-5 -> 10 in 100 batches, 5 epochs, seed 0): it blows up after 91 batches at 2.85; the
minimum is at 0.81, the suggestion 0.081; validation accuracy 0.962, 0.557 and 0.101 (chance).

"batch_size": the linear scaling rule (Goyal et al. 2017): multiply the batch by k, multiply the rate by k.
Three networks from the same weights, the same epochs: batch B at rate η, batch kB at η, batch kB at kη.
Measured (SGD momentum 0.9, 10 epochs, seed 0; validation loss): B 32 at 0.01: 0.243; 128 at 0.01:
1.545 (4x fewer steps, each no larger); 128 at 0.04: 0.256. With k = 8: 2.045 unscaled, 0.247 scaled.
"""

from __future__ import annotations

import math
from typing import Callable

from torch import nn

from nnkit.experiments.base import Guided, Section
from nnkit.experiments.schedulers_training import digits, finals, network, optimizer_of, record_of, train_schedule
from nnkit.lr_range import range_test

RATES = ("suggested", "minimum", "blow_up")  # the rates the range test points to (`rt_rates`: those trained)
BATCH_RUNS = ("base", "unscaled", "scaled")  # batch B at η, kB at η, kB at kη (`bs_runs`: those trained)


def _quiet(callback):
    """fit's events for a listener that counts epochs: the range test's passes are not the progress."""
    return None if callback is None else (lambda event: event["event"] != "epoch" and callback(event))


def run_range(p, callback: Callable[[dict], None] | None = None) -> dict:
    data = digits(p.seed)
    model = network(p.seed)
    test = range_test(model, nn.CrossEntropyLoss(), optimizer_of(p.rt_optimizer, model, p.rt_start_lr), data[0],
                      start_lr=p.rt_start_lr, end_lr=p.rt_end_lr, steps=p.rt_steps, batch_size=p.rt_batch,
                      shuffle_seed=p.seed, callback=_quiet(callback))
    result = {"section": "range_test", "params": p, "test": test, "fitted": {}, "rates": {}, "stopped": test.stopped}
    if test.stopped or not test.lrs:
        return result
    if callback is not None:
        callback({"event": "epoch"})  # the range test itself: one unit of progress
    best = test.lrs[test.best_index]
    result["rates"] = {"suggested": test.suggested_lr, "minimum": best, "blow_up": test.lrs[-1]}
    for name in (r for r in RATES if r in p.rt_rates):
        lr = result["rates"][name]
        fitted = train_schedule(p, "fixed", data, optimizer=p.rt_optimizer, lr=lr, epochs=p.rt_epochs,
                                batch_size=p.rt_batch, warmup=1, callback=callback)
        result["fitted"][name] = fitted
        if fitted.outcome == "stopped":
            result["stopped"] = True
            break
    return result


def summary_range(result: dict) -> dict:
    test = result["test"]
    return {"section": "range_test", "batches": len(test.lrs), "blew_up": test.blew_up,
            "suggested_lr": test.suggested_lr, "min_loss_lr": test.lrs[test.best_index] if test.lrs else math.nan,
            "last_lr": test.lrs[-1] if test.lrs else math.nan,
            "min_smoothed_loss": min(test.smoothed, default=math.nan),
            "trained": {name: {"lr": result["rates"][name], **finals(f)} for name, f in result["fitted"].items()}}


def shown_range(result: dict) -> list:
    p = result["params"]
    names = ["rt_optimizer", "rt_start_lr", "rt_end_lr", "rt_steps", "rt_batch", "rt_epochs"]
    return [record_of(p, names, {"rt_rates": [name]}, f, lr=result["rates"][name])
            for name, f in result["fitted"].items() if f.epochs]


def run_batch(p, callback: Callable[[dict], None] | None = None) -> dict:
    data = digits(p.seed)
    big = p.bs_base * p.bs_factor
    every = {"base": (p.bs_base, p.bs_lr), "unscaled": (big, p.bs_lr), "scaled": (big, p.bs_lr * p.bs_factor)}
    runs = {name: every[name] for name in BATCH_RUNS if name in p.bs_runs}
    result = {"section": "batch_size", "params": p, "runs": runs, "fitted": {}, "stopped": False}
    for name, (batch, lr) in runs.items():
        fitted = train_schedule(p, "fixed", data, optimizer="sgd", lr=lr, epochs=p.bs_epochs, batch_size=batch,
                                warmup=1, callback=callback)
        result["fitted"][name] = fitted
        if fitted.outcome == "stopped":
            result["stopped"] = True
            break
    return result


def summary_batch(result: dict) -> dict:
    return {"section": "batch_size",
            "runs": {name: {"batch_size": result["runs"][name][0], "lr": result["runs"][name][1],
                            "steps": len(f.step_losses), **finals(f)} for name, f in result["fitted"].items()}}


def shown_batch(result: dict) -> list:
    p = result["params"]
    names = ["bs_base", "bs_factor", "bs_lr", "bs_epochs"]
    made = []
    for name, f in result["fitted"].items():
        batch, lr = result["runs"][name]
        if f.epochs:
            made.append(record_of(p, names, {"bs_runs": [name]}, f, batch_size=batch, lr=lr))
    return made


def _export(section: str):
    def export(p, lang: str = "en") -> str:
        from nnkit.experiments import schedulers_training_export

        return getattr(schedulers_training_export, f"export_{section}")(p, lang)
    return export


def _suggestion_trains(summary: dict) -> bool:
    # measured (Adam, 1e-5 -> 10, seed 0): no blow-up before 10; suggestion 0.031 -> 0.976, minimum 0.31 -> 0.345
    trained = summary["trained"]
    return trained["suggested"]["val_accuracy"] > 0.95 and trained["minimum"]["val_accuracy"] < 0.6


def _rule_holds(summary: dict) -> bool:
    # measured (k = 8, seed 0; validation loss): 32 at 0.01: 0.243, 256 at 0.01: 2.045, 256 at 0.08: 0.247
    runs = summary["runs"]
    return (abs(runs["scaled"]["val_loss"] - runs["base"]["val_loss"]) < 0.1
            and runs["unscaled"]["val_loss"] > 4 * runs["base"]["val_loss"])


RANGE_TEST = Section(settings=("rt_optimizer", "rt_start_lr", "rt_end_lr", "rt_steps", "rt_batch", "rt_epochs",
                               "rt_rates"),
                     run=run_range, summary=summary_range, shown=shown_range,
                     epochs=lambda p: 1 + len(p.rt_rates) * p.rt_epochs, export=_export("range_test"),
                     guided=(Guided("range_adam", {"section": "range_test", "rt_optimizer": "adam"},
                                    _suggestion_trains),))
BATCH_SIZE = Section(settings=("bs_base", "bs_factor", "bs_lr", "bs_epochs", "bs_runs"), run=run_batch,
                     summary=summary_batch, shown=shown_batch, epochs=lambda p: len(p.bs_runs) * p.bs_epochs,
                     export=_export("batch_size"),
                     guided=(Guided("scaling_k8", {"section": "batch_size", "bs_factor": 8}, _rule_holds),))
