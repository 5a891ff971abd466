"""The Dropout page's comparison: what dropout buys on held-out data, and what it costs.

The same wide ReLU network (`width` units in each of `depth` hidden layers) is trained from the
same seed on the same small, noisy toy set, once per dropout rate in `rates`; the validation set
scores each after every epoch. Measured on the defaults (moons, 120 points, noise 0.35, 2 x 128
units, full batches, 500 epochs, seed 0): without dropout the training loss falls to 0.0001 while
the validation loss climbs to 0.745 (best 0.175); at p = 0.5 they end at 0.089 and 0.275 (best
0.157), while the training loss needs 17 epochs instead of 10 to fall below 0.25 and its running
average (measured with dropout on) moves 0.036 an epoch instead of 0.001.

The digits (a `subset` of the Overfitting page's seeded training images, its validation images and
the fixed test set; 64 pixels in, 10 classes out) are memorised too. Measured (150 images, 100
epochs, seeds 0 / 1 / 2): at lr 0.01, p = 0.5 moves the best validation epoch from 11 / 25 / 15 to
29 / 37 / 39 but the final gap (0.559 / 0.224 / 0.282 without) is not reliably narrower (0.474 /
0.272 / 0.441); at lr 0.001 it is (0.363 / 0.179 / 0.194 -> 0.260 / 0.154 / 0.162).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from nnkit import overfitting as O
from nnkit.classify import as_tensors
from nnkit.dropout import eval_output
from nnkit.experiments.base import Guided, Section
from nnkit.experiments.dropout_export import export_code
from nnkit.experiments.overfitting_validation import digit_parts
from nnkit.models import decision_region

REGION = 50  # decision regions are drawn on a REGION x REGION grid
SLOW_LOSS = 0.25  # "converged": the first epoch whose training loss (eval mode) falls below this


def hidden(p) -> list[int]:
    return [p.width] * p.depth


def digits(p) -> bool:
    return p.dataset == "digits"


def epochs_of(p) -> int:
    return p.digit_epochs if digits(p) else p.epochs


def training(p) -> dict:
    """fit's settings of the trained sections: ReLU networks trained by Adam."""
    return {"activation": "relu", "lr": p.lr, "epochs": epochs_of(p), "batch_size": p.batch_size, "seed": p.seed}


def digit_split(p) -> O.Split:
    """The Overfitting page's digits (nnkit.experiments.overfitting_validation.digit_parts: a `subset` of
    the training images, the validation and the test images) as one Split of flat [0, 1] pixels."""
    parts = digit_parts(p)
    xs, ys = zip(*(as_tensors(*parts[name], "cpu") for name in O.SETS))
    sizes = [len(y) for y in ys]
    return O.Split(torch.cat(xs).flatten(1), torch.cat(ys), dict(zip(O.SETS, torch.arange(sum(sizes)).split(sizes))))


def data_of(p) -> O.Split:
    return digit_split(p) if digits(p) else O.toy_split(p.dataset, p.n_points, p.noise, p.seed)


def region(model, data: O.Split) -> dict | None:
    """The decision regions over the plane; None for the digits (a digit is a point in 64 dimensions)."""
    if data.x.shape[1] != 2:
        return None
    return decision_region(lambda g: torch.softmax(eval_output(model, g), dim=1)[:, 1], data.x, size=REGION)


def run_compare(p, callback: Callable[[dict], None] | None = None) -> dict:
    data = data_of(p)
    trained = []
    for i, rate in enumerate(p.rates):
        tag = (lambda e, i=i: callback({**e, "model": i})) if callback else None
        trained.append(O.train_one(data, hidden(p), callback=tag, dropout=rate, **training(p)))
        if trained[-1].outcome == "stopped":
            break
    return {"section": "compare_rates", "data": data, "rates": list(p.rates[:len(trained)]), "trained": trained,
            "regions": [region(t.model, data) for t in trained],
            "stopped": any(t.outcome == "stopped" for t in trained)}


def first_below(losses: list[float], level: float) -> int | None:
    """The first epoch (counted from 1) whose loss is below `level`; None if none is."""
    return next((i + 1 for i, loss in enumerate(losses) if loss < level), None)


def roughness(losses: list[float]) -> float:
    """How noisy a loss curve is: the mean size of its epoch-to-epoch changes."""
    return float(np.mean(np.abs(np.diff(losses)))) if len(losses) > 1 else float("nan")


def per_network(net: O.Trained) -> dict:
    history = net.history
    if not history:
        return {k: float("nan") for k in ("train_loss", "val_loss", "val_acc", "gap", "best_val_loss",
                                         "running_roughness")} | {"best_epoch": None, "converged_epoch": None}
    val = [e["val_loss"] for e in history]
    best = int(np.nanargmin(val))
    return {"train_loss": net.train_loss, "val_loss": net.val_loss, "val_acc": history[-1]["val_acc"],
            "gap": net.val_loss - net.train_loss, "best_val_loss": val[best], "best_epoch": best + 1,
            "best_val_acc": history[best]["val_acc"],
            "converged_epoch": first_below([e["train_loss"] for e in history], SLOW_LOSS),
            "running_roughness": roughness([e["running_loss"] for e in history])}


def summary_compare(result: dict) -> dict:
    nets = [per_network(t) for t in result["trained"]]
    return {"section": "compare_rates", "stopped": result["stopped"], "rates": result["rates"],
            **{key: [n.get(key) for n in nets] for key in ("train_loss", "val_loss", "val_acc", "gap",
                                                          "best_val_loss", "best_epoch", "best_val_acc",
                                                          "converged_epoch", "running_roughness")}}


def _at(s: dict, rate: float, key: str):
    return s[key][s["rates"].index(rate)]


COMPARE = Section(
    settings=("dataset", "n_points", "noise", "subset", "width", "depth", "rates", "lr", "epochs", "digit_epochs",
              "batch_size"),
    run=run_compare, summary=summary_compare,
    shown=lambda result: list(zip(result["rates"], result["trained"])),
    epochs=lambda p: epochs_of(p) * len(p.rates), export=export_code,
    guided=(
        # measured (seed 0): gap 0.745 without dropout, 0.187 at 0.5; final validation loss 0.745, 0.275
        Guided("gap", {"section": "compare_rates", "rates": "0, 0.5"},
               lambda s: _at(s, 0.5, "gap") < 0.5 * _at(s, 0.0, "gap")
               and _at(s, 0.5, "val_loss") < _at(s, 0.0, "val_loss")),
        # measured (seed 0): training loss below 0.25 after 10 epochs without dropout, 17 at 0.5;
        # the running loss moves 0.001 an epoch without dropout, 0.036 at 0.5
        Guided("costs", {"section": "compare_rates", "rates": "0, 0.5"},
               lambda s: (_at(s, 0.5, "converged_epoch") or 10**9) > _at(s, 0.0, "converged_epoch")
               and _at(s, 0.5, "running_roughness") > _at(s, 0.0, "running_roughness")),
    ))
