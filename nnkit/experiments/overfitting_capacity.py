"""The Overfitting page's model-and-data sections: capacity sweeps, universal approximation, and
learning curves.

"capacity" trains one family of ReLU networks on a noisy toy 2-D set cut into train / validation /
test thirds, swept over width (one hidden layer) and over depth at a fixed width; the validation
loss picks the model and the test set scores it once, at the end. "approximation" fits a 1-D curve
with one hidden layer of k units. "data_size" trains a small and a large network on growing
training sets. Measured on the defaults (seeds 0-2, moons, 150 points, noise 0.3): the validation
loss falls from width 1 to a minimum at width 8-16 and rises after it, and at width 16 each added
layer lowered the training loss but left the validation loss above the one-layer network's (depth
did not help generalization on this task). The k-unit ReLU fit of sin(3x) depends on its seed: at
k = 12 validation MSE 0.013, 0.082, 0.099 for seeds 0-2.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from nnkit import overfitting as O
from nnkit.experiments.base import Guided, Section
from nnkit.experiments.overfitting_export import export_code

WIDTHS = (1, 2, 4, 8, 16, 32, 64, 128)  # the width sweep: one hidden layer
DEPTHS = (1, 2, 3, 4)  # the depth sweep: hidden layers of `depth_width` units
TRAIN_SIZES = (10, 20, 40, 80, 160)  # the learning curves' training-set sizes
MODELS = {"small": [2], "large": [64]}  # the learning curves' two networks
APPROX_POINTS = 80  # points on the 1-D curve, half of them for validation
GRID = 200  # the fitted curve is drawn at this many points


def training(p) -> dict:
    """fit's settings of the toy-set sections: ReLU networks trained by Adam."""
    return {"activation": "relu", "lr": p.lr, "epochs": p.epochs, "batch_size": p.batch_size, "seed": p.seed}


def run_capacity(p, callback: Callable[[dict], None] | None = None) -> dict:
    data = O.toy_split(p.dataset, p.n_points, p.noise, p.seed)
    width = O.sweep(data, [[w] for w in WIDTHS], callback, **training(p))
    depth = []
    if width[-1].outcome != "stopped":
        # depth 1 at depth_width is one of the width sweep's networks (same shape, same seed): reused
        shared = {w: t for w, t in zip(WIDTHS, width)}.get(p.depth_width)
        shapes = [[p.depth_width] * d for d in DEPTHS if shared is None or d > 1]
        depth = ([shared] if shared is not None else []) + O.sweep(data, shapes, callback, **training(p))
    candidates = width + depth
    result = {"section": "capacity", "data": data, "width": width, "depth": depth,
              "stopped": any(t.outcome == "stopped" for t in candidates)}
    if not result["stopped"]:
        chosen = candidates[O.best(candidates)]  # the validation set picks; the test set only scores
        result.update(chosen=chosen, test=O.score(chosen.model, data.part("test")))
    return result


def run_approximation(p, callback: Callable[[dict], None] | None = None) -> dict:
    data = O.curve_split(APPROX_POINTS, p.seed)
    net = O.train_one(data, [p.units], activation=p.activation, lr=p.approx_lr, epochs=p.approx_epochs,
                      batch_size=APPROX_POINTS, seed=p.seed, callback=callback)
    grid = torch.linspace(-2, 2, GRID)[:, None]
    with torch.no_grad():
        fitted = net.model(grid)[:, 0].numpy()
    return {"section": "approximation", "data": data, "net": net, "grid": grid[:, 0].numpy(), "fitted": fitted,
            "truth": O.target(grid)[:, 0].numpy(), "pieces": O.pieces(net.model, grid),
            "bias": float(net.model[2].bias.detach()[0]), "stopped": net.outcome == "stopped"}


def run_data_size(p, callback: Callable[[dict], None] | None = None) -> dict:
    # a pool large enough for the largest training set, with validation and test sets as large
    data = O.toy_split(p.dataset, 3 * max(TRAIN_SIZES), p.noise, p.seed)
    curves = {}
    for name, hidden in MODELS.items():
        curves[name] = O.learning_curve(data, list(TRAIN_SIZES), hidden, callback, **training(p))
        if curves[name][-1].outcome == "stopped":
            break
    return {"section": "data_size", "data": data, "curves": curves,
            "stopped": any(t.outcome == "stopped" for c in curves.values() for t in c)}


