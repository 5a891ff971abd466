"""The Overfitting experiment: capacity sweeps, universal approximation, and learning curves.

`section` picks what runs. "capacity" trains one family of ReLU networks on a noisy toy 2-D set
cut into train / validation / test thirds, swept over width (one hidden layer) and over depth at a
fixed width; the validation loss picks the model and the test set scores it once, at the end.
"approximation" fits a 1-D curve with one hidden layer of k units. "data_size" trains a small and
a large network on growing training sets. Measured on the defaults (seeds 0-2, moons, 150 points,
noise 0.3): the validation loss falls from width 1 to a minimum at width 8-16 and rises after it,
and at width 16 each added layer lowered the training loss but left the validation loss above the
one-layer network's (depth did not help generalization on this task). The k-unit ReLU fit of
sin(3x) depends on its seed: at k = 12 validation MSE 0.013, 0.082, 0.099 for seeds 0-2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

import numpy as np
import torch

from nnkit import overfitting as O
from nnkit.datasets.toy2d import TOY2D_NAMES
from nnkit.experiments.base import Experiment, Guided, param
from nnkit.experiments.overfitting_export import export_code

SECTIONS = ("capacity", "approximation", "data_size")
WIDTHS = (1, 2, 4, 8, 16, 32, 64, 128)  # the width sweep: one hidden layer
DEPTHS = (1, 2, 3, 4)  # the depth sweep: hidden layers of `depth_width` units
TRAIN_SIZES = (10, 20, 40, 80, 160)  # the learning curves' training-set sizes
MODELS = {"small": [2], "large": [64]}  # the learning curves' two networks
APPROX_POINTS = 80  # points on the 1-D curve, half of them for validation
GRID = 200  # the fitted curve is drawn at this many points


@dataclass(frozen=True)
class OverfittingParams:
    texts: ClassVar[str] = "ovf"  # this page words its settings its own way (param.ovf.<name>)
    section: str = param("capacity", "choice", choices=SECTIONS)
    dataset: str = param("moons", "choice", choices=TOY2D_NAMES)
    n_points: int = param(150, "int", lo=30, hi=600, step=30)
    noise: float = param(0.3, "float", lo=0.0, hi=0.6, step=0.05)
    depth_width: int = param(16, "int", lo=2, hi=64, step=1)
    lr: float = param(0.01, "float", lo=0.0001, hi=1.0, log=True)
    epochs: int = param(300, "int", lo=10, hi=2000, step=10)
    batch_size: int = param(64, "int", lo=1, hi=512, step=1)
    # approximation
    units: int = param(12, "int", lo=1, hi=64, step=1)
    activation: str = param("relu", "choice", choices=("relu", "tanh", "sigmoid"))
    approx_lr: float = param(0.05, "float", lo=0.0001, hi=1.0, log=True)
    approx_epochs: int = param(1000, "int", lo=10, hi=5000, step=10)
    seed: int = param(0, "int", lo=0, hi=2**31 - 1, ui=False)


# The settings each section uses, besides section and seed.
SETTINGS = {
    "capacity": ("dataset", "n_points", "noise", "depth_width", "lr", "epochs", "batch_size"),
    "approximation": ("units", "activation", "approx_lr", "approx_epochs"),
    "data_size": ("dataset", "noise", "lr", "epochs", "batch_size"),
}


def applies(p: OverfittingParams) -> tuple[str, ...]:
    return ("section",) + SETTINGS[p.section] + ("seed",)


def epochs_total(p: OverfittingParams) -> int:
    """How many epochs a run of `p` trains: the page's progress bar counts them."""
    if p.section == "capacity":
        return p.epochs * (len(WIDTHS) + len(DEPTHS) - (p.depth_width in WIDTHS))
    if p.section == "approximation":
        return p.approx_epochs
    return p.epochs * len(TRAIN_SIZES) * len(MODELS)


