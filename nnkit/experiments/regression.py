"""The Regression experiment: one variable (by hand and with nn.Linear), many variables, polynomial.

`task` picks which of the three runs; each has its own summary, its own settings (`SETTINGS`) and
its own exported script. The defaults are chosen so that every task shows its lesson as it opens:
the polynomial task's few points (n_points 20, 14 of them for training) make the validation
curve U-shaped, and the features' modest spread lets raw gradient descent train at lr 0.1 (a
guided experiment widens it until raw features diverge).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

import numpy as np
import torch

from nnkit import regression as R
from nnkit.experiments.base import Experiment, Guided, param
from nnkit.experiments.regression_export import export_code

DEGREES = range(1, 16)
SURFACE = 50  # the loss surface is drawn on a SURFACE x SURFACE grid


@dataclass(frozen=True)
class RegressionParams:
    texts: ClassVar[str] = "reg"  # the page words lr and n_points its own way (param.reg.<name>)
    task: str = param("linear", "choice", choices=("linear", "multiple", "polynomial"))
    n_points: int = param(20, "int", lo=10, hi=1000, step=10)
    noise: float = param(0.2, "float", lo=0.0, hi=3.0, step=0.05)
    lr: float = param(0.1, "float", lo=0.0001, hi=10.0, log=True)
    iterations: int = param(200, "int", lo=1, hi=5000, step=1)
    # one variable
    true_w: float = param(2.0, "float", lo=-5.0, hi=5.0, step=0.1)
    true_b: float = param(-1.0, "float", lo=-5.0, hi=5.0, step=0.1)
    init: str = param("zeros", "choice", choices=("zeros", "randn", "randn_w", "constant"))
    init_value: float = param(0.0, "float", lo=-10.0, hi=10.0, step=0.5)
    zero_grad: bool = param(True, "bool")
    # many variables
    true_weights: tuple = param((1.5, -2.0, 0.5), "floats", lo=-10.0, hi=10.0, min_len=2, max_len=10)
    spread: float = param(2.0, "float", lo=1.0, hi=100.0, step=1.0)
    standardize: bool = param(True, "bool")
    # polynomial
    truth: str = param("sine", "choice", choices=("cubic", "sine"))
    degree: int = param(3, "int", lo=1, hi=15, step=1)
    seed: int = param(0, "int", lo=0, hi=2**31 - 1, ui=False)


# The settings each task uses, besides task and seed (the polynomial task is fitted in closed form:
# no learning rate, no iterations).
SETTINGS = {
    "linear": ("n_points", "noise", "lr", "iterations", "true_w", "true_b", "init", "init_value", "zero_grad"),
    "multiple": ("n_points", "noise", "lr", "iterations", "true_weights", "true_b", "spread", "standardize"),
    "polynomial": ("n_points", "noise", "truth", "degree"),
}


def applies(p: RegressionParams) -> tuple[str, ...]:
    """The names of the settings that change what `p.task` computes (init_value only for "constant")."""
    return ("task",) + tuple(n for n in SETTINGS[p.task] if n != "init_value" or p.init == "constant") + ("seed",)


def run_linear(p: RegressionParams, callback: Callable[[dict], None] | None = None) -> dict:
    x, y = R.make_line(p.true_w, p.true_b, p.noise, p.n_points, p.seed)
    w0, b0 = R.initial_weights(p.init, p.init_value, p.seed)
    by_hand = R.train_by_hand(x, y, w0, b0, p.lr, p.iterations, p.zero_grad, callback)
    packaged = R.train_linear(x, y, w0, b0, p.lr, p.iterations, p.zero_grad, callback)
    best_w, best_b = R.least_squares(x, y).tolist()
    finite = [v for v in by_hand.w + [best_w, p.true_w] if np.isfinite(v) and abs(v) < 1e6]
    finite_b = [v for v in by_hand.b + [best_b, p.true_b] if np.isfinite(v) and abs(v) < 1e6]
    margin = 1.0
    surface = R.loss_surface(x, y, (min(finite) - margin, max(finite) + margin),
                             (min(finite_b) - margin, max(finite_b) + margin), SURFACE)
    return {"task": "linear", "x": x.flatten().numpy(), "y": y.flatten().numpy(), "init": (w0, b0),
            "by_hand": by_hand, "nn_linear": packaged, "least_squares": (best_w, best_b),
            "least_squares_mse": R.mse(x, y, torch.tensor([best_w, best_b], dtype=R.DTYPE)), "surface": surface,
            "stable_lr": R.stable_lr(x)}


def run_multiple(p: RegressionParams, callback: Callable[[dict], None] | None = None) -> dict:
    x, y = R.make_features(list(p.true_weights), p.true_b, p.noise, p.n_points, p.spread, p.seed)
    fits = {"raw": R.train_multi(x, y, p.lr, p.iterations, standardize=False, callback=callback),
            "standardized": R.train_multi(x, y, p.lr, p.iterations, standardize=True, callback=callback)}
    coef = R.least_squares(x, y)
    return {"task": "multiple", "true_weights": np.array(p.true_weights), "fits": fits,
            "least_squares": coef[:-1].numpy(), "least_squares_bias": float(coef[-1]),
            "scales": x.std(dim=0).numpy(),
            "stable_lr": {"raw": R.stable_lr(x), "standardized": R.stable_lr((x - x.mean(dim=0)) / x.std(dim=0))}}


def run_polynomial(p: RegressionParams) -> dict:
    train, val = R.make_curve(p.truth, p.noise, p.n_points, p.seed)
    coef = R.least_squares(R.powers(train[0], p.degree), train[1])
    grid = torch.linspace(-1, 1, 200, dtype=R.DTYPE)[:, None]
    fitted = R.powers(grid, p.degree) @ coef[:-1, None] + coef[-1]
    return {"task": "polynomial", "train": (train[0].flatten().numpy(), train[1].flatten().numpy()),
            "val": (val[0].flatten().numpy(), val[1].flatten().numpy()), "coef": coef.numpy(),
            "grid": grid.flatten().numpy(), "fitted": fitted.flatten().numpy(),
            "truth": R.truth(p.truth, grid).flatten().numpy(), "sweep": (sweep := R.sweep(train, val, DEGREES)),
            "labels": R.fit_labels(sweep)}


def run(p: RegressionParams, callback: Callable[[dict], None] | None = None) -> dict:
    """Everything the page shows for `p.task`; `callback` gets a "step" event per gradient step
    (2 x iterations for the linear and multiple tasks; the polynomial task is closed-form)."""
    if p.task == "linear":
        return run_linear(p, callback)
    if p.task == "multiple":
        return run_multiple(p, callback)
    return run_polynomial(p)


def _last(values: list[float]) -> float | None:
    return float(values[-1]) if values else None


def _first(values: list[float]) -> float | None:
    return float(values[0]) if values else None


def _finite(value: float, outcome: str) -> float | None:
    """A diverged run's parameters are meaningless (often inf or NaN, which JSON cannot carry)."""
    return None if outcome == "diverged" or value is None else float(value)


