"""Stochastic gradients from data: the two parameters (w, b) of a linear regression on a sampled
data set, trained by full-batch GD, by SGD on one sample at a time and by mini-batches of a chosen
size. The noise of a path comes from the samples each step sees, not from noise added to it."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from nnkit.experiments.base import Guided, Section, comments

TRUE_W, TRUE_B, NOISE = 2.0, -1.0, 1.0
METHODS = ("gd", "sgd", "minibatch")
NOISE_BATCHES = (1, 8, 32, 128)
FAR = 1e3  # |w| or |b| past this: the path has run away from data whose fit is near (2, −1)  # batch sizes whose gradient noise is measured at the start point


def sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n points y = 2x − 1 + N(0, 1), x ~ N(0, 1), from the seed."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return x, TRUE_W * x + TRUE_B + NOISE * rng.normal(size=n)


def loss(w, b, x: np.ndarray, y: np.ndarray):
    """Mean squared error of y ≈ w x + b (w and b may be grids)."""
    w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
    r = w[..., None] * x + b[..., None] - y
    return (r * r).mean(axis=-1)


def gradient(w: float, b: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(dL/dw, dL/db) of the mean squared error over these samples."""
    r = w * x + b - y
    return np.array([2 * (r * x).mean(), 2 * r.mean()])


def optimum(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The least-squares (w, b): the minimum of the full-batch loss."""
    w, b = np.linalg.lstsq(np.stack([x, np.ones_like(x)], 1), y, rcond=None)[0]
    return float(w), float(b)


def run_data(p, callback: Callable[[dict], None] | None = None) -> dict:
    x, y = sample(p.samples, p.seed)
    rng = np.random.default_rng(p.seed + 1)
    paths = {}
    for method in METHODS:
        size = {"gd": len(x), "sgd": 1, "minibatch": min(p.batch_size, len(x))}[method]
        w = np.array(p.start, dtype=float)
        points, losses, seconds, outcome = [tuple(w)], [float(loss(*w, x, y))], [], "finished"
        for _ in range(p.data_epochs):
            began = time.perf_counter()
            order = rng.permutation(len(x))  # a fresh random order every epoch
            for i in range(0, len(x), size):
                batch = order[i:i + size]
                with np.errstate(all="ignore"):
                    w = w - p.data_lr * gradient(w[0], w[1], x[batch], y[batch])
                if not np.abs(w).max() < FAR:  # too large a rate for one sample: it runs away (or overflows)
                    outcome = "diverged"
                    break
                points.append((float(w[0]), float(w[1])))
            seconds.append(time.perf_counter() - began)
            if callback is not None:
                callback({"event": "epoch", "method": method})  # the page's progress bar (and its Stop)
            if outcome == "diverged":
                break
            losses.append(float(loss(*w, x, y)))
        paths[method] = {"batch": size, "points": points, "losses": losses, "seconds": seconds, "outcome": outcome}
    start = np.array(p.start, dtype=float)
    full = gradient(*start, x, y)
    noise = {}
    for size in NOISE_BATCHES:  # how far a batch's gradient is from the full one, over 200 random batches
        draws = [gradient(*start, x[idx], y[idx]) - full
                 for idx in (rng.choice(len(x), min(size, len(x)), replace=False) for _ in range(200))]
        noise[size] = float(np.sqrt(np.mean([d @ d for d in draws])))
    return {"section": "data", "x": x, "y": y, "optimum": optimum(x, y), "paths": paths, "noise": noise,
            "stopped": False}


def summary_data(result: dict) -> dict:
    ow, ob = result["optimum"]
    return {"section": "data", "optimum": [ow, ob], "noise": {str(k): v for k, v in result["noise"].items()},
            "methods": {m: {"batch": path["batch"], "updates": len(path["points"]) - 1, "outcome": path["outcome"],
                            "final_loss": path["losses"][-1],
                            "distance": float(np.hypot(path["points"][-1][0] - ow, path["points"][-1][1] - ob)),
                            "path_length": float(np.sum(np.hypot(*np.diff(np.array(path["points"]), axis=0).T)))}
                        for m, path in result["paths"].items()}}


def shown_data(result: dict) -> list:
    return []  # three paths drawn whole in a blink: nothing for the run history


COMMENTS = {
    "en": {"settings": "NN Playground - Optimizers (stochastic gradients), exported with these settings:",
           "batch": "each step's gradient comes from one batch: the whole set (GD), one sample (SGD) or a mini-batch"},
    "zh": {"settings": "NN Playground - 优化器(随机梯度),导出时的设置:",
           "batch": "每一步的梯度来自一个批量:整个数据集(GD)、一个样本(SGD)或一个小批量"},
}

_SCRIPT = '''"""{c[settings]}
{settings}
"""
import numpy as np
import torch

rng = np.random.default_rng({seed})
x = rng.normal(size={n})
y = {w} * x + {b} + {noise} * rng.normal(size={n})
x, y = torch.tensor(x), torch.tensor(y)
order_rng = np.random.default_rng({seed} + 1)
for method, size in (("gd", {n}), ("sgd", 1), ("minibatch", {batch})):
    wb = torch.tensor({start!r}, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([wb], lr={lr!r})
    for epoch in range({epochs}):
        order = torch.as_tensor(order_rng.permutation({n}))
        for i in range(0, {n}, size):
            batch = order[i:i + size]  # {c[batch]}
            optimizer.zero_grad()
            torch.mean((wb[0] * x[batch] + wb[1] - y[batch]) ** 2).backward()
            optimizer.step()
    with torch.no_grad():
        print(f"{{method}}: final loss {{torch.mean((wb[0] * x + wb[1] - y) ** 2).item():.6g}}")
'''


def export_data(p, lang: str = "en") -> str:
    from nnkit.experiments.optimizers import applies
    from nnkit.runs import settings_text

    settings = "\n".join(f"    {k} = {v!r}" for k, v in settings_text(p, list(applies(p))).items())
    return _SCRIPT.format(c=comments(COMMENTS, lang), settings=settings, seed=p.seed, n=p.samples, w=TRUE_W,
                          b=TRUE_B, noise=NOISE, batch=min(p.batch_size, p.samples), start=tuple(p.start),
                          lr=p.data_lr, epochs=p.data_epochs)


GUIDED = (
    Guided("noisy_sgd", {"section": "data", "samples": 200, "batch_size": 32, "data_lr": 0.05, "data_epochs": 10},
           # the same epochs: SGD takes 200 times as many steps, each on one sample, and wanders around the optimum
           lambda s: s["methods"]["sgd"]["path_length"] > 3 * s["methods"]["gd"]["path_length"]
           and s["noise"]["1"] > 4 * s["noise"]["32"]),
)

DATA = Section(settings=("samples", "batch_size", "data_lr", "data_epochs", "start"), run=run_data,
               summary=summary_data, shown=shown_data, epochs=lambda p: len(METHODS) * p.data_epochs,
               export=export_data, guided=GUIDED)