def _training(p: OverfittingParams) -> dict:
    return {"activation": "relu", "lr": p.lr, "epochs": p.epochs, "batch_size": p.batch_size, "seed": p.seed}


def run_capacity(p: OverfittingParams, callback: Callable[[dict], None] | None = None) -> dict:
    data = O.toy_split(p.dataset, p.n_points, p.noise, p.seed)
    width = O.sweep(data, [[w] for w in WIDTHS], callback, **_training(p))
    depth = []
    if width[-1].outcome != "stopped":
        # depth 1 at depth_width is one of the width sweep's networks (same shape, same seed): reused
        shared = {w: t for w, t in zip(WIDTHS, width)}.get(p.depth_width)
        shapes = [[p.depth_width] * d for d in DEPTHS if shared is None or d > 1]
        depth = ([shared] if shared is not None else []) + O.sweep(data, shapes, callback, **_training(p))
    candidates = width + depth
    result = {"section": "capacity", "data": data, "width": width, "depth": depth,
              "stopped": any(t.outcome == "stopped" for t in candidates)}
    if not result["stopped"]:
        chosen = candidates[O.best(candidates)]  # the validation set picks; the test set only scores
        result.update(chosen=chosen, test=O.score(chosen.model, data.part("test")))
    return result


def run_approximation(p: OverfittingParams, callback: Callable[[dict], None] | None = None) -> dict:
    data = O.curve_split(APPROX_POINTS, p.seed)
    net = O.train_one(data, [p.units], activation=p.activation, lr=p.approx_lr, epochs=p.approx_epochs,
                      batch_size=APPROX_POINTS, seed=p.seed, callback=callback)
    grid = torch.linspace(-2, 2, GRID)[:, None]
    with torch.no_grad():
        fitted = net.model(grid)[:, 0].numpy()
    return {"section": "approximation", "data": data, "net": net, "grid": grid[:, 0].numpy(), "fitted": fitted,
            "truth": O.target(grid)[:, 0].numpy(), "pieces": O.pieces(net.model, grid),
            "bias": float(net.model[2].bias.detach()[0]), "stopped": net.outcome == "stopped"}


def run_data_size(p: OverfittingParams, callback: Callable[[dict], None] | None = None) -> dict:
    # a pool large enough for the largest training set, with validation and test sets as large
    data = O.toy_split(p.dataset, 3 * max(TRAIN_SIZES), p.noise, p.seed)
    curves = {}
    for name, hidden in MODELS.items():
        curves[name] = O.learning_curve(data, list(TRAIN_SIZES), hidden, callback, **_training(p))
        if curves[name][-1].outcome == "stopped":
            break
    return {"section": "data_size", "data": data, "curves": curves,
            "stopped": any(t.outcome == "stopped" for c in curves.values() for t in c)}


def run(p: OverfittingParams, callback: Callable[[dict], None] | None = None) -> dict:
    """Everything the page shows for `p.section`; `callback` gets fit's events, one "epoch" event
    per epoch of every network trained (`epochs_total(p)` in all)."""
    return {"capacity": run_capacity, "approximation": run_approximation, "data_size": run_data_size}[p.section](
        p, callback)


def _losses(trained: list, key: str) -> list[float]:
    return [float(t.history[-1][key]) if t.history else float("nan") for t in trained]


def _sweep_summary(trained: list, label: str, values: list[int]) -> dict:
    return {label: values[:len(trained)], "params": [t.params for t in trained],
            "train_loss": _losses(trained, "train_loss"), "val_loss": _losses(trained, "val_loss"),
            "val_acc": _losses(trained, "val_acc")}