def summary(result: dict) -> dict:
    task = result["task"]
    if task == "linear":
        return {"task": task, "least_squares": {"w": result["least_squares"][0], "b": result["least_squares"][1],
                                                "mse": result["least_squares_mse"]},
                "stable_lr": result["stable_lr"],
                **{name: {"w": _finite(t.w[-1], t.outcome), "b": _finite(t.b[-1], t.outcome),
                          "first_loss": _first(t.loss), "final_loss": _last(t.loss), "outcome": t.outcome}
                   for name, t in (("by_hand", result["by_hand"]), ("nn_linear", result["nn_linear"]))}}
    if task == "multiple":
        return {"task": task, "true_weights": result["true_weights"].tolist(),
                "least_squares": result["least_squares"].tolist(), "stable_lr": result["stable_lr"],
                **{name: {"weights": None if f.outcome == "diverged" else f.weights.tolist(),
                          "bias": _finite(f.bias, f.outcome), "final_loss": _last(f.loss), "outcome": f.outcome}
                   for name, f in result["fits"].items()}}
    sweep = result["sweep"]
    return {"task": task, "coef": result["coef"].tolist(), "sweep": sweep, "labels": result["labels"],
            "best_degree": result["labels"]["best"]}


RUN_METRICS = ("loss", "loss_nn_linear", "w", "b", "loss_raw", "loss_standardized")  # what record's rows hold


