"""Regression as "one neuron": data, training by hand and with nn.Linear, closed form, features.

Everything runs in float64 on the CPU: the tensors are tiny (a GPU would only add latency to
every step), and float64 lets the hand-written loop and nn.Linear agree to 1e-12.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from nnkit.device import seeded
from nnkit.train import StopTraining, fit

DTYPE = torch.float64
X_RANGE = 2.0  # one-variable inputs are uniform in [-2, 2]


def make_line(w: float, b: float, noise: float, n_points: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x uniform in [-2, 2], y = w x + b + noise * N(0, 1); shapes (n, 1)."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n_points, 1, generator=g, dtype=DTYPE) * 2 - 1) * X_RANGE
    y = w * x + b + noise * torch.randn(n_points, 1, generator=g, dtype=DTYPE)
    return x, y


def initial_weights(init: str, value: float, seed: int) -> tuple[float, float]:
    """(w0, b0): zeros, both drawn from N(0, 1) (seeded), w drawn and b = 0 (the course's choice),
    or the constant the learner typed."""
    if init == "zeros":
        return 0.0, 0.0
    g = torch.Generator().manual_seed(seed + 1)
    if init == "randn":
        w0, b0 = torch.randn(2, generator=g, dtype=DTYPE).tolist()
        return w0, b0
    if init == "randn_w":  # the course: w = torch.randn(1), b = torch.zeros(1)
        return torch.randn(1, generator=g, dtype=DTYPE).item(), 0.0
    return value, value


@dataclass
class Trace:
    """What one training run went through, step by step."""

    w: list[float] = field(default_factory=list)  # parameters before each step, then the final ones
    b: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)  # loss at each step
    outcome: str = "completed"  # or "diverged"


def train_by_hand(x, y, w0: float, b0: float, lr: float, iterations: int, zero_grad: bool = True,
                  callback: Callable[[dict], None] | None = None) -> Trace:
    """Gradient descent written out: requires_grad, backward, update under no_grad, zero the grads.

    `callback` gets a "step" event after each update, as `fit` sends them (and may stop the run by
    raising StopTraining: the trace so far is returned with outcome "stopped")."""
    w = torch.tensor([w0], dtype=DTYPE, requires_grad=True)
    b = torch.tensor([b0], dtype=DTYPE, requires_grad=True)
    trace = Trace()
    for step in range(iterations):
        trace.w.append(w.item())
        trace.b.append(b.item())
        loss = ((x * w + b - y) ** 2).mean()
        if not torch.isfinite(loss):
            trace.outcome = "diverged"
            return trace
        trace.loss.append(loss.item())
        loss.backward()
        with torch.no_grad():  # the update itself must not become part of the graph
            w -= lr * w.grad
            b -= lr * b.grad
        if zero_grad:  # otherwise the next backward() adds to these gradients
            w.grad.zero_()
            b.grad.zero_()
        if callback is not None:
            try:
                callback({"event": "step", "epoch": step, "step": step, "loss": trace.loss[-1], "lr": lr})
            except StopTraining:
                trace.outcome = "stopped"
                break
    trace.w.append(w.item())
    trace.b.append(b.item())
    return trace


def train_linear(x, y, w0: float, b0: float, lr: float, iterations: int, zero_grad: bool = True,
                 callback: Callable[[dict], None] | None = None) -> Trace:
    """The same, packaged: nn.Linear, MSELoss and torch.optim.SGD through nnkit's `fit`."""
    with seeded(None):  # its random initial values are overwritten below
        model = nn.Linear(1, 1, dtype=DTYPE)
    with torch.no_grad():
        model.weight.fill_(w0)
        model.bias.fill_(b0)
    trace = Trace()

    def record(event: dict) -> None:
        if event["event"] == "step":
            trace.loss.append(event["loss"])
            trace.w.append(model.weight.item())
            trace.b.append(model.bias.item())
        if callback is not None:
            callback(event)

    trace.w.append(w0)
    trace.b.append(b0)
    result = fit(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=lr), (x, y), epochs=iterations,
                 callback=record, zero_grad=zero_grad)
    trace.outcome = result.outcome
    return trace