def summary(result: dict) -> dict:
    section = result["section"]
    if section == "capacity":
        out = {"section": section, "stopped": result["stopped"],
               "width": _sweep_summary(result["width"], "widths", list(WIDTHS)),
               "depth": _sweep_summary(result["depth"], "depths", list(DEPTHS))}
        if "chosen" in result:
            chosen = result["chosen"]
            out["chosen"] = {"hidden": chosen.hidden, "params": chosen.params, "val_loss": chosen.val_loss}
            out["test"] = {k: float(v) for k, v in result["test"].items()}
            out["best_width"] = WIDTHS[int(np.nanargmin(out["width"]["val_loss"]))]
            out["best_depth"] = DEPTHS[int(np.nanargmin(out["depth"]["val_loss"]))]
        return out
    if section == "approximation":
        net = result["net"]
        return {"section": section, "stopped": result["stopped"], "units": net.hidden[0], "params": net.params,
                "train_loss": net.train_loss, "val_loss": net.val_loss}
    return {"section": section, "stopped": result["stopped"], "sizes": list(TRAIN_SIZES),
            **{name: {"train_loss": _losses(c, "train_loss"), "val_loss": _losses(c, "val_loss")}
               for name, c in result["curves"].items()}}


def _shown(result: dict):
    """The one network whose epochs a run record keeps: the chosen one, the fitted one, or the
    large network on the largest training set."""
    if result["section"] == "capacity":
        return result.get("chosen") or (result["width"] + result["depth"])[-1]
    if result["section"] == "approximation":
        return result["net"]
    return [t for c in result["curves"].values() for t in c][-1]


def record(p: OverfittingParams, result: dict):
    """The run as a run record: train and validation loss per epoch of the network it shows."""
    from nnkit.runs import RunRecord, settings_text

    shown = _shown(result)
    rows = [{"epoch": e["epoch"] + 1, "train_loss": e["train_loss"], "val_loss": e["val_loss"]}
            for e in shown.history]
    if not rows:
        return None
    final = {"train_loss": shown.train_loss, "val_loss": shown.val_loss, "params": shown.params}
    if "test" in result:
        final["test_loss"] = result["test"]["loss"]
    outcome = "stopped" if result["stopped"] else shown.outcome
    return RunRecord("overfitting", settings_text(p, list(applies(p))), rows, final, outcome, "epoch")


RUN_METRICS = ("train_loss", "val_loss")


def _u_shaped(sweep: dict) -> bool:
    """Underfit at the small end, lowest inside, overfit at the large end (training loss still falling)."""
    val, train = sweep["val_loss"], sweep["train_loss"]
    i = int(np.argmin(val))
    return 0 < i < len(val) - 1 and val[0] > 1.5 * val[i] and val[-1] > 1.2 * val[i] and train[-1] < train[i]


GUIDED = (
    # measured (seed 0): validation loss 0.693 at width 1, 0.187 at width 16, 0.244 at width 128
    Guided("u_curve", {"section": "capacity"}, lambda s: _u_shaped(s["width"])),
    # measured (seed 0, width 16): training loss 0.189, 0.049, 0.007, 0.002; validation 0.187, 0.285, 0.909, 0.559
    Guided("deeper", {"section": "capacity"},
           lambda s: s["depth"]["val_loss"][-1] > s["depth"]["val_loss"][0]
           and all(a > b for a, b in zip(s["depth"]["train_loss"], s["depth"]["train_loss"][1:]))),
    # measured (seed 0): validation loss 0.292 with one ReLU unit, 0.003 with 32
    Guided("one_unit", {"section": "approximation", "units": 1}, lambda s: s["val_loss"] > 0.2),
    Guided("many_units", {"section": "approximation", "units": 32}, lambda s: s["val_loss"] < 0.02),
    # measured (seed 0): the large network's gap 1.206 on 10 points, 0.083 on 160
    Guided("more_data", {"section": "data_size"},
           lambda s: (s["large"]["val_loss"][-1] - s["large"]["train_loss"][-1])
           < 0.5 * (s["large"]["val_loss"][0] - s["large"]["train_loss"][0])),
)

EXPERIMENT = Experiment("overfitting", OverfittingParams, run, summary, export_code, guided=GUIDED, record=record)