def final_losses(trained: list, key: str) -> list[float]:
    """Each network's last logged `key` (NaN for one stopped before its first epoch)."""
    return [float(t.history[-1][key]) if t.history else float("nan") for t in trained]


def _sweep_summary(trained: list, label: str, values: list[int]) -> dict:
    return {label: values[:len(trained)], "params": [t.params for t in trained],
            "train_loss": final_losses(trained, "train_loss"), "val_loss": final_losses(trained, "val_loss"),
            "val_acc": final_losses(trained, "val_acc")}


def summary_capacity(result: dict) -> dict:
    out = {"section": "capacity", "stopped": result["stopped"],
           "width": _sweep_summary(result["width"], "widths", list(WIDTHS)),
           "depth": _sweep_summary(result["depth"], "depths", list(DEPTHS))}
    if "chosen" in result:
        chosen = result["chosen"]
        out["chosen"] = {"hidden": chosen.hidden, "params": chosen.params, "val_loss": chosen.val_loss}
        out["test"] = {k: float(v) for k, v in result["test"].items()}
        out["best_width"] = WIDTHS[int(np.nanargmin(out["width"]["val_loss"]))]
        out["best_depth"] = DEPTHS[int(np.nanargmin(out["depth"]["val_loss"]))]
    return out


def summary_approximation(result: dict) -> dict:
    net = result["net"]
    return {"section": "approximation", "stopped": result["stopped"], "units": net.hidden[0], "params": net.params,
            "train_loss": net.train_loss, "val_loss": net.val_loss}


def summary_data_size(result: dict) -> dict:
    return {"section": "data_size", "stopped": result["stopped"], "sizes": list(TRAIN_SIZES),
            **{name: {"train_loss": final_losses(c, "train_loss"), "val_loss": final_losses(c, "val_loss")}
               for name, c in result["curves"].items()}}


def _u_shaped(sweep: dict) -> bool:
    """Underfit at the small end, lowest inside, overfit at the large end (training loss still falling)."""
    val, train = sweep["val_loss"], sweep["train_loss"]
    i = int(np.argmin(val))
    return 0 < i < len(val) - 1 and val[0] > 1.5 * val[i] and val[-1] > 1.2 * val[i] and train[-1] < train[i]


CAPACITY = Section(
    settings=("dataset", "n_points", "noise", "depth_width", "lr", "epochs", "batch_size"),
    run=run_capacity, summary=summary_capacity,
    shown=lambda result: result.get("chosen") or (result["width"] + result["depth"])[-1],
    epochs=lambda p: p.epochs * (len(WIDTHS) + len(DEPTHS) - (p.depth_width in WIDTHS)),
    export=export_code,
    guided=(
        # measured (seed 0): validation loss 0.693 at width 1, 0.187 at width 16, 0.244 at width 128
        Guided("u_curve", {"section": "capacity"}, lambda s: _u_shaped(s["width"])),
        # measured (seed 0, width 16): training loss 0.189, 0.049, 0.007, 0.002; validation 0.187, 0.285, 0.909, 0.559
        Guided("deeper", {"section": "capacity"},
               lambda s: s["depth"]["val_loss"][-1] > s["depth"]["val_loss"][0]
               and all(a > b for a, b in zip(s["depth"]["train_loss"], s["depth"]["train_loss"][1:]))),
    ))

APPROXIMATION = Section(
    settings=("units", "activation", "approx_lr", "approx_epochs"),
    run=run_approximation, summary=summary_approximation, shown=lambda result: result["net"],
    epochs=lambda p: p.approx_epochs, export=export_code,
    guided=(
        # measured (seed 0): validation loss 0.292 with one ReLU unit, 0.003 with 32
        Guided("many_units", {"section": "approximation", "units": 32}, lambda s: s["val_loss"] < 0.02),
    ))

DATA_SIZE = Section(
    settings=("dataset", "noise", "lr", "epochs", "batch_size"),
    run=run_data_size, summary=summary_data_size,
    # the large network on the largest training set
    shown=lambda result: [t for c in result["curves"].values() for t in c][-1],
    epochs=lambda p: p.epochs * len(TRAIN_SIZES) * len(MODELS), export=export_code,
    guided=(
        # measured (seed 0): the large network's gap 1.206 on 10 points, 0.083 on 160
        Guided("more_data", {"section": "data_size"},
               lambda s: (s["large"]["val_loss"][-1] - s["large"]["train_loss"][-1])
               < 0.5 * (s["large"]["val_loss"][0] - s["large"]["train_loss"][0])),
    ))