def least_squares(features: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Closed-form least squares with an intercept: returns [weights..., bias]."""
    design = torch.cat([features, torch.ones(len(features), 1, dtype=features.dtype)], dim=1)
    return torch.linalg.lstsq(design, y).solution.flatten()


def mse(features: torch.Tensor, y: torch.Tensor, coef: torch.Tensor) -> float:
    return float(((features @ coef[:-1, None] + coef[-1] - y) ** 2).mean())


def stable_lr(features: torch.Tensor) -> float:
    """The largest learning rate at which full-batch gradient descent on the MSE still converges.

    The MSE of a linear model is a quadratic whose Hessian is 2 X^T X / n (X with a column of
    ones for the bias); a step lr along an eigenvector of eigenvalue h multiplies the error there
    by (1 - lr h), so every direction shrinks only while lr < 2 / h_max."""
    design = torch.cat([features, torch.ones(len(features), 1, dtype=features.dtype)], dim=1)
    hessian = 2 * design.T @ design / len(features)
    return float(2 / torch.linalg.eigvalsh(hessian).max())


def loss_surface(x, y, w_range: tuple[float, float], b_range: tuple[float, float], size: int = 50) -> dict:
    """MSE over a (w, b) grid: it is a quadratic, so its terms are computed once from the data."""
    xs, ys = x.flatten(), y.flatten()
    mx, my, mxx, mxy, myy = xs.mean(), ys.mean(), (xs * xs).mean(), (xs * ys).mean(), (ys * ys).mean()
    w, b = torch.meshgrid(torch.linspace(*w_range, size, dtype=DTYPE), torch.linspace(*b_range, size, dtype=DTYPE),
                          indexing="ij")
    loss = w * w * mxx + 2 * w * b * mx + b * b - 2 * w * mxy - 2 * b * my + myy
    return {"w": w.flatten().numpy(), "b": b.flatten().numpy(), "loss": loss.flatten().numpy()}


# --- many variables -----------------------------------------------------------------------------

def make_features(weights: list[float], bias: float, noise: float, n_points: int, spread: float, seed: int):
    """x_j ~ N(0, s_j^2) with scales s_j from 1 up to `spread`; y = x . weights + bias + noise."""
    g = torch.Generator().manual_seed(seed)
    n_features = len(weights)
    scales = torch.tensor([spread ** (j / max(n_features - 1, 1)) for j in range(n_features)], dtype=DTYPE)
    x = torch.randn(n_points, n_features, generator=g, dtype=DTYPE) * scales
    y = x @ torch.tensor(weights, dtype=DTYPE)[:, None] + bias + noise * torch.randn(n_points, 1, generator=g,
                                                                                      dtype=DTYPE)
    return x, y


@dataclass
class MultiFit:
    weights: np.ndarray  # in the units of the original features, whatever the training used
    bias: float
    loss: list[float]
    outcome: str


def train_multi(x, y, lr: float, iterations: int, standardize: bool,
                callback: Callable[[dict], None] | None = None) -> MultiFit:
    """nn.Linear + SGD from zeros; with `standardize`, on (x - mean) / std, mapped back afterwards."""
    mean, std = x.mean(dim=0), x.std(dim=0)
    std = torch.where(std > 0, std, torch.ones_like(std))  # a constant column stays as it is
    inputs = (x - mean) / std if standardize else x
    with seeded(None):  # its random initial values are overwritten below
        model = nn.Linear(x.shape[1], 1, dtype=DTYPE)
    nn.init.zeros_(model.weight), nn.init.zeros_(model.bias)
    result = fit(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=lr), (inputs, y), epochs=iterations,
                 callback=callback)
    w, b = model.weight.detach().flatten(), model.bias.item()
    if standardize:  # w_std * (x - mean) / std + b  ==  (w_std / std) * x + (b - sum(w_std * mean / std))
        w = w / std
        b = b - float((w * mean).sum())
    return MultiFit(w.numpy(), b, result.step_losses, result.outcome)


# --- polynomial ---------------------------------------------------------------------------------

def truth(name: str, x: torch.Tensor) -> torch.Tensor:
    if name == "sine":
        return torch.sin(torch.pi * x)
    if name == "cubic":
        return 2 * x**3 - x
    raise ValueError(f"unknown truth {name!r}")


def make_curve(name: str, noise: float, n_points: int, seed: int, val_share: float = 0.3):
    """x uniform in [-1, 1] (x^15 stays in range), y = truth(x) + noise; a seeded train/val split."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_points, 1, generator=g, dtype=DTYPE) * 2 - 1
    y = truth(name, x) + noise * torch.randn(n_points, 1, generator=g, dtype=DTYPE)
    n_val = max(1, int(round(n_points * val_share)))
    order = torch.randperm(n_points, generator=g)
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def powers(x: torch.Tensor, degree: int) -> torch.Tensor:
    """The features x, x^2, ..., x^degree: a polynomial is linear regression on these."""
    return torch.cat([x**k for k in range(1, degree + 1)], dim=1)


def sweep(train, val, degrees: range) -> dict:
    """Least-squares fit for each degree: training and validation MSE."""
    out = {"degree": [], "train_mse": [], "val_mse": []}
    for degree in degrees:
        coef = least_squares(powers(train[0], degree), train[1])
        out["degree"].append(degree)
        out["train_mse"].append(mse(powers(train[0], degree), train[1], coef))
        out["val_mse"].append(mse(powers(val[0], degree), val[1], coef))
    return out


CLEARLY_WORSE = 2.0  # a validation error this many times the lowest one is "clearly worse"


def fit_labels(sweep_: dict, factor: float = CLEARLY_WORSE) -> dict:
    """What the numbers of a degree sweep say: the degree with the lowest validation error, the
    degrees below it that underfit and those above it that overfit (validation error at least
    `factor` times the lowest). Either list may be empty: the ends of the sweep get a label only
    where their numbers earn it."""
    val = sweep_["val_mse"]
    best = int(np.argmin(val))
    worse = [i for i, v in enumerate(val) if v >= factor * val[best]]
    return {"best": sweep_["degree"][best],
            "underfit": [sweep_["degree"][i] for i in worse if i < best],
            "overfit": [sweep_["degree"][i] for i in worse if i > best]}


# --- a learner's own columns --------------------------------------------------------------------

def fit_columns(x: np.ndarray, y: np.ndarray, degree: int, lr: float, iterations: int,
                callback: Callable[[dict], None] | None = None) -> dict:
    """Fit y from the columns of x (or powers of a single column): nn.Linear + SGD on standardized
    features, beside the closed-form answer. Coefficients are returned in the original units.

    Also says when the weights are not determined, where the two methods may then show different
    weights that fit equally well: `constant` lists the columns of x with one value in every row,
    `rank` < `terms` means the other terms depend on each other (a column that is a combination of
    others, or a degree that reaches the number of different x values). R² is NaN for a constant y.
    """
    features = torch.as_tensor(x, dtype=DTYPE)
    if degree > 1:
        features = powers(features[:, :1], degree)
    target = torch.as_tensor(y, dtype=DTYPE).reshape(-1, 1)
    gd = train_multi(features, target, lr, iterations, standardize=True, callback=callback)
    coef = least_squares(features, target)
    predicted = features @ coef[:-1, None] + coef[-1]
    total = float(((target - target.mean()) ** 2).sum())
    r2 = 1 - float(((target - predicted) ** 2).sum()) / total if total > 0 else float("nan")
    varying = features[:, (features.amax(dim=0) > features.amin(dim=0))]
    centred = varying - varying.mean(dim=0)
    rank = int(torch.linalg.matrix_rank(centred / centred.std(dim=0))) if varying.shape[1] else 0
    constant = [int(j) for j in np.flatnonzero(np.ptp(np.asarray(x), axis=0) == 0)]
    return {"gd": gd, "least_squares": coef[:-1].numpy(), "least_squares_bias": float(coef[-1]), "r2": r2,
            "predicted": predicted.flatten().numpy(), "constant": constant, "rank": rank, "terms": varying.shape[1]}