def record(p: RegressionParams, result: dict):
    """A gradient-descent run as a run record (one row per step), or None for the closed-form
    polynomial fit, which trains nothing."""
    from nnkit.runs import RunRecord, settings_text

    if result["task"] == "linear":
        hand, packaged = result["by_hand"], result["nn_linear"]
        rows = [{"step": i, "loss": loss, "loss_nn_linear": packaged.loss[i] if i < len(packaged.loss) else None,
                 "w": hand.w[i], "b": hand.b[i]} for i, loss in enumerate(hand.loss)]
        best_w, best_b = result["least_squares"]
        final = {"w": _finite(hand.w[-1], hand.outcome), "b": _finite(hand.b[-1], hand.outcome),
                 "loss": _finite(_last(hand.loss), hand.outcome), "least_squares_w": best_w,
                 "least_squares_b": best_b,
                 "distance": _finite(np.hypot(hand.w[-1] - best_w, hand.b[-1] - best_b), hand.outcome)}
        return RunRecord("regression", settings_text(p, list(applies(p))), rows, final, hand.outcome, "step")
    if result["task"] == "multiple":
        fits = result["fits"]
        steps = max(len(f.loss) for f in fits.values())
        rows = [{"step": i, **{f"loss_{name}": f.loss[i] if i < len(f.loss) else None for name, f in fits.items()}}
                for i in range(steps)]
        final = {f"loss_{name}": _finite(_last(f.loss), f.outcome) for name, f in fits.items()}
        shown = fits["standardized" if p.standardize else "raw"]
        return RunRecord("regression", settings_text(p, list(applies(p))), rows, final, shown.outcome, "step")
    return None


def _val(s: dict, degree: int) -> float:
    return s["sweep"]["val_mse"][s["sweep"]["degree"].index(degree)]


def _best_val(s: dict) -> float:
    return min(s["sweep"]["val_mse"])


def _near_least_squares(fit: dict, s: dict, tol: float) -> bool:
    return fit["w"] is not None and abs(fit["w"] - s["least_squares"]["w"]) < tol


GUIDED = (
    # 0.01 is far below the stable limit (0.95 here): 200 small steps stop short of the answer (w 1.89, not 1.96)
    Guided("small_lr", {"task": "linear", "lr": 0.01},
           lambda s: s["stable_lr"] > 0.5 and s["by_hand"]["w"] < s["least_squares"]["w"] - 0.03),
    # between half the limit and the limit every step overshoots, yet the zig-zag shrinks onto the answer
    Guided("zigzag", {"task": "linear", "lr": 0.8},
           lambda s: s["stable_lr"] / 2 < 0.8 < s["stable_lr"] and _near_least_squares(s["by_hand"], s, 1e-6)),
    # just past the limit the error grows by a constant factor per step: the loss ends ~2e12 times its start
    Guided("too_large_lr", {"task": "linear", "lr": 1.0},
           lambda s: s["stable_lr"] < 0.97 and s["by_hand"]["final_loss"] > 1e6 * s["by_hand"]["first_loss"]),
    Guided("no_zero_grad", {"task": "linear", "zero_grad": False},
           lambda s: s["by_hand"]["outcome"] == "completed" and not _near_least_squares(s["by_hand"], s, 1.0)),
    # spread 10: the raw features' stable limit falls below 0.01, the standardized ones' stays near 0.5
    Guided("raw_diverges", {"task": "multiple", "spread": 10.0},
           lambda s: s["raw"]["outcome"] == "diverged" and s["stable_lr"]["raw"] < 0.1 < s["stable_lr"]["standardized"]
           and s["standardized"]["outcome"] == "completed"
           and np.allclose(s["standardized"]["weights"], s["least_squares"], atol=1e-6)),
    Guided("high_degree", {"task": "polynomial", "degree": 15},
           lambda s: _val(s, 15) > 1000 * _best_val(s) and s["sweep"]["train_mse"][-1] < 1e-6
           and 15 in s["labels"]["overfit"]),
)

EXPERIMENT = Experiment("regression", RegressionParams, run, summary, export_code, guided=GUIDED, record=record)
